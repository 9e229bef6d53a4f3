import { Badge, Group, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { ActionView } from '../../api/actions.ts';
import { useActionsApi } from '../../api/actions.ts';
import { ApiError } from '../../api/client.ts';
import { useApi } from '../../api/session.tsx';
import { useCan } from '../../api/permissions.ts';
import { useAsync } from '../../api/useAsync.ts';
import { usePoll } from '../deployments/usePoll.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { Section } from '../Section.tsx';
import { ActionList } from './ActionList.tsx';
import { RecentRuns } from './RecentRuns.tsx';
import { RunActionModal } from './RunActionModal.tsx';
import { RunPanel } from './RunPanel.tsx';
import { useActionRun } from './useActionRun.ts';

/** How often the recent runs are polled (runs started elsewhere, by others or the CLI, show up). */
const RUNS_POLL_MS = 5000;

/**
 * The golden actions of an application made from a template: for the chosen environment, what its
 * template and add-ons offer (those not allowed there disabled, with where they are), a Run dialog with
 * the parameters as a generated form and a typed confirmation where asked, the run followed live
 * (output, Cancel, how it ended), and the application's recent runs. Nothing is shown for applications
 * Pave does not manage.
 */
export function ActionsSection({ namespace, name }: { namespace: string; name: string }) {
  const client = useApi();
  const api = useActionsApi(namespace, name);
  // The environments and their types (production asks for confirmation) come from the golden path; a 404 means Pave does not manage the application.
  const golden = useAsync(
    (signal) =>
      client
        .golden(namespace, name)
        .get(signal)
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        }),
    [client, namespace, name],
  );
  const managed = golden.status === 'ok' && golden.data !== null;
  const envs = golden.data?.environments ?? [];
  const [chosenEnv, setChosenEnv] = useState<string | null>(null);
  const env = envs.find((e) => e.name === chosenEnv) ?? envs[0] ?? null;
  const envName = env?.name ?? null;

  const actions = useAsync(async (signal) => (managed && envName ? api.list(envName, signal) : { items: [] }), [api, managed, envName]);
  const runs = usePoll((signal) => api.runs(null, signal), [api], RUNS_POLL_MS, managed);
  const follower = useActionRun(api, () => runs.reload());
  const [toRun, setToRun] = useState<ActionView | null>(null);
  // the owning team, to disable what the caller may not run (the server checks every run anyway)
  const owner = useAsync((signal) => client.getEntity('application', namespace, name, signal).then((e) => (e.owner?.startsWith('team:') ? e.owner : null)), [client, namespace, name]);
  const team = owner.data ?? null;
  const can = useCan();

  if (golden.status === 'loading' || (golden.status === 'ok' && golden.data === null)) return null;
  if (golden.status === 'error') {
    return (
      <Section title="Actions">
        <ProblemAlert error={golden.error} title="The actions could not be loaded" onRetry={golden.reload} />
      </Section>
    );
  }

  const runItems = runs.data?.items ?? [];
  return (
    <Section title="Actions">
      <Stack gap="lg" data-testid="actions-section">
        <Text size="sm" c="dimmed">
          Runbooks the platform team wrote for this application&apos;s template and add-ons: run them within the limits they set (environment types, role, confirmation, timeout).
        </Text>
        {follower.live && <RunPanel live={follower.live} onCancel={follower.cancel} onDismiss={follower.dismiss} />}

        {!env ? (
          <Text size="sm" c="dimmed">
            This application has no environments to run actions in.
          </Text>
        ) : (
          <div>
            <Group gap="xs" mb="md">
              <Text size="sm" fw={600} id="actions-env-label">
                Environment
              </Text>
              <SegmentedControl aria-labelledby="actions-env-label" size="xs" value={env.name} onChange={setChosenEnv} data={envs.map((e) => e.name)} data-testid="actions-env" />
              {env.type !== env.name && (
                <Badge size="sm" variant="light" color="gray" radius="sm" tt="none">
                  {env.type}
                </Badge>
              )}
              {env.type === 'production' && (
                <Text size="xs" c="orange.8">
                  Most actions ask you to type the environment&apos;s name here.
                </Text>
              )}
            </Group>
            <section aria-label={`Actions in ${env.name}`} data-environment={env.name}>
              {actions.status === 'loading' && <Loading label={`Loading the actions of ${env.name}`} />}
              {actions.status === 'error' && <ProblemAlert error={actions.error} title="The actions could not be loaded" onRetry={actions.reload} />}
              {actions.status === 'ok' && <ActionList actions={actions.data.items} environment={env} busy={follower.busy} onRun={setToRun} mayRun={can('action.run', { team, environmentType: env.type })} />}
            </section>
          </div>
        )}

        <section aria-labelledby="recent-runs-title">
          <Title order={3} size="h5" mb="xs" id="recent-runs-title">
            Recent runs
          </Title>
          {runs.data === null && runs.loading && <Loading label="Loading the recent runs" />}
          {runs.data === null && !runs.loading && runs.error !== null && <ProblemAlert error={runs.error} title="The recent runs could not be loaded" onRetry={runs.reload} />}
          {runs.data !== null && <RecentRuns runs={runItems} />}
        </section>
      </Stack>

      {toRun && env && (
        <RunActionModal
          api={api}
          action={toRun}
          environment={env}
          onClose={() => setToRun(null)}
          onStarted={(run) => {
            setToRun(null);
            follower.follow(run);
            runs.reload();
          }}
        />
      )}
    </Section>
  );
}
