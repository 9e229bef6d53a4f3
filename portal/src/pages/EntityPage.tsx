import { Navigate, useParams } from 'react-router';
import { entityPath, isKind } from '../api/refs.ts';
import { EntityDetails } from '../components/EntityDetails.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';

/** Users, systems, domains, APIs and resources; applications and teams have their own addresses. */
export function EntityPage() {
  const { kind, namespace = 'default', name = '' } = useParams();
  if (!isKind(kind)) return <NotFoundPage what={`"${kind ?? ''}" is not a kind of catalog entity.`} />;
  if (kind === 'application' || kind === 'team') return <Navigate to={entityPath(kind, namespace, name)} replace />;
  return <EntityDetails key={`${kind}/${namespace}/${name}`} kind={kind} namespace={namespace} name={name} />;
}
