import { useParams } from 'react-router';
import { EntityDetails } from '../components/EntityDetails.tsx';

export function TeamPage() {
  const { namespace = 'default', name = '' } = useParams();
  return <EntityDetails key={`${namespace}/${name}`} kind="team" namespace={namespace} name={name} />;
}
