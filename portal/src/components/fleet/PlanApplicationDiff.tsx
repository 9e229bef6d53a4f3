import { Alert, Badge, Code, Group, List, Stack, Table, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import type { FleetPlanApplication, ResourceChange } from '../../api/fleet.ts';
import { showValue } from '../../api/inputs.ts';
import { PlanActionIcon } from '../golden/PlanActionIcon.tsx';
import { ACTIONS } from '../golden/status.ts';

const CHANGE_COLORS: Record<string, string> = { added: 'green', removed: 'red', changed: 'blue', upgraded: 'blue', kept: 'gray' };

function ChangeBadge({ change }: { change: string }) {
  return (
    <Badge size="xs" variant="light" color={CHANGE_COLORS[change] ?? 'gray'} radius="sm">
      {change}
    </Badge>
  );
}

function FromTo({ from, to, change }: { from: unknown; to: unknown; change: string }) {
  return (
    <Text size="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
      {change !== 'added' && (
        <Text span c="red.8" size="xs" ff="monospace">
          <del>{showValue(from)}</del>
        </Text>
      )}
      {change === 'changed' && ' '}
      {change !== 'removed' && (
        <Text span c="green.8" size="xs" ff="monospace">
          <ins style={{ textDecoration: 'none' }}>→ {showValue(to)}</ins>
        </Text>
      )}
    </Text>
  );
}

function Part({ title, testId, count, children }: { title: string; testId: string; count: number; children: ReactNode }) {
  return (
    <section data-testid={testId} data-count={count}>
      <Title order={4} size="h6" mb={4}>
        {title}
      </Title>
      {children}
    </section>
  );
}

const None = ({ children }: { children: ReactNode }) => (
  <Text size="xs" c="dimmed">
    {children}
  </Text>
);

/** "1 to create, 2 to update" of an application's resource changes. */
export function resourceSummary(resources: ResourceChange[]): string {
  const n = (a: ResourceChange['action']) => resources.filter((r) => r.action === a).length;
  return (['create', 'update', 'replace', 'delete'] as const)
    .filter((a) => n(a) > 0)
    .map((a) => `${n(a)} ${ACTIONS[a].verb}`)
    .join(', ');
}

/** What upgrading one application would change: inputs, workload, add-ons, resources per environment, actions; and warnings. */
export function PlanApplicationDiff({ app }: { app: FleetPlanApplication }) {
  const envs = [...new Set(app.resources.map((r) => r.environment))];
  return (
    <Stack gap="md" data-testid="plan-app-diff" data-application={app.name}>
      {app.warnings.length > 0 && (
        <Alert color="yellow" variant="light" title="Warnings" data-testid="plan-warnings">
          <List size="sm">
            {app.warnings.map((w) => (
              <List.Item key={w}>{w}</List.Item>
            ))}
          </List>
        </Alert>
      )}
      <Group gap="xs">
        <Text size="sm" fw={600}>
          Environments:
        </Text>
        {app.environments.length === 0 && <None>none</None>}
        {app.environments.map((e) => (
          <Badge key={e.name} size="sm" variant={e.released ? 'light' : 'outline'} color={e.released ? 'blue' : 'gray'} radius="sm" tt="none" title={e.released ? 'something is released there: it is redeployed and health-checked' : 'nothing released: only its resources change'}>
            {e.name}
            {e.released ? ' · redeployed' : ''}
          </Badge>
        ))}
      </Group>
      {app.customWorkload && (
        <Text size="xs" c="orange.8">
          This application brings its own workload: the template&apos;s workload changes do not reach it.
        </Text>
      )}

      <Part title="Inputs" testId="plan-inputs" count={app.inputs.length}>
        {app.inputs.length === 0 ? (
          <None>No input changes.</None>
        ) : (
          <Table fz="xs" withTableBorder verticalSpacing={4} horizontalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Input</Table.Th>
                <Table.Th scope="col">Change</Table.Th>
                <Table.Th scope="col">Value</Table.Th>
                <Table.Th scope="col">Required</Table.Th>
                <Table.Th scope="col">Default</Table.Th>
                <Table.Th scope="col">Why</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {app.inputs.map((i) => (
                <Table.Tr key={i.name} data-input={i.name} data-change={i.change}>
                  <Table.Td ff="monospace">{i.name}</Table.Td>
                  <Table.Td>
                    <ChangeBadge change={i.change} />
                  </Table.Td>
                  <Table.Td>
                    <FromTo from={i.from} to={i.to} change={i.change} />
                  </Table.Td>
                  <Table.Td>{i.required ? <Text span size="xs" fw={700} c="orange.8">required</Text> : 'no'}</Table.Td>
                  <Table.Td ff="monospace">{i.default === undefined ? '—' : showValue(i.default)}</Table.Td>
                  <Table.Td>{i.why}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Part>

      <Part title="Workload" testId="plan-workload" count={app.workload.length}>
        {app.workload.length === 0 ? (
          <None>The workload and the variables add-ons inject stay the same.</None>
        ) : (
          <Table fz="xs" withTableBorder verticalSpacing={4} horizontalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Path</Table.Th>
                <Table.Th scope="col">Change</Table.Th>
                <Table.Th scope="col">Value</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {app.workload.map((w) => (
                <Table.Tr key={w.path} data-path={w.path} data-change={w.change}>
                  <Table.Td ff="monospace">{w.path}</Table.Td>
                  <Table.Td>
                    <ChangeBadge change={w.change} />
                  </Table.Td>
                  <Table.Td>
                    <FromTo from={w.from} to={w.to} change={w.change} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Part>

      <Part title="Add-ons" testId="plan-addons" count={app.addons.length}>
        {app.addons.length === 0 ? (
          <None>No add-on changes.</None>
        ) : (
          <List size="xs" spacing={2}>
            {app.addons.map((a) => (
              <List.Item key={a.instance} data-instance={a.instance} data-change={a.change}>
                <Group gap={6}>
                  <Code fz="xs">{a.instance}</Code>
                  <Text size="xs">{a.addon}</Text>
                  <ChangeBadge change={a.change} />
                  <Text size="xs" ff="monospace">
                    {a.from ?? '—'} → {a.to ?? '—'}
                  </Text>
                  {a.change === 'kept' && <None>no longer declared by the template; left attached</None>}
                </Group>
              </List.Item>
            ))}
          </List>
        )}
      </Part>

      <Part title="Resources" testId="plan-resources" count={app.resources.length}>
        {app.resources.length === 0 ? (
          <None>No resource is created, changed or deleted.</None>
        ) : (
          <Stack gap="xs">
            {envs.map((env) => (
              <div key={env} data-environment={env}>
                <Text size="xs" fw={600} mb={2}>
                  {env}
                </Text>
                <Stack gap={4} component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
                  {app.resources
                    .filter((r) => r.environment === env)
                    .map((r) => (
                      <li key={`${r.environment}/${r.resource}`} data-resource={r.resource} data-action={r.action}>
                        <Group gap={8} wrap="nowrap" align="flex-start">
                          <PlanActionIcon action={r.action} />
                          <div style={{ minWidth: 0 }}>
                            <Group gap={6}>
                              <Text size="sm" fw={700}>
                                {r.resource}
                              </Text>
                              <Text size="sm" c={`${ACTIONS[r.action].color}.8`} fw={600}>
                                {ACTIONS[r.action].label}
                              </Text>
                              <Code fz="xs">{r.type}</Code>
                            </Group>
                            {r.reason && <Text size="xs">{r.reason}</Text>}
                            {r.changes.map((c) => (
                              <Text key={c.field} size="xs" ff="monospace">
                                {c.field}: <del style={{ color: 'var(--mantine-color-red-8)' }}>{showValue(c.from)}</del>{' '}
                                <ins style={{ color: 'var(--mantine-color-green-8)', textDecoration: 'none' }}>→ {showValue(c.to)}</ins>
                              </Text>
                            ))}
                          </div>
                        </Group>
                      </li>
                    ))}
                </Stack>
              </div>
            ))}
          </Stack>
        )}
      </Part>

      <Part title="Actions" testId="plan-actions" count={app.actions.added.length + app.actions.removed.length + app.actions.changed.length}>
        {app.actions.added.length + app.actions.removed.length + app.actions.changed.length === 0 ? (
          <None>The golden actions stay the same.</None>
        ) : (
          <Group gap="lg">
            {(
              [
                ['added', app.actions.added],
                ['removed', app.actions.removed],
                ['changed', app.actions.changed],
              ] as const
            )
              .filter(([, l]) => l.length > 0)
              .map(([change, list]) => (
                <Group key={change} gap={4} data-actions={change}>
                  <ChangeBadge change={change} />
                  {list.map((a) => (
                    <Code key={a} fz="xs">
                      {a}
                    </Code>
                  ))}
                </Group>
              ))}
          </Group>
        )}
      </Part>
    </Stack>
  );
}
