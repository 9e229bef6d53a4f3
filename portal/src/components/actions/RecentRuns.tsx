import { ActionIcon, Code, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { Fragment, useState } from 'react';
import { isFinal, splitOutputLine } from '../../api/actionParams.ts';
import type { ActionRun } from '../../api/actions.ts';
import { showValue } from '../../api/inputs.ts';
import { ago, duration, fullTime, who } from '../deployments/format.ts';
import { RunOutput } from './RunOutput.tsx';
import { RunStatusBadge } from './RunStatusBadge.tsx';

/** The application's runs, newest first; each opens to its parameters (secrets masked), how it ended and its output. */
export function RecentRuns({ runs }: { runs: ActionRun[] }) {
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  if (runs.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="recent-runs-empty">
        No action was run on this application yet.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="recent-runs">
        <caption>
          <VisuallyHidden>Recent action runs of the application, newest first</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Action</Table.Th>
            <Table.Th scope="col">Environment</Table.Th>
            <Table.Th scope="col">By</Table.Th>
            <Table.Th scope="col">When</Table.Th>
            <Table.Th scope="col">Duration</Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Details</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {runs.map((r) => {
            const isOpen = open.has(r.id);
            const params = Object.entries(r.params);
            const label = `${r.title} in ${r.environment} at ${fullTime(r.createdAt)}`;
            return (
              <Fragment key={r.id}>
                <Table.Tr data-run={r.id} data-action={r.action} data-environment={r.environment} data-status={r.status}>
                  <Table.Td>
                    <RunStatusBadge status={r.status} />
                  </Table.Td>
                  <Table.Th scope="row" fw={400}>
                    <Text size="sm" fw={600}>
                      {r.title}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {r.action}
                    </Text>
                  </Table.Th>
                  <Table.Td>
                    <Text size="sm">{r.environment}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{who(r.createdBy)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" title={fullTime(r.createdAt)}>
                      {ago(r.createdAt)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{duration(r.durationMs)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group justify="flex-end">
                      <ActionIcon size="sm" variant="subtle" color={r.status === 'succeeded' ? 'gray' : isFinal(r.status) ? 'red' : 'blue'} onClick={() => toggle(r.id)} aria-expanded={isOpen} aria-label={`${isOpen ? 'Hide' : 'Show'} details of ${label}`}>
                        <span aria-hidden="true">{isOpen ? '▾' : '▸'}</span>
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                </Table.Tr>
                {isOpen && (
                  <Table.Tr data-details-of={r.id}>
                    <Table.Td colSpan={7}>
                      <Stack gap="xs">
                        <Text size="sm">
                          <b>Parameters:</b>{' '}
                          {params.length === 0 ? (
                            <Text span c="dimmed" size="sm">
                              none
                            </Text>
                          ) : (
                            params.map(([k, v], i) => (
                              <Fragment key={k}>
                                {i > 0 && ', '}
                                <Code>{k}</Code> = <Code>{showValue(v)}</Code>
                              </Fragment>
                            ))
                          )}
                        </Text>
                        {r.summary && (
                          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                            <b>Summary:</b> {r.summary}
                          </Text>
                        )}
                        {r.error && (
                          <Text size="sm" c="red.8" style={{ overflowWrap: 'anywhere' }}>
                            <b>Error:</b> {r.error}
                          </Text>
                        )}
                        <Text size="xs" c="dimmed">
                          From {r.source} · started {fullTime(r.startedAt ?? r.createdAt)}
                          {r.finishedAt ? ` · ended ${fullTime(r.finishedAt)}` : ''}
                        </Text>
                        <RunOutput
                          lines={r.output.map(splitOutputLine)}
                          label={`Output of ${label}`}
                          height={220}
                          empty={isFinal(r.status) ? 'The run wrote no output.' : 'The output is kept here once the run ended.'}
                        />
                      </Stack>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
