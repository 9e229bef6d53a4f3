import type { Registry } from 'prom-client';
import { HealthSchema } from '../../contracts/common.ts';
import type { Store } from '../../store/db.ts';
import { defineRoute, type AnyRoute, type Route } from '../route.ts';
import { buildOpenApi } from '../openapi.ts';

export function systemRoutes(store: Store, metrics: Registry, docs: () => AnyRoute[], version: string): Route[] {
  let openapi: Record<string, unknown> | undefined;
  return [
    defineRoute({
      method: 'GET', url: '/healthz', operationId: 'health', summary: 'Liveness: the process serves requests', tag: 'system', auth: false,
      response: { status: 200, description: 'Alive', schema: HealthSchema },
      handler: () => ({ status: 'ok' as const }),
    }),
    defineRoute({
      method: 'GET', url: '/readyz', operationId: 'ready', summary: 'Readiness: the store answers', tag: 'system', auth: false,
      response: { status: 200, description: 'Ready (503 with status "unavailable" when the store does not answer)', schema: HealthSchema },
      handler: async ({ reply }) => {
        const ok = await store.ping();
        // set the status and return the body: calling reply.send() here would leave the status to the route (200)
        if (!ok) reply.status(503);
        return { status: ok ? ('ok' as const) : ('unavailable' as const), store: store.mode };
      },
    }),
    defineRoute({
      method: 'GET', url: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics of this server', tag: 'system',
      permission: { name: 'platform.read' },
      response: { status: 200, description: 'Prometheus text format', contentType: 'text/plain; version=0.0.4' },
      handler: () => metrics.metrics(),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/openapi.json', operationId: 'openapi', summary: 'This OpenAPI 3.1 document', tag: 'system',
      permission: 'authenticated',
      response: { status: 200, description: 'OpenAPI 3.1' },
      handler: () => (openapi ??= buildOpenApi(docs(), { version })),
    }),
  ];
}
