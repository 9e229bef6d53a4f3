import { Alert, Badge, Box, Code, Group, List, Stack, Table, Text } from '@mantine/core';
import type { PlanView } from '../../api/client.ts';
import { showValue } from '../../api/inputs.ts';
import { PlanActionIcon } from './PlanActionIcon.tsx';
import { ACTION_ORDER, ACTIONS } from './status.ts';

/** What applying would do, resource by resource, with the fields that change from → to. */
export function PlanDiff({ plan }: { plan: PlanView }) {
  const counts = ACTION_ORDER.map((a) => [a, plan.items.filter((i) => i.action === a).length] as const).filter(([, n]) => n > 0);
  const changes = plan.items.filter((i) => i.action !== 'noop').length;
  const order = new Map(plan.order.map((n, i) => [n, i]));
  const items = [...plan.items].sort((a, b) => (order.get(a.resource) ?? 999) - (order.get(b.resource) ?? 999));
  return (
    <Stack gap="md" data-testid="plan">
      {changes === 0 && plan.errors.length === 0 ? (
        <Alert color="green" variant="light" role="status" title="No changes">
          Every resource already matches the application; applying would change nothing.
        </Alert>
      ) : (
        <Group gap={6} role="status" aria-label="Plan summary">
          {counts.map(([a, n]) => (
            <Badge key={a} color={ACTIONS[a].color} variant={a === 'noop' ? 'outline' : 'light'} size="lg" radius="sm" tt="none">
              {n} {ACTIONS[a].verb}
            </Badge>
          ))}
        </Group>
      )}
      {plan.errors.length > 0 && (
        <Alert color="red" variant="light" title="Some resources cannot be provisioned as asked" role="alert">
          <List size="sm">
            {plan.errors.map((e) => (
              <List.Item key={e}>{e}</List.Item>
            ))}
          </List>
        </Alert>
      )}
      <Stack gap="xs" component="ol" aria-label="Planned changes, in the order they would be applied" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {items.map((i) => (
          <Box
            component="li"
            key={i.resource}
            p="sm"
            data-plan-resource={i.resource}
            data-action={i.action}
            style={{
              border: `1px solid var(--mantine-color-${ACTIONS[i.action].color}-${i.action === 'noop' ? 2 : 4})`,
              borderLeftWidth: 4,
              borderRadius: 'var(--mantine-radius-md)',
              opacity: i.action === 'noop' ? 0.8 : 1,
            }}
          >
            <Group gap="sm" wrap="nowrap" align="flex-start">
              <PlanActionIcon action={i.action} />
              <div style={{ minWidth: 0, flex: 1 }}>
                <Group gap={8} wrap="wrap">
                  <Text fw={700} size="sm">
                    {i.resource}
                  </Text>
                  <Text size="sm" c={`${ACTIONS[i.action].color}.8`} fw={600}>
                    {ACTIONS[i.action].label}
                  </Text>
                  <Code fz="xs">{i.type}</Code>
                  {i.class && (
                    <Text size="xs" c="dimmed">
                      class {i.class}
                    </Text>
                  )}
                </Group>
                {i.definition && (
                  <Text size="xs" c="dimmed" mt={2}>
                    via {i.definition}@{i.definitionVersion ?? '?'}
                    {i.driver ? ` (driver ${i.driver})` : ''}
                  </Text>
                )}
                {i.reason && (
                  <Text size="xs" mt={4}>
                    {i.reason}
                  </Text>
                )}
                {i.changes.length > 0 && (
                  <Table fz="xs" mt={6} withTableBorder verticalSpacing={4} horizontalSpacing="xs">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">Field</Table.Th>
                        <Table.Th scope="col">From</Table.Th>
                        <Table.Th scope="col">To</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {i.changes.map((c) => (
                        <Table.Tr key={c.field}>
                          <Table.Td ff="monospace">{c.field}</Table.Td>
                          <Table.Td c="red.8" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                            <del>{showValue(c.from)}</del>
                          </Table.Td>
                          <Table.Td c="green.8" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                            <ins style={{ textDecoration: 'none' }}>→ {showValue(c.to)}</ins>
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
                {i.error && (
                  <Text size="xs" c="red.8" mt={4} fw={600}>
                    {i.error}
                  </Text>
                )}
              </div>
            </Group>
          </Box>
        ))}
      </Stack>
      {items.length === 0 && (
        <Text size="sm" c="dimmed">
          This environment has no resources.
        </Text>
      )}
    </Stack>
  );
}
