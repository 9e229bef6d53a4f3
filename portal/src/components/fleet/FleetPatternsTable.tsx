import { Anchor, Badge, Button, Table, Text, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import type { FleetPattern } from '../../api/fleet.ts';
import { KIND_LABEL } from './format.ts';

export const planLink = (p: Pick<FleetPattern, 'kind' | 'name'>) => `/fleet/plans/new?kind=${p.kind}&name=${encodeURIComponent(p.name)}`;

/** Every template and add-on: the latest version, applications and environments, how many are behind, pins; a row opens its details. */
export function FleetPatternsTable({ items, selected, onSelect, mayPlan }: { items: FleetPattern[]; selected: string | null; onSelect: (p: FleetPattern) => void; mayPlan: boolean }) {
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="fleet-patterns">
        <caption>
          <VisuallyHidden>Templates and add-ons with the versions their applications run</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Template or add-on</Table.Th>
            <Table.Th scope="col">Latest</Table.Th>
            <Table.Th scope="col" ta="right">
              Applications
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Environments
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Behind
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Pins
            </Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((p) => {
            const key = `${p.kind}:${p.name}`;
            const active = key === selected;
            return (
              <Table.Tr
                key={key}
                data-pattern={p.name}
                data-kind={p.kind}
                data-applications={p.applications}
                data-environments={p.environments}
                data-behind={p.behind}
                data-pins={p.pins.length}
                bg={active ? 'var(--mantine-primary-color-light)' : undefined}
                aria-selected={active}
              >
                <Table.Td>
                  <UnstyledButton onClick={() => onSelect(p)} aria-label={`Show ${p.name} (${KIND_LABEL[p.kind].toLowerCase()})`} aria-pressed={active}>
                    <Text fw={600} size="sm" span>
                      {p.title ?? p.name}
                    </Text>{' '}
                    <Badge size="xs" variant="light" color={p.kind === 'template' ? 'blue' : 'teal'} radius="sm">
                      {KIND_LABEL[p.kind]}
                    </Badge>
                    {p.title && p.title !== p.name && (
                      <Text size="xs" c="dimmed" ff="monospace">
                        {p.name}
                      </Text>
                    )}
                  </UnstyledButton>
                </Table.Td>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {p.latest ?? '—'}
                  </Text>
                </Table.Td>
                <Table.Td ta="right">{p.applications}</Table.Td>
                <Table.Td ta="right">{p.environments}</Table.Td>
                <Table.Td ta="right">
                  {p.behind > 0 ? (
                    <Text size="sm" c="orange.8" fw={600} span title={`${p.behind} applications (${p.behindEnvironments} environments) on an older version than ${p.latest ?? 'the latest'}`}>
                      {p.behind}
                      <Text span size="xs" c="dimmed" fw={400}>
                        {' '}
                        ({p.behindEnvironments} env)
                      </Text>
                    </Text>
                  ) : (
                    <Text size="sm" c="dimmed" span>
                      0
                    </Text>
                  )}
                </Table.Td>
                <Table.Td ta="right">{p.pins.length || <Text span c="dimmed" size="sm">0</Text>}</Table.Td>
                <Table.Td ta="right">
                  <Anchor component="button" size="sm" onClick={() => onSelect(p)} mr="md">
                    Applications
                  </Anchor>
                  {mayPlan && p.behind > 0 && (
                    <Button component={Link} to={planLink(p)} size="xs" variant="light">
                      Plan upgrade
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
