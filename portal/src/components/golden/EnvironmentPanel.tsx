import { Button, Group, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { GoldenPath } from '../../api/client.ts';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import type { ApplyRun } from '../../api/useApply.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { ApplyLog } from './ApplyLog.tsx';
import { DeleteEnvironmentModal } from './DeleteEnvironmentModal.tsx';
import { liveResources } from './liveResources.ts';
import { ResourceGraphLazy } from './ResourceGraphLazy.tsx';
import { ResourceTable } from './ResourceTable.tsx';
import { SETTLED_PHASES } from './status.ts';

interface Props {
  namespace: string;
  application: string;
  environment: GoldenPath['environments'][number];
  /** The apply of this environment, going on or finished, if any. */
  run: ApplyRun | null;
  /** Another apply of the application is going on. */
  busy: boolean;
  onPlan(): void;
  onDismissRun(): void;
  onDeleted(): void;
}

/** One environment: plan and apply, the live log, its resources as a table and as a graph. */
export function EnvironmentPanel({ namespace, application, environment, run, busy, onPlan, onDismissRun, onDeleted }: Props) {
  const api = useApi();
  const env = environment.name;
  const [deleting, setDeleting] = useState(false);
  // Reload when a resource settles during an apply and when the apply ends, keeping the table on screen.
  const settled = run ? run.events.filter((e) => SETTLED_PHASES.has(e.phase)).length : 0;
  const resources = useAsync(
    async (signal) => {
      const listedAt = Date.now();
      return { ...(await api.golden(namespace, application).resources(env, signal)), listedAt };
    },
    [api, namespace, application, env, settled, run?.running, run?.startedAt],
    { keepData: true },
  );
  const rows = useMemo(() => liveResources(resources.data?.items ?? [], resources.data?.listedAt ?? 0, run), [resources.data, run]);

  return (
    <Stack gap="lg" pt="md">
      <Group justify="space-between" align="center">
        <Text size="sm" c="dimmed">
          A <b>{environment.type}</b> environment
          {environment.status !== 'active' ? `, ${environment.status}` : ''}
          {environment.expiresAt ? `; expires ${new Date(environment.expiresAt).toLocaleString()}` : ''}.
        </Text>
        <Group gap="sm">
          <Button variant="subtle" color="red" onClick={() => setDeleting(true)} disabled={busy} aria-label={`Delete environment ${env}`}>
            Delete
          </Button>
          <Button variant="default" onClick={resources.reload} disabled={run?.running}>
            Refresh
          </Button>
          <Button onClick={onPlan} disabled={busy} aria-label={`Plan ${env}`}>
            Plan
          </Button>
        </Group>
      </Group>

      {run && <ApplyLog run={run} onDismiss={onDismissRun} />}

      <section aria-labelledby={`resources-${env}`}>
        <Title order={3} size="h5" id={`resources-${env}`} mb="xs">
          Resources
        </Title>
        {resources.status === 'loading' && <Loading label={`Loading the resources of ${env}`} />}
        {resources.status === 'error' && <ProblemAlert error={resources.error} title="The resources could not be loaded" onRetry={resources.reload} />}
        {resources.status === 'ok' &&
          (rows.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing is provisioned here yet. Plan, then apply, to provision what the application needs.
            </Text>
          ) : (
            <ResourceTable resources={rows} environment={env} />
          ))}
      </section>

      {resources.status === 'ok' && rows.length > 0 && (
        <section aria-labelledby={`graph-${env}`}>
          <Title order={3} size="h5" id={`graph-${env}`} mb="xs">
            Resource graph
          </Title>
          <ResourceGraphLazy resources={rows} environment={env} />
        </section>
      )}

      {deleting && (
        <DeleteEnvironmentModal
          namespace={namespace}
          application={application}
          environment={env}
          resources={resources.data?.items.length ?? 0}
          onClose={() => setDeleting(false)}
          onDeleted={() => {
            setDeleting(false);
            onDeleted();
          }}
        />
      )}
    </Stack>
  );
}
