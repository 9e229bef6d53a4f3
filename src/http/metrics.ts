import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { registerPlatformMetrics } from '../metrics/instruments.ts';

/**
 * Prometheus metrics of this server: process metrics, HTTP requests by route and status, and the
 * platform's own work (provisioning, deployments, releases, action runs: src/metrics/instruments.ts).
 */
export function installMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pave_' });
  registerPlatformMetrics(registry);
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'pave_http_requests_total', help: 'HTTP requests by method, route and status', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'pave_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  return registry;
}
