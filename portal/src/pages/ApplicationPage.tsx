import { useParams } from 'react-router';
import { ActionsSection } from '../components/actions/ActionsSection.tsx';
import { DeploymentsSection } from '../components/deployments/DeploymentsSection.tsx';
import { EntityDetails } from '../components/EntityDetails.tsx';
import { ApplicationFleetSection } from '../components/fleet/ApplicationFleetSection.tsx';
import { GoldenPathSection } from '../components/golden/GoldenPathSection.tsx';
import { DeliveryMetricsSection } from '../components/metrics/DeliveryMetricsSection.tsx';

/** An application; for one made from a template, also its golden path, environments and resources, its deployments, its golden actions and its delivery metrics. */
export function ApplicationPage() {
  const { namespace = 'default', name = '' } = useParams();
  return (
    <EntityDetails
      key={`${namespace}/${name}`}
      kind="application"
      namespace={namespace}
      name={name}
      extra={
        <>
          <GoldenPathSection namespace={namespace} name={name} />
          <DeploymentsSection namespace={namespace} name={name} />
          <ActionsSection namespace={namespace} name={name} />
          <DeliveryMetricsSection namespace={namespace} name={name} />
          <ApplicationFleetSection namespace={namespace} name={name} />
        </>
      }
    />
  );
}
