import { Alert, Anchor, Button, Group, Stack, Text } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { useFleetApi } from '../api/fleet.ts';
import { useCan } from '../api/permissions.ts';
import { useAsync } from '../api/useAsync.ts';
import { fullTime } from '../components/deployments/format.ts';
import { ApplyPlanForm } from '../components/fleet/ApplyPlanForm.tsx';
import { KIND_LABEL } from '../components/fleet/format.ts';
import { PlanReview } from '../components/fleet/PlanReview.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';
import { Section } from '../components/Section.tsx';

/** A recorded upgrade plan for review, and applying it (platform.write) in waves. */
export function FleetPlanPage() {
  const { id = '' } = useParams();
  const fleet = useFleetApi();
  const can = useCan();
  const plan = useAsync((signal) => fleet.plan(id, signal), [fleet, id]);
  const p = plan.data;
  const title = p ? `Upgrade ${p.name} to ${p.version}` : 'Upgrade plan';
  return (
    <>
      <PageHeader
        title={title}
        crumbs={[{ label: 'Fleet', to: '/fleet' }]}
        description={p ? `${KIND_LABEL[p.kind]} ${p.name}: the plan made ${fullTime(p.createdAt)}. It changed nothing; applying it upgrades exactly what it shows.` : undefined}
      />
      {plan.status === 'loading' && <Loading label="Loading the plan" />}
      {plan.status === 'error' && <ProblemAlert error={plan.error} title="The plan could not be loaded" onRetry={plan.reload} />}
      {p && (
        <Stack gap="lg" data-testid="plan-review" data-plan={p.id}>
          <PlanReview plan={p} />
          <Section title="Apply">
            {p.upgrade ? (
              <Alert color="blue" variant="light" title="This plan was applied">
                <Anchor component={Link} to={`/fleet/upgrades/${p.upgrade}`}>
                  Follow its upgrade
                </Anchor>
                . A plan is applied once: make a new one to upgrade again.
              </Alert>
            ) : p.applications.length === 0 ? (
              <Text size="sm" c="dimmed">
                Nothing to apply: no application would be upgraded.
              </Text>
            ) : can('platform.write') ? (
              <ApplyPlanForm plan={p} />
            ) : (
              <Text size="sm" c="dimmed">
                Platform engineers start upgrades. Share this page with them: the plan stays as reviewed.
              </Text>
            )}
            <Group mt="md">
              <Button component={Link} to={`/fleet/plans/new?kind=${p.kind}&name=${encodeURIComponent(p.name)}&version=${encodeURIComponent(p.version)}`} variant="subtle" size="xs">
                Make a new plan
              </Button>
            </Group>
          </Section>
        </Stack>
      )}
    </>
  );
}
