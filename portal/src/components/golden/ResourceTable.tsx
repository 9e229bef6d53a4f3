import { Code, Table, Text, VisuallyHidden } from '@mantine/core';
import type { LiveResource } from './liveResources.ts';
import { ResourceOutputs } from './ResourceOutputs.tsx';
import { ResourceStatusBadge } from './ResourceStatusBadge.tsx';

/** The resources of one environment: what, in which state, made by which definition, and their outputs. */
export function ResourceTable({ resources, environment }: { resources: LiveResource[]; environment: string }) {
  return (
    <Table.ScrollContainer minWidth={860}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="resources-table">
        <caption>
          <VisuallyHidden>Resources of the {environment} environment</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Type</Table.Th>
            <Table.Th scope="col">Class</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Outputs</Table.Th>
            <Table.Th scope="col">Definition</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {resources.map((r) => (
            <Table.Tr key={r.name} data-resource={r.name} data-status={r.status} style={{ verticalAlign: 'top' }}>
              <Table.Th scope="row" fw={600}>
                <Text size="sm" fw={600}>
                  {r.name}
                </Text>
                {r.origin && (
                  <Text size="xs" c="dimmed" title="what asked for it">
                    {r.origin}
                  </Text>
                )}
              </Table.Th>
              <Table.Td>
                <Code>{r.type}</Code>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{r.class || '—'}</Text>
              </Table.Td>
              <Table.Td>
                <ResourceStatusBadge status={r.status} />
                {r.attempts > 1 && (
                  <Text size="xs" c="dimmed" mt={2}>
                    {r.attempts} attempts
                  </Text>
                )}
              </Table.Td>
              <Table.Td maw={420}>
                <ResourceOutputs resource={r} />
                {r.error && (
                  <Text size="xs" c="red.8" mt={4} role="note" style={{ overflowWrap: 'anywhere' }} data-testid="resource-error">
                    <Text span fw={700} inherit>
                      {r.driver ? `${r.driver} driver: ` : 'Error: '}
                    </Text>
                    {r.error}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {r.definition ? (
                  <>
                    <Text size="sm" ff="monospace">
                      {r.definition}@{r.definitionVersion ?? '?'}
                    </Text>
                    {r.driver && (
                      <Text size="xs" c="dimmed">
                        driver {r.driver}
                      </Text>
                    )}
                  </>
                ) : (
                  <Text size="sm" c="dimmed">
                    —
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
