import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Prometheus metrics of the platform's own work: how long provisioning takes per resource type, how
 * deployments, releases and action runs end. The domain modules record into them with the functions
 * below (counter and histogram updates only, never a query); `/metrics` (src/http/metrics.ts) exposes
 * them beside the request metrics, in the server's registry.
 *
 * They live once per process (not per registry), so that the services record without knowing of
 * HTTP; a registry that exposes them registers them with `registerPlatformMetrics`. This file imports
 * nothing of Pave but prom-client, so every domain module may import it.
 *
 * Left out on purpose: a job queue's depth and age, and fleet upgrade progress. This version of Pave
 * has no job queue and no fleet upgrades; they get their series with those features, not before.
 */

/** Seconds: from a few milliseconds (a directory, a Redis user) to a slow cloud database. */
const PROVISION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const provision = new Histogram({
  name: 'pave_resource_provision_seconds',
  help: 'Time a driver took to provision (create or update) a resource, by resource type and outcome (succeeded, failed)',
  labelNames: ['type', 'outcome'] as const,
  buckets: PROVISION_BUCKETS,
  registers: [],
});

const deployments = new Counter({
  name: 'pave_deployments_total',
  help: 'Deployments that finished starting, by outcome: healthy, or failed (health check failed, crashed, did not start, or interrupted by a server stop)',
  labelNames: ['outcome'] as const,
  registers: [],
});

const releases = new Counter({
  name: 'pave_releases_total',
  help: 'Releases attempted after their checks, by kind (release, rollback, promote) and outcome (succeeded: traffic switched; failed: the deployment did not come back healthy or its release phase failed)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [],
});

const actionRuns = new Counter({
  name: 'pave_action_runs_total',
  help: 'Golden action runs that ended, by kind (operation, http, command, lifecycle) and outcome (succeeded, failed, cancelled, timed-out)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [],
});

/** Every platform metric by name, for registries that expose them. */
export const PLATFORM_METRICS: Record<string, Parameters<Registry['registerMetric']>[0]> = {
  pave_resource_provision_seconds: provision,
  pave_deployments_total: deployments,
  pave_releases_total: releases,
  pave_action_runs_total: actionRuns,
};

/** Adds the platform metrics to a registry (once per registry; several registries may hold them). */
export function registerPlatformMetrics(registry: Registry): void {
  for (const [name, m] of Object.entries(PLATFORM_METRICS)) if (!registry.getSingleMetric(name)) registry.registerMetric(m);
}

/** A driver provisioned a resource of `type` (or failed to) in `seconds`. */
export function recordProvision(type: string, outcome: 'succeeded' | 'failed', seconds: number): void {
  provision.observe({ type, outcome }, seconds);
}

/** A deployment ended its start: healthy, or failed. */
export function recordDeployment(outcome: 'healthy' | 'failed'): void {
  deployments.inc({ outcome });
}

/** Counts a release once `work` (the switch) settles: succeeded when it resolves, failed when it throws; passes the result on. */
export async function countRelease<T>(kind: 'release' | 'rollback' | 'promote', work: Promise<T>): Promise<T> {
  try {
    const out = await work;
    releases.inc({ kind, outcome: 'succeeded' });
    return out;
  } catch (err) {
    releases.inc({ kind, outcome: 'failed' });
    throw err;
  }
}

/** An action run ended (its final status). */
export function recordActionRun(kind: string, outcome: string): void {
  actionRuns.inc({ kind, outcome });
}
