import { Badge, Code, Table, Text, VisuallyHidden } from '@mantine/core';
import type { Build } from '../../api/deployments.ts';
import { ago, BUILD_STATUS_COLORS, duration, fullTime, shortDigest, who } from './format.ts';

function sourceOf(b: Build): string {
  const s = b.source;
  if (typeof s.path === 'string') return s.path;
  if (typeof s.git === 'object' && s.git !== null) {
    const g = s.git as { url?: unknown; ref?: unknown };
    return `${String(g.url)}#${String(g.ref ?? '')}`;
  }
  if (typeof s.archive === 'string') return s.archive;
  if (typeof s.image === 'string') return s.image;
  return b.origin;
}

/** Builds of the application, newest first. */
export function BuildsTable({ builds }: { builds: Build[] }) {
  if (builds.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No builds yet. Build the application from a folder on the server or a git repository.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="builds-table">
        <caption>
          <VisuallyHidden>Builds of the application</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Build</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Digest</Table.Th>
            <Table.Th scope="col">Processes</Table.Th>
            <Table.Th scope="col">Source</Table.Th>
            <Table.Th scope="col">By</Table.Th>
            <Table.Th scope="col">When</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {builds.map((b) => (
            <Table.Tr key={b.id} data-build={b.number} data-status={b.status} style={{ verticalAlign: 'top' }}>
              <Table.Th scope="row">#{b.number}</Table.Th>
              <Table.Td>
                <Badge size="sm" radius="sm" tt="none" color={BUILD_STATUS_COLORS[b.status] ?? 'gray'} variant={b.status === 'building' ? 'light' : 'filled'}>
                  {b.status}
                </Badge>
                {b.reused && (
                  <Badge size="sm" radius="sm" tt="none" color="teal" variant="outline" ml={4} title="the artifact of an earlier build of the same source was reused">
                    reused
                  </Badge>
                )}
                {b.error && (
                  <Text size="xs" c="red.8" mt={2} style={{ overflowWrap: 'anywhere' }}>
                    {b.error}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace" title={b.artifact?.digest ?? ''}>
                  {shortDigest(b.artifact?.digest)}
                </Text>
              </Table.Td>
              <Table.Td>
                {Object.entries(b.processes).map(([t, cmd]) => (
                  <Text key={t} size="xs">
                    <b>{t}</b>: <Code fz="xs">{cmd}</Code>
                  </Text>
                ))}
              </Table.Td>
              <Table.Td maw={280}>
                <Text size="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                  {sourceOf(b)}
                </Text>
                {b.detected.length > 0 && (
                  <Text size="xs" c="dimmed">
                    {b.detected.join(', ')}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{who(b.createdBy)}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={fullTime(b.createdAt)}>
                  {ago(b.createdAt)}
                </Text>
                {b.finishedAt && (
                  <Text size="xs" c="dimmed">
                    in {duration(new Date(b.finishedAt).getTime() - new Date(b.createdAt).getTime())}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
