import { useParams } from 'react-router';
import { EntityDetails } from '../components/EntityDetails.tsx';

export function ApplicationPage() {
  const { namespace = 'default', name = '' } = useParams();
  return <EntityDetails key={`${namespace}/${name}`} kind="application" namespace={namespace} name={name} />;
}
