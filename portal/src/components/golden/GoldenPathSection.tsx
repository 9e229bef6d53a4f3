import { Badge, Button, Group, Stack, Tabs, Text, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import { useApply } from '../../api/useApply.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { Section } from '../Section.tsx';
import type { CreatedState } from '../templates/CreateApplicationForm.tsx';
import { AddAddOnModal } from './AddAddOnModal.tsx';
import { AddEnvironmentModal } from './AddEnvironmentModal.tsx';
import { AddOnTable } from './AddOnTable.tsx';
import { EnvironmentPanel } from './EnvironmentPanel.tsx';
import { GoldenPathSummary } from './GoldenPathSummary.tsx';
import { PlanModal } from './PlanModal.tsx';
import { RemoveAddOnModal } from './RemoveAddOnModal.tsx';

const ENV_COLORS: Record<string, string> = { development: 'cyan', staging: 'yellow', production: 'red', preview: 'grape' };

function isCreatedState(s: unknown): s is CreatedState {
  return typeof s === 'object' && s !== null && typeof (s as CreatedState).applyEnvironment === 'string';
}

/**
 * An application made from a template: its golden path, add-ons, and per environment (?env= in the URL)
 * its resources, plan and apply. Nothing is shown for applications Pave does not manage.
 */
export function GoldenPathSection({ namespace, name }: { namespace: string; name: string }) {
  const api = useApi();
  const golden = useAsync((signal) => api.golden(namespace, name).get(signal), [api, namespace, name], { keepData: true });
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const apply = useApply(namespace, name, () => golden.reload());
  const { start } = apply;
  const [planFor, setPlanFor] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [addingEnv, setAddingEnv] = useState(false);

  const environments = golden.data?.environments ?? [];
  const selected = environments.find((e) => e.name === params.get('env'))?.name ?? environments[0]?.name ?? null;
  const selectEnv = (env: string | null) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (env && env !== environments[0]?.name) n.set('env', env);
        else n.delete('env');
        return n;
      },
      { replace: true, state: location.state },
    );

  // Just created from a template: provision the first environment at once, once.
  const autoApplied = useRef(false);
  useEffect(() => {
    if (golden.status !== 'ok' || autoApplied.current || !isCreatedState(location.state)) return;
    const env = golden.data.environments.find((e) => e.name === (location.state as CreatedState).applyEnvironment) ?? golden.data.environments[0];
    autoApplied.current = true;
    navigate({ pathname: location.pathname, search: env && env.name !== golden.data.environments[0]?.name ? `?env=${encodeURIComponent(env.name)}` : '' }, { replace: true, state: null });
    if (env) start(env.name);
  }, [golden.status, golden.data, location.state, location.pathname, navigate, start]);

  // Most catalog applications have no golden path: show nothing until there is one to show.
  if (golden.status === 'loading') return null;
  if (golden.status === 'error') {
    // 404: the application is only in the catalog; Pave does not manage its resources.
    if (golden.error instanceof ApiError && golden.error.status === 404) return null;
    return (
      <Section title="Golden path">
        <ProblemAlert error={golden.error} title="The golden path could not be loaded" onRetry={golden.reload} />
      </Section>
    );
  }
  const g = golden.data;
  const running = apply.run?.running ?? false;
  const afterChange = () => {
    golden.reload();
    if (selected) setPlanFor(selected);
  };

  return (
    <>
      <Section title="Golden path">
        <Stack gap="lg">
          <GoldenPathSummary golden={g} />
          <div>
            <Group justify="space-between" mb="xs">
              <Title order={3} size="h5">
                Add-ons ({g.addons.length})
              </Title>
              <Button variant="light" size="xs" onClick={() => setAdding(true)} disabled={running}>
                Add add-on
              </Button>
            </Group>
            <AddOnTable addons={g.addons} onRemove={(a) => !running && setRemoving(a)} />
          </div>
        </Stack>
      </Section>

      <Section
        title="Environments"
        actions={
          <Button variant="light" size="xs" onClick={() => setAddingEnv(true)}>
            Add environment
          </Button>
        }
      >
        {environments.length === 0 || !selected ? (
          <Text size="sm" c="dimmed">
            This application has no environments.
          </Text>
        ) : (
          <Tabs value={selected} onChange={selectEnv} keepMounted={false}>
            <Tabs.List aria-label="Environments">
              {environments.map((e) => (
                <Tabs.Tab
                  key={e.name}
                  value={e.name}
                  rightSection={
                    e.type === e.name ? undefined : (
                      <Badge size="xs" variant="light" color={ENV_COLORS[e.type] ?? 'gray'} radius="sm" tt="none">
                        {e.type}
                      </Badge>
                    )
                  }
                >
                  {e.name}
                </Tabs.Tab>
              ))}
            </Tabs.List>
            {environments.map((e) => (
              <Tabs.Panel key={e.name} value={e.name}>
                <EnvironmentPanel
                  key={e.name}
                  namespace={namespace}
                  application={name}
                  environment={e}
                  run={apply.run?.environment === e.name ? apply.run : null}
                  busy={running}
                  onPlan={() => setPlanFor(e.name)}
                  onDismissRun={apply.dismiss}
                  onDeleted={() => {
                    if (apply.run?.environment === e.name) apply.dismiss();
                    selectEnv(null);
                    golden.reload();
                  }}
                />
              </Tabs.Panel>
            ))}
          </Tabs>
        )}
      </Section>

      {planFor && <PlanModal namespace={namespace} application={name} environment={planFor} onClose={() => setPlanFor(null)} onApply={apply.start} />}
      {adding && (
        <AddAddOnModal
          namespace={namespace}
          application={name}
          attached={g.addons.map((a) => a.name)}
          onClose={() => setAdding(false)}
          onAttached={() => {
            setAdding(false);
            afterChange();
          }}
        />
      )}
      {addingEnv && (
        <AddEnvironmentModal
          namespace={namespace}
          application={name}
          existing={environments.map((e) => e.name)}
          onClose={() => setAddingEnv(false)}
          onCreated={(_, env) => {
            setAddingEnv(false);
            golden.reload();
            selectEnv(env);
            setPlanFor(env);
          }}
        />
      )}
      {removing && (
        <RemoveAddOnModal
          namespace={namespace}
          application={name}
          addon={removing}
          onClose={() => setRemoving(null)}
          onRemoved={() => {
            setRemoving(null);
            afterChange();
          }}
        />
      )}
    </>
  );
}
