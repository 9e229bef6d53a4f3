import { lazy, Suspense } from 'react';
import type { Entity } from '../api/client.ts';
import { Loading } from './Loading.tsx';

// The graph library is the largest part of the portal; only entity pages load it.
const RelationGraph = lazy(() => import('./RelationGraph.tsx').then((m) => ({ default: m.RelationGraph })));

export function RelationGraphLazy({ entity }: { entity: Entity }) {
  return (
    <Suspense fallback={<Loading label="Loading the graph" />}>
      <RelationGraph entity={entity} />
    </Suspense>
  );
}
