import { ActionIcon, Badge, Button, Checkbox, Code, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { Fragment, useState } from 'react';
import type { Deployment } from '../../api/deployments.ts';
import { ago, DEPLOYMENT_STATUS_COLORS, duration, fullTime, RUNNING_COLORS, shortDigest, who } from './format.ts';

interface Props {
  environment: string;
  deployments: Deployment[];
  busy: boolean;
  onRelease(d: Deployment): void;
  /** Compare two deployments of this environment, older first. */
  onCompare(older: Deployment, newer: Deployment): void;
}

/** The deployments of one environment, newest first; failed ones open to their error and last log lines. */
export function DeploymentHistory({ environment, deployments, busy, onRelease, onCompare }: Props) {
  const [selected, setSelected] = useState<string[]>([]);
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  const live = selected.filter((id) => deployments.some((d) => d.id === id));
  const toggleSelect = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.filter((x) => deployments.some((d) => d.id === x)).slice(-1), id]));
  const toggleOpen = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const compare = () => {
    const pair = deployments.filter((d) => live.includes(d.id)).sort((a, b) => a.number - b.number);
    if (pair.length === 2) onCompare(pair[0]!, pair[1]!);
  };

  if (deployments.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        Nothing was deployed to {environment} yet.
      </Text>
    );
  }
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text size="xs" c="dimmed">
          Select two deployments to see what changed between them.
        </Text>
        <Button size="xs" variant="light" disabled={live.length !== 2} onClick={compare} data-testid="compare-deployments">
          Compare {live.length === 2 ? 'selected' : `(${live.length}/2)`}
        </Button>
      </Group>
      <Table.ScrollContainer minWidth={900}>
        <Table verticalSpacing="xs" highlightOnHover data-testid="deployments-history">
          <caption>
            <VisuallyHidden>Deployments of the {environment} environment, newest first</VisuallyHidden>
          </caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">
                <VisuallyHidden>Compare</VisuallyHidden>
              </Table.Th>
              <Table.Th scope="col">#</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Running</Table.Th>
              <Table.Th scope="col">Build</Table.Th>
              <Table.Th scope="col">Config</Table.Th>
              <Table.Th scope="col">By</Table.Th>
              <Table.Th scope="col">When</Table.Th>
              <Table.Th scope="col">Duration</Table.Th>
              <Table.Th scope="col">
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deployments.map((d) => {
              const expandable = d.status === 'failed' || d.error !== null || d.lastLogs.length > 0;
              const isOpen = open.has(d.id);
              return (
                <Fragment key={d.id}>
                  <Table.Tr data-deployment={d.number} data-status={d.status} data-running={d.running} data-released={d.released ? 'true' : 'false'} bg={d.released ? 'green.0' : undefined}>
                    <Table.Td>
                      <Checkbox size="xs" checked={live.includes(d.id)} onChange={() => toggleSelect(d.id)} aria-label={`Select deployment ${d.number} to compare`} />
                    </Table.Td>
                    <Table.Th scope="row">
                      <Group gap={6} wrap="nowrap">
                        <Text size="sm" fw={700}>
                          #{d.number}
                        </Text>
                        {d.released && (
                          <Badge size="xs" color="green" radius="sm" tt="none" data-testid="released-marker">
                            released
                          </Badge>
                        )}
                      </Group>
                      {d.promotedFrom && (
                        <Text size="xs" c="dimmed">
                          promoted from {d.promotedFrom}
                        </Text>
                      )}
                    </Table.Th>
                    <Table.Td>
                      <Badge size="sm" radius="sm" tt="none" color={DEPLOYMENT_STATUS_COLORS[d.status] ?? 'gray'} variant={d.status === 'starting' ? 'light' : 'filled'}>
                        {d.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Badge size="sm" radius="sm" tt="none" color={RUNNING_COLORS[d.running] ?? 'gray'} variant="light">
                        {d.running}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        #{d.build.number}{' '}
                        <Text span ff="monospace" size="xs" c="dimmed" title={d.build.digest ?? ''}>
                          {shortDigest(d.build.digest)}
                        </Text>
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">v{d.configVersion}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{who(d.createdBy)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" title={fullTime(d.createdAt)}>
                        {ago(d.createdAt)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{duration(d.durationMs)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap" justify="flex-end">
                        {d.status === 'healthy' && !d.released && (
                          <Button size="compact-xs" variant="light" disabled={busy} onClick={() => onRelease(d)} aria-label={`Release deployment ${d.number}`}>
                            Release
                          </Button>
                        )}
                        {expandable && (
                          <ActionIcon
                            size="sm"
                            variant="subtle"
                            color={d.status === 'failed' ? 'red' : 'gray'}
                            onClick={() => toggleOpen(d.id)}
                            aria-expanded={isOpen}
                            aria-label={`${isOpen ? 'Hide' : 'Show'} details of deployment ${d.number}`}
                          >
                            <span aria-hidden="true">{isOpen ? '▾' : '▸'}</span>
                          </ActionIcon>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                  {expandable && isOpen && (
                    <Table.Tr data-details-of={d.number}>
                      <Table.Td />
                      <Table.Td colSpan={9}>
                        {d.error && (
                          <Text size="sm" c="red.8" style={{ overflowWrap: 'anywhere' }}>
                            <b>Error:</b> {d.error}
                          </Text>
                        )}
                        {d.lastLogs.length > 0 && (
                          <>
                            <Text size="xs" c="dimmed" mt={4}>
                              Last log lines
                            </Text>
                            <Code block fz="xs" mah={240} style={{ overflow: 'auto' }}>
                              {d.lastLogs.join('\n')}
                            </Code>
                          </>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  )}
                </Fragment>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
