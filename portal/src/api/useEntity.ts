import type { EntityKind } from './client.ts';
import { useApi } from './session.tsx';
import { useAsync } from './useAsync.ts';

/** One entity, with its relations, by kind, namespace and name. */
export function useEntity(kind: EntityKind, namespace: string, name: string) {
  const api = useApi();
  return useAsync((signal) => api.getEntity(kind, namespace, name, signal), [api, kind, namespace, name]);
}
