import { Card } from '@mantine/core';
import { useSearchParams } from 'react-router';
import { useFleetApi } from '../api/fleet.ts';
import { useAsync } from '../api/useAsync.ts';
import { PlanForm } from '../components/fleet/PlanForm.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';

/** Plans an upgrade (?kind=template|addon&name=…&application=… prefill the form); the plan opens for review. */
export function FleetNewPlanPage() {
  const fleet = useFleetApi();
  const [params] = useSearchParams();
  const view = useAsync((signal) => fleet.view(signal), [fleet]);
  const kind = params.get('kind') === 'addon' ? 'addon' : 'template';
  return (
    <>
      <PageHeader
        title="Plan an upgrade"
        crumbs={[{ label: 'Fleet', to: '/fleet' }]}
        description="Choose a template or add-on, the version to move to and which of its applications. The plan shows per application what would change, and which applications are left out and why."
      />
      <Card withBorder padding="lg">
        {view.status === 'loading' && <Loading label="Loading the templates and add-ons" />}
        {view.status === 'error' && <ProblemAlert error={view.error} title="The fleet could not be loaded" onRetry={view.reload} />}
        {view.status === 'ok' && (
          <PlanForm patterns={view.data.items} initial={{ kind, name: params.get('name'), version: params.get('version'), applications: params.getAll('application') }} />
        )}
      </Card>
    </>
  );
}
