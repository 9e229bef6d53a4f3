import { Button, Code, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import type { GoldenPath } from '../../api/client.ts';
import { showValue } from '../../api/inputs.ts';

/** The add-ons attached to the application, each with its inputs and a Remove button. */
export function AddOnTable({ addons, onRemove }: { addons: GoldenPath['addons']; onRemove(name: string): void }) {
  if (addons.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No add-ons attached.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={520}>
      <Table verticalSpacing="xs" data-testid="addons-table">
        <caption>
          <VisuallyHidden>Attached add-ons</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Add-on</Table.Th>
            <Table.Th scope="col">Inputs</Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {addons.map((a) => (
            <Table.Tr key={a.name} data-addon={a.name}>
              <Table.Th scope="row">
                <Text size="sm" fw={600}>
                  {a.name}
                </Text>
              </Table.Th>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {a.addon}@{a.version}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {Object.entries(a.inputs).length === 0 ? (
                    <Text size="sm" c="dimmed">
                      —
                    </Text>
                  ) : (
                    Object.entries(a.inputs).map(([k, v]) => (
                      <Code key={k}>
                        {k} = {showValue(v)}
                      </Code>
                    ))
                  )}
                </Group>
              </Table.Td>
              <Table.Td ta="right">
                <Button variant="subtle" color="red" size="xs" onClick={() => onRemove(a.name)} aria-label={`Remove add-on ${a.name}`}>
                  Remove
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
