import { Alert, Box, Button, Group, List, Loader, Paper, Text, ThemeIcon, Timeline, Title } from '@mantine/core';
import { errorMessage } from '../../api/client.ts';
import type { ApplyRun } from '../../api/useApply.ts';
import { PHASE_COLORS } from './status.ts';

const ms = (n: number) => (n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);

/** The live log of an apply: one line per event as it streams in, then how it ended. */
export function ApplyLog({ run, onDismiss }: { run: ApplyRun; onDismiss(): void }) {
  const failed = run.result?.failed ?? [];
  return (
    <Paper withBorder p="md" radius="md" bg="gray.0" data-testid="apply-log">
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          {run.running && <Loader size="xs" aria-hidden="true" />}
          <Title order={3} size="h5">
            {run.running ? `Applying ${run.environment}…` : `Apply of ${run.environment}`}
          </Title>
        </Group>
        {!run.running && (
          <Button variant="subtle" size="xs" onClick={onDismiss}>
            Hide
          </Button>
        )}
      </Group>
      <Box role="log" aria-label={`Apply progress of ${run.environment}`} aria-live="polite">
        {run.events.length === 0 && run.running && (
          <Text size="sm" c="dimmed">
            Working out what to do…
          </Text>
        )}
        {run.events.length > 0 && (
          <Timeline bulletSize={18} lineWidth={2} active={run.events.length - 1}>
            {run.events.map((e, i) => (
              <Timeline.Item
                key={i}
                color={PHASE_COLORS[e.phase]}
                bullet={<ThemeIcon size={18} radius="xl" color={PHASE_COLORS[e.phase]} aria-hidden="true" />}
                title={
                  <Text size="sm" span>
                    <Text span fw={700} inherit>
                      {e.resource}
                    </Text>{' '}
                    <Text span c={`${PHASE_COLORS[e.phase]}.8`} fw={600} inherit data-phase={e.phase}>
                      {e.phase}
                    </Text>
                    {e.ms !== undefined && (
                      <Text span c="dimmed" size="xs" ml={6}>
                        in {ms(e.ms)}
                      </Text>
                    )}
                  </Text>
                }
              >
                {e.detail && (
                  <Text size="xs" c={e.phase === 'failed' ? 'red.8' : 'dimmed'} style={{ overflowWrap: 'anywhere' }}>
                    {e.detail}
                  </Text>
                )}
              </Timeline.Item>
            ))}
          </Timeline>
        )}
      </Box>
      {!run.running && run.result?.ok && (
        <Alert color="green" variant="light" mt="md" role="status" title="Applied">
          {run.environment} matches the application{run.result.events.length === 0 ? '; there was nothing to do' : ''}.
        </Alert>
      )}
      {!run.running && run.result && !run.result.ok && (
        <Alert color="red" variant="light" mt="md" role="alert" title="Some resources failed">
          <List size="sm">
            {failed.map((f) => (
              <List.Item key={f.resource}>
                <b>{f.resource}</b>: {f.error}
              </List.Item>
            ))}
          </List>
          <Text size="sm" mt="xs">
            Fix the cause and apply again: Pave retries what failed and leaves what is ready as it is.
          </Text>
        </Alert>
      )}
      {!run.running && run.error !== null && (
        <Alert color="red" variant="light" mt="md" role="alert" title="The apply did not finish">
          {errorMessage(run.error)}
        </Alert>
      )}
    </Paper>
  );
}
