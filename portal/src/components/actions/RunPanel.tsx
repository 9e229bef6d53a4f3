import { Alert, Box, Button, Group, Loader, Paper, Text, Title } from '@mantine/core';
import { isFinal } from '../../api/actionParams.ts';
import { duration } from '../deployments/format.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { RunOutput } from './RunOutput.tsx';
import { RunStatusBadge } from './RunStatusBadge.tsx';
import type { LiveRun } from './useActionRun.ts';

const ENDED_TITLES: Record<string, string> = { succeeded: 'succeeded', failed: 'failed', cancelled: 'was cancelled', 'timed-out': 'timed out' };

/** The run being followed: its status, its output as it is written, Cancel while it runs, then how it ended. */
export function RunPanel({ live, onCancel, onDismiss }: { live: LiveRun; onCancel(): void; onDismiss(): void }) {
  const { run } = live;
  const ended = isFinal(run.status);
  const title = `${run.title} in ${run.environment}`;
  return (
    <Paper withBorder p="md" radius="md" bg="gray.0" data-testid="action-run" data-run={run.id} data-action={run.action} data-status={run.status} data-settled={live.settled ? 'true' : 'false'}>
      <Group justify="space-between" mb="sm" wrap="nowrap">
        <Group gap="xs">
          {!ended && <Loader size="xs" aria-hidden="true" />}
          <Title order={3} size="h5">
            {ended ? title : `${title}…`}
          </Title>
          <RunStatusBadge status={run.status} />
          {ended && run.durationMs !== null && (
            <Text size="xs" c="dimmed">
              took {duration(run.durationMs)}
            </Text>
          )}
        </Group>
        <Group gap="xs">
          {!ended && (
            <Button size="xs" variant="light" color="red" onClick={onCancel} loading={live.cancelling} data-testid="cancel-run" aria-label={`Cancel ${title}`}>
              Cancel run
            </Button>
          )}
          {live.settled && (
            <Button variant="subtle" size="xs" onClick={onDismiss}>
              Hide
            </Button>
          )}
        </Group>
      </Group>
      {Object.keys(run.params).length > 0 && (
        <Text size="xs" c="dimmed" mb="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
          {Object.entries(run.params)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join('  ')}
        </Text>
      )}
      <RunOutput
        lines={live.lines}
        label={`Output of ${title}`}
        live
        empty={ended ? 'The run wrote no output.' : run.status === 'queued' ? 'Queued: waiting for the previous run of this action here to end…' : 'Waiting for output…'}
      />
      {live.error !== null && !ended && (
        <Text size="xs" c="orange.8" mt="xs">
          Lost touch with the run for a moment ({live.error instanceof Error ? live.error.message : String(live.error)}); retrying.
        </Text>
      )}
      {live.cancelError !== null && (
        <Box mt="sm">
          <ProblemAlert error={live.cancelError} title="The run was not cancelled" />
        </Box>
      )}
      {ended && (
        <Alert
          mt="md"
          color={run.status === 'succeeded' ? 'green' : run.status === 'cancelled' ? 'orange' : 'red'}
          variant="light"
          role={run.status === 'succeeded' ? 'status' : 'alert'}
          title={`${run.title} ${ENDED_TITLES[run.status] ?? run.status}`}
          data-testid="run-outcome"
          data-status={run.status}
        >
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            {run.status === 'succeeded' ? (run.summary ?? 'Done.') : (run.error ?? run.summary ?? 'No reason was given.')}
          </Text>
        </Alert>
      )}
    </Paper>
  );
}
