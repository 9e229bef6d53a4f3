import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

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
 * The job queue (src/jobs) counts its runs and takeovers here; its depth and the age of its oldest
 * queued job are read from the store when /metrics is scraped (`setJobQueueProbe`), since they are
 * the installation's, not this server's: every server reports the same figures.
 *
 * Fleet upgrade progress (src/fleet) likewise: the upgrades not finished and their applications by
 * state are read from the store at scrape time (`setFleetUpgradeProbe`); the applications each
 * server's runner finished are counted by outcome.
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

const jobRuns = new Counter({
  name: 'pave_job_runs_total',
  help: 'Job runs on this server that ended, by kind and outcome (succeeded, failed, retried: put back in the queue by its handler, lost: its lease ran out and another server took it over, released: left for another server at stop)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [],
});

const jobTakeovers = new Counter({
  name: 'pave_job_takeovers_total',
  help: 'Jobs this server took over from a server whose lease ran out (it stopped, crashed or lost the database), by kind',
  labelNames: ['kind'] as const,
  registers: [],
});

/** One row of the queue as the store counts it: jobs of a kind in a state, and the oldest queued one's age. */
export interface JobQueueSample {
  kind: string;
  state: 'queued' | 'running';
  count: number;
  /** Seconds since the oldest job of this kind became due, for queued jobs; null for running ones. */
  oldestSeconds: number | null;
}

let jobQueueProbe: (() => Promise<JobQueueSample[]>) | undefined;
/** The queue as the store has it now (one short grouped query); null when there is no store or it did not answer. */
function sampleJobQueue(): Promise<JobQueueSample[] | null> {
  return jobQueueProbe ? jobQueueProbe().catch(() => null) : Promise.resolve(null);
}

const jobQueueDepth = new Gauge({
  name: 'pave_job_queue_depth',
  help: 'Jobs of the installation (all servers) waiting (queued) or being run (running), by kind, read from the store at scrape time',
  labelNames: ['kind', 'state'] as const,
  registers: [],
  async collect() {
    const rows = await sampleJobQueue();
    if (!rows) return; // the store did not answer: the last figures stay
    this.reset();
    for (const r of rows) this.set({ kind: r.kind, state: r.state }, r.count);
  },
});

const jobQueueAge = new Gauge({
  name: 'pave_job_oldest_queued_seconds',
  help: 'Age of the oldest queued job that is due, by kind (0 when none waits), read from the store at scrape time',
  labelNames: ['kind'] as const,
  registers: [],
  async collect() {
    const rows = await sampleJobQueue();
    if (!rows) return;
    this.reset();
    for (const r of rows) if (r.state === 'queued') this.set({ kind: r.kind }, r.oldestSeconds ?? 0);
  },
});

/** Fleet upgrades not finished, by status, and their applications by state, as the store counts them. */
export interface FleetUpgradeSample {
  upgrades: { status: string; count: number }[];
  applications: { state: string; count: number }[];
}

let fleetUpgradeProbe: (() => Promise<FleetUpgradeSample>) | undefined;
function sampleFleetUpgrades(): Promise<FleetUpgradeSample | null> {
  return fleetUpgradeProbe ? fleetUpgradeProbe().catch(() => null) : Promise.resolve(null);
}

const fleetUpgrades = new Gauge({
  name: 'pave_fleet_upgrades',
  help: 'Fleet upgrades of the installation that have not finished, by status (running, pausing, paused, cancelling), read from the store at scrape time',
  labelNames: ['status'] as const,
  registers: [],
  async collect() {
    const s = await sampleFleetUpgrades();
    if (!s) return;
    this.reset();
    for (const r of s.upgrades) this.set({ status: r.status }, r.count);
  },
});

const fleetUpgradeApplications = new Gauge({
  name: 'pave_fleet_upgrade_applications',
  help: 'Applications of the fleet upgrades that have not finished, by state (pending, upgrading, reverting, upgraded, failed, skipped, cancelled), read from the store at scrape time',
  labelNames: ['state'] as const,
  registers: [],
  async collect() {
    const s = await sampleFleetUpgrades();
    if (!s) return;
    this.reset();
    for (const r of s.applications) this.set({ state: r.state }, r.count);
  },
});

const fleetUpgradeOutcomes = new Counter({
  name: 'pave_fleet_upgrade_applications_total',
  help: 'Applications whose fleet upgrade this server finished, by outcome (upgraded; failed: put back on its previous version; skipped: no longer applicable at its turn)',
  labelNames: ['outcome'] as const,
  registers: [],
});

/** Every platform metric by name, for registries that expose them. */
export const PLATFORM_METRICS: Record<string, Parameters<Registry['registerMetric']>[0]> = {
  pave_resource_provision_seconds: provision,
  pave_deployments_total: deployments,
  pave_releases_total: releases,
  pave_action_runs_total: actionRuns,
  pave_job_runs_total: jobRuns,
  pave_job_takeovers_total: jobTakeovers,
  pave_job_queue_depth: jobQueueDepth,
  pave_job_oldest_queued_seconds: jobQueueAge,
  pave_fleet_upgrades: fleetUpgrades,
  pave_fleet_upgrade_applications: fleetUpgradeApplications,
  pave_fleet_upgrade_applications_total: fleetUpgradeOutcomes,
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

/** A job run ended on this server. */
export function recordJobRun(kind: string, outcome: 'succeeded' | 'failed' | 'retried' | 'lost' | 'released'): void {
  jobRuns.inc({ kind, outcome });
}

/** This server took over a job whose lease ran out. */
export function recordJobTakeover(kind: string): void {
  jobTakeovers.inc({ kind });
}

/** Where the queue gauges read from at scrape time (the jobs module sets it; the last one set wins). */
export function setJobQueueProbe(probe: () => Promise<JobQueueSample[]>): void {
  jobQueueProbe = probe;
}

/** Forgets `probe` (a job service that stopped), unless another was set since. */
export function clearJobQueueProbe(probe: () => Promise<JobQueueSample[]>): void {
  if (jobQueueProbe === probe) jobQueueProbe = undefined;
}

/** A fleet upgrade's runner finished an application. */
export function recordFleetUpgradeApplication(outcome: 'upgraded' | 'failed' | 'skipped'): void {
  fleetUpgradeOutcomes.inc({ outcome });
}

/** Where the fleet upgrade gauges read from at scrape time (the fleet module sets it; the last one set wins). */
export function setFleetUpgradeProbe(probe: () => Promise<FleetUpgradeSample>): void {
  fleetUpgradeProbe = probe;
}

/** Forgets `probe` (a fleet service that stopped), unless another was set since. */
export function clearFleetUpgradeProbe(probe: () => Promise<FleetUpgradeSample>): void {
  if (fleetUpgradeProbe === probe) fleetUpgradeProbe = undefined;
}
