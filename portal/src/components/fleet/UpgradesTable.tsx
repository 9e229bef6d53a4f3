import { Anchor, Center, Group, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import type { UpgradeSummary } from '../../api/fleet.ts';
import { ago, fullTime, who } from '../deployments/format.ts';
import { KIND_LABEL } from './format.ts';
import { UpgradeStatusBadge } from './UpgradeStatusBadge.tsx';

/** Upgrades, newest first: what moved to which version, how it is going or how it ended. */
export function UpgradesTable({ items }: { items: UpgradeSummary[] }) {
  if (items.length === 0) {
    return (
      <Center p="lg">
        <Text c="dimmed" size="sm" role="status">
          No upgrade has run yet. Plan one from a template or add-on that has applications behind.
        </Text>
      </Center>
    );
  }
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="fleet-upgrades">
        <caption>
          <VisuallyHidden>Upgrades, newest first</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Upgrade</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Applications</Table.Th>
            <Table.Th scope="col">Started by</Table.Th>
            <Table.Th scope="col">When</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((u) => (
            <Table.Tr key={u.id} data-upgrade={u.id} data-status={u.status}>
              <Table.Td>
                <Anchor component={Link} to={`/fleet/upgrades/${u.id}`} size="sm" fw={600}>
                  {u.name} → {u.version}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {KIND_LABEL[u.kind]} · {u.id.slice(0, 8)}
                </Text>
              </Table.Td>
              <Table.Td>
                <UpgradeStatusBadge status={u.status} size="sm" />
              </Table.Td>
              <Table.Td>
                <Group gap={8}>
                  <Text size="sm">
                    {u.counts.upgraded} of {u.counts.total} upgraded
                  </Text>
                  {u.counts.failed > 0 && (
                    <Text size="sm" c="red.8">
                      {u.counts.failed} failed
                    </Text>
                  )}
                  {u.counts.running > 0 && (
                    <Text size="sm" c="blue.8">
                      {u.counts.running} running
                    </Text>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{who(u.createdBy)}</Text>
              </Table.Td>
              <Table.Td>
                <Tooltip label={fullTime(u.createdAt)}>
                  <Text size="sm" component="time" dateTime={u.createdAt}>
                    {ago(u.createdAt)}
                  </Text>
                </Tooltip>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
