/**
 * The delivery metrics API (GET /api/v1/metrics/delivery): the report of an application, a team or
 * every application, for one environment type, over a period. Types come from src/contracts/metrics.ts.
 */
import { useMemo } from 'react';
import type { DeliveryApplication, DeliveryBucket, DeliveryPoint, DeliveryQuery, DeliveryReport } from '../../../../src/contracts/metrics.ts';
import { createSender } from '../../api/client.ts';
import { useSession } from '../../api/session.tsx';

export type { DeliveryApplication, DeliveryBucket, DeliveryPoint, DeliveryQuery, DeliveryReport };

export function createMetricsClient(opts: Parameters<typeof createSender>[0]) {
  const send = createSender(opts);
  return {
    delivery: async (q: DeliveryQuery, signal?: AbortSignal): Promise<DeliveryReport> =>
      (await send('/api/v1/metrics/delivery', { query: { ...q }, signal })).json() as Promise<DeliveryReport>,
  };
}

export type MetricsClient = ReturnType<typeof createMetricsClient>;

export function useMetricsApi(): MetricsClient {
  const { token, signOut } = useSession();
  return useMemo(() => createMetricsClient({ token, onUnauthorized: signOut }), [token, signOut]);
}
