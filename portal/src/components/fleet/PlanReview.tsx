import { Accordion, Anchor, Badge, Center, Code, Group, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import type { FleetPlan, FleetSelector } from '../../api/fleet.ts';
import { who } from '../deployments/format.ts';
import { appPath, EXCLUSION_LABELS, plural } from './format.ts';
import { PlanApplicationDiff, resourceSummary } from './PlanApplicationDiff.tsx';

/** The selector in words: "teams team-a; environment types production". */
export function selectorText(s: FleetSelector): string {
  const parts: string[] = [];
  if (s.applications?.length) parts.push(`applications ${s.applications.join(', ')}`);
  if (s.versions?.length) parts.push(`from ${s.versions.join(', ')}`);
  if (s.teams?.length) parts.push(`teams ${s.teams.join(', ')}`);
  if (s.environmentTypes?.length) parts.push(`environment types ${s.environmentTypes.join(', ')}`);
  const labels = Object.entries(s.labels ?? {});
  if (labels.length) parts.push(`labels ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return parts.length ? parts.join('; ') : 'every application';
}

/** Up to this many applications open at once; more start folded. */
const OPEN = 5;

/**
 * A recorded plan for review: per application what the upgrade would change (each one a fold: inputs,
 * workload, add-ons, resources per environment, actions, warnings), and the selected applications left
 * out with the reason.
 */
export function PlanReview({ plan }: { plan: FleetPlan }) {
  return (
    <Stack gap="lg">
      <Group gap="xs" role="status" aria-label="Plan summary" data-testid="plan-summary">
        <Badge size="lg" color="blue" variant="light" radius="sm" tt="none" data-testid="plan-count-upgrade" data-value={plan.applications.length}>
          {plural(plan.applications.length, 'application')} to upgrade
        </Badge>
        <Badge size="lg" color={plan.excluded.length ? 'orange' : 'gray'} variant="light" radius="sm" tt="none" data-testid="plan-count-excluded" data-value={plan.excluded.length}>
          {plan.excluded.length} left out
        </Badge>
        <Badge size="lg" color="gray" variant="outline" radius="sm" tt="none" data-testid="plan-count-current" data-value={plan.upToDate}>
          {plan.upToDate} already on {plan.version}
        </Badge>
        <Text size="sm" c="dimmed">
          Selection: {selectorText(plan.selector)} · planned by {who(plan.createdBy)}
        </Text>
      </Group>

      <section aria-labelledby="plan-apps-title">
        <Title order={2} size="h4" mb="xs" id="plan-apps-title">
          What would change
        </Title>
        {plan.applications.length === 0 ? (
          <Center p="lg">
            <Text c="dimmed" size="sm" role="status">
              No application would be upgraded.
            </Text>
          </Center>
        ) : (
          <Accordion multiple variant="separated" defaultValue={plan.applications.slice(0, OPEN).map((a) => a.application)} data-testid="plan-applications">
            {plan.applications.map((a) => {
              const resources = resourceSummary(a.resources);
              return (
                <Accordion.Item key={a.application} value={a.application} data-application={a.name}>
                  <Accordion.Control>
                    <Group gap="sm" wrap="wrap">
                      <Text fw={700} size="sm">
                        {a.namespace === 'default' ? a.name : `${a.namespace}/${a.name}`}
                      </Text>
                      <Text size="sm" ff="monospace">
                        {a.from} → {a.to}
                      </Text>
                      {a.instances.length > 0 && (
                        <Text size="xs" c="dimmed">
                          {a.instances.join(', ')}
                        </Text>
                      )}
                      <Text size="xs" c="dimmed">
                        {a.team ? who(a.team) : 'no team'} · {plural(a.inputs.length, 'input change')} · {plural(a.workload.length, 'workload change')}
                        {resources ? ` · ${resources}` : ''}
                      </Text>
                      {a.warnings.length > 0 && (
                        <Badge size="xs" color="yellow" variant="light">
                          {plural(a.warnings.length, 'warning')}
                        </Badge>
                      )}
                    </Group>
                  </Accordion.Control>
                  <Accordion.Panel>
                    <Anchor component={Link} to={appPath(a.application)} size="xs">
                      Open {a.name}
                    </Anchor>
                    <PlanApplicationDiff app={a} />
                  </Accordion.Panel>
                </Accordion.Item>
              );
            })}
          </Accordion>
        )}
      </section>

      <section aria-labelledby="plan-excluded-title">
        <Title order={2} size="h4" mb="xs" id="plan-excluded-title">
          Left out
        </Title>
        {plan.excluded.length === 0 ? (
          <Text size="sm" c="dimmed">
            Every selected application can be upgraded automatically.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="xs" data-testid="plan-excluded">
              <caption>
                <VisuallyHidden>Applications left out of the plan, with the reason</VisuallyHidden>
              </caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Application</Table.Th>
                  <Table.Th scope="col">Team</Table.Th>
                  <Table.Th scope="col">On</Table.Th>
                  <Table.Th scope="col">Why</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {plan.excluded.map((e) => (
                  <Table.Tr key={e.application} data-application={e.name} data-code={e.code}>
                    <Table.Td>
                      <Anchor component={Link} to={appPath(e.application)} size="sm" fw={600}>
                        {e.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{e.team ? who(e.team) : '—'}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Code fz="xs">{e.from}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={8} wrap="nowrap" align="flex-start">
                        <Badge size="sm" variant="light" color={EXCLUSION_LABELS[e.code].color} radius="sm" style={{ flexShrink: 0 }}>
                          {EXCLUSION_LABELS[e.code].label}
                        </Badge>
                        <Text size="sm">{e.reason}</Text>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </section>
    </Stack>
  );
}
