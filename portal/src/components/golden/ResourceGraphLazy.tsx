import { lazy, Suspense } from 'react';
import { Loading } from '../Loading.tsx';
import type { LiveResource } from './liveResources.ts';

// The graph library is loaded only when a graph is drawn.
const ResourceGraph = lazy(() => import('./ResourceGraph.tsx').then((m) => ({ default: m.ResourceGraph })));

export function ResourceGraphLazy(props: { resources: LiveResource[]; environment: string }) {
  return (
    <Suspense fallback={<Loading label="Loading the graph" />}>
      <ResourceGraph {...props} />
    </Suspense>
  );
}
