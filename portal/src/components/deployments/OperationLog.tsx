import { Alert, Badge, Box, Button, Code, Group, Loader, Paper, ScrollArea, Text, Title } from '@mantine/core';
import { useEffect, useRef } from 'react';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { duration } from './format.ts';
import type { OperationRun } from './useOperation.ts';

const TAG_COLORS: Record<string, string> = {
  resources: 'grape',
  starting: 'blue',
  health: 'cyan',
  healthy: 'green',
  failed: 'red',
  'release-phase': 'violet',
  switching: 'blue',
  released: 'green',
  draining: 'orange',
  stderr: 'red',
  system: 'gray',
  stdout: 'gray',
};

/** The live progress of a build, deployment, release, rollback or promotion, then how it ended. */
export function OperationLog({ run, onDismiss }: { run: OperationRun; onDismiss(): void }) {
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const v = viewport.current;
    if (v) v.scrollTo({ top: v.scrollHeight });
  }, [run.lines.length]);
  return (
    <Paper withBorder p="md" radius="md" bg="gray.0" data-testid="operation-log" data-kind={run.kind} data-running={run.running ? 'true' : 'false'}>
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          {run.running && <Loader size="xs" aria-hidden="true" />}
          <Title order={3} size="h5">
            {run.running ? `${run.title}…` : run.title}
          </Title>
          {!run.running && run.finishedAt && (
            <Text size="xs" c="dimmed">
              took {duration(run.finishedAt - run.startedAt)}
            </Text>
          )}
        </Group>
        {!run.running && (
          <Button variant="subtle" size="xs" onClick={onDismiss}>
            Hide
          </Button>
        )}
      </Group>
      <ScrollArea.Autosize mah={260} viewportRef={viewport} type="auto">
        <Box role="log" aria-label={`Progress: ${run.title}`} aria-live="polite" ff="monospace" fz="xs" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {run.lines.length === 0 && run.running && (
            <Text size="sm" c="dimmed">
              Waiting for the server…
            </Text>
          )}
          {run.lines.map((l, i) => (
            <div key={i} data-tag={l.tag}>
              <Badge size="xs" radius="sm" variant="light" color={TAG_COLORS[l.tag] ?? 'gray'} tt="none" mr={6} w={96} style={{ verticalAlign: 'middle' }}>
                {l.tag}
              </Badge>
              {l.text}
            </div>
          ))}
        </Box>
      </ScrollArea.Autosize>
      {!run.running && run.outcome && (
        <Alert color={run.outcome.ok ? 'green' : 'red'} variant="light" mt="md" role={run.outcome.ok ? 'status' : 'alert'} title={run.outcome.title} data-testid="operation-outcome" data-ok={run.outcome.ok ? 'true' : 'false'}>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            {run.outcome.message}
          </Text>
          {run.outcome.details && run.outcome.details.length > 0 && (
            <Code block mt="xs" fz="xs">
              {run.outcome.details.join('\n')}
            </Code>
          )}
        </Alert>
      )}
      {!run.running && run.error !== null && (
        <Box mt="md">
          <ProblemAlert error={run.error} title={`${run.title} did not succeed`} />
        </Box>
      )}
    </Paper>
  );
}
