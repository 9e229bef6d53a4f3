import type { ReactNode } from 'react';
import type { EntityKind } from '../api/client.ts';
import { ApiError } from '../api/client.ts';
import { KIND_LABELS } from '../api/refs.ts';
import { useEntity } from '../api/useEntity.ts';
import { NotFoundPage } from '../pages/NotFoundPage.tsx';
import { EntityView } from './EntityView.tsx';
import { Loading } from './Loading.tsx';
import { ProblemAlert } from './ProblemAlert.tsx';
import { TeamView } from './TeamView.tsx';

/** Loads an entity and shows its page; loading, not found and other errors included. `extra` goes on the page once the entity is loaded. */
export function EntityDetails({ kind, namespace, name, extra }: { kind: EntityKind; namespace: string; name: string; extra?: ReactNode }) {
  const entity = useEntity(kind, namespace, name);
  if (entity.status === 'loading') return <Loading label={`Loading ${KIND_LABELS[kind].one.toLowerCase()} ${name}`} />;
  if (entity.status === 'error') {
    if (entity.error instanceof ApiError && entity.error.status === 404) {
      return <NotFoundPage what={`There is no ${KIND_LABELS[kind].one.toLowerCase()} "${name}" in namespace "${namespace}". It may have been deleted or renamed.`} />;
    }
    return <ProblemAlert error={entity.error} title={`The ${KIND_LABELS[kind].one.toLowerCase()} could not be loaded`} onRetry={entity.reload} />;
  }
  return kind === 'team' ? <TeamView team={entity.data} /> : <EntityView entity={entity.data} extra={extra} />;
}
