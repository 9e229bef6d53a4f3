/**
 * `node bench/resources.ts [--count N] [--quick]`: the golden-pattern resources benchmark.
 *
 * Starts a real Pave server (bench/server.ts: `node src/server/main.ts` on a fresh database of the local
 * PostgreSQL, a temporary data directory, the sample platform and its local-service secrets), then
 * through the HTTP API:
 *  1. creates N applications from the node-service template with a postgres add-on and N with a redis
 *     add-on (one resource per application, so one apply = one resource), applies their development
 *     environments on the local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), deletes them,
 *     and checks on PostgreSQL and Redis themselves that everything was there and then nothing is
 *     left; once sequentially (1 in flight) and once with a few in flight;
 *  2. times plan of an application with a 20-resource Score workload (applied, and never applied);
 *  3. replays the drivers' statements one at a time (outside Pave) to show where driver time goes;
 * and reports the server's peak RSS. Results: bench/results/resources-<timestamp>.json and
 * bench/results/resources-latest.json. Cleans up on failure and on SIGINT/SIGTERM (server stopped,
 * its database dropped, every database, role and ACL user of the run removed).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Api, describeFailure, fmtStats, isApplyBody, isPlanBody, pool, round, stats, type LatencyStats, type ResourceBody } from './resources-lib.ts';
import { ActivitySampler, pgNameOf, profilePostgres, profileRedis, redisNameOf, snapshot, sweep, type ActivityReport, type PostgresProfile, type RedisProfile, type ServicesSnapshot } from './resources-services.ts';
import { PLAN_DEPENDENT, PLAN_EDGES, PLAN_RESOURCES, planWorkload } from './resources-workload.ts';
import { ROOT, runCleanups, startServer, waitQuiet, type MemoryReport, type PhaseMemory, type ServerHandle } from './server.ts';
import { intOption } from './stats.ts';

const TARGETS = { postgresP95Ms: 300, planP95Ms: 50 };

const HELP = `Usage: node bench/resources.ts [options]
  --count N          applications per resource type and round (default 200; --quick: 20)
  --quick            20 of each, 50 plan requests, 5 profile iterations, no waiting for a quiet machine
  --concurrency N    applies/deletes in flight in the concurrent round (default 4)
  --plan-requests N  sequential plan requests per application (default 300; --quick: 50)
  --profile N        driver step-profile iterations per type (default 20; 0: skip)
  --pg-url URL       admin URL of the local PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url URL    admin URL of the local Redis (default redis://127.0.0.1:6379)
  --log-level L      server log level (default warn)
  --wait-quiet S     wait up to S seconds for other load on the machine to stop first (default 60; --quick: 0)
  --sample-ms N      sample pg_stat_activity every N ms during apply, delete and plan (default 20; 0: don't)
  --strict           exit 2 when a target is missed (exit 1 is for failed checks and errors)`;

function parse() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      quick: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '4' },
      'plan-requests': { type: 'string' },
      profile: { type: 'string' },
      'pg-url': { type: 'string', default: process.env.PAVE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      'redis-url': { type: 'string', default: process.env.PAVE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
      'log-level': { type: 'string', default: 'warn' },
      'wait-quiet': { type: 'string' },
      'sample-ms': { type: 'string', default: '20' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    process.exit(0);
  }
  const int = intOption;
  const q = values.quick;
  return {
    quick: q,
    count: int('count', values.count ?? (q ? '20' : '200'), 1),
    concurrency: int('concurrency', values.concurrency, 1),
    planRequests: int('plan-requests', values['plan-requests'] ?? (q ? '50' : '300'), 1),
    profile: int('profile', values.profile ?? (q ? '5' : '20'), 0),
    pgUrl: values['pg-url'],
    redisUrl: values['redis-url'],
    logLevel: values['log-level'],
    waitQuiet: int('wait-quiet', values['wait-quiet'] ?? (q ? '0' : '60'), 0),
    sampleMs: int('sample-ms', values['sample-ms'], 0),
    strict: values.strict,
  };
}
type Options = ReturnType<typeof parse>;

const log = (s: string) => process.stdout.write(s + '\n');
const load = () => os.loadavg().map((v) => round(v, 2));

class Checks {
  passed = 0;
  problems: string[] = [];
  ok(cond: boolean, problem: string): boolean {
    if (cond) this.passed++;
    else if (this.problems.length < 200) this.problems.push(problem);
    return cond;
  }
}

// ---- results -----------------------------------------------------------------------------------------

type Kind = 'postgres' | 'redis';

interface TypeRound {
  type: Kind;
  addon: string;
  applications: number;
  create: { wallMs: number; latency: LatencyStats; failed: number };
  apply: {
    /** Wall time to provision all of them (first request sent to last response). */
    wallMs: number;
    resourcesPerSecond: number;
    /** Client-side HTTP wall time of POST …/apply (one resource per application). */
    http: LatencyStats;
    /** The `ms` of the `ready` event: resolving inputs, the resource row written, the driver, the outcome written. */
    driver: LatencyStats;
    /** http − driver: the rest of the request (auth, loading the application and its graph, lock, HTTP). */
    outsideDriver: LatencyStats;
    failed: number;
    /** The five slowest applies: when they started (to line up with PostgreSQL's checkpoint log). */
    slowest: Slow[];
    /** What PostgreSQL's backends were doing meanwhile (sampled). */
    activity?: ActivityReport;
  };
  delete: { wallMs: number; latency: LatencyStats; failed: number; slowest: Slow[]; activity?: ActivityReport };
}

interface Slow {
  app: string;
  ms: number;
  startedAt: string;
  driverMs?: number;
}

const slowest = (list: Slow[], n = 5): Slow[] => [...list].sort((a, b) => b.ms - a.ms).slice(0, n).map((x) => ({ ...x, ms: round(x.ms) }));

interface RoundResult {
  mode: 'sequential' | 'concurrent';
  concurrency: number;
  loadAverage: { start: number[]; end: number[] };
  types: TypeRound[];
  verification: { afterProvision: ServicesSnapshot; afterDelete: ServicesSnapshot; problems: string[]; pass: boolean };
}

interface PlanResult {
  application: string;
  resources: number;
  dependentResources: number;
  edges: number;
  firstApply: { ms: number; ok: boolean; events: number; driverMsSum: number; driverMsMax: number };
  reapply: LatencyStats;
  warmup: number;
  applied: LatencyStats & { requests: number; responseBytes: number; activity?: ActivityReport };
  notApplied: LatencyStats & { requests: number };
}

interface Target {
  name: string;
  target: string;
  value: number | null;
  unit: string;
  pass: boolean;
  /** false: shown for information, not part of pass/fail. */
  counts: boolean;
}

interface Result {
  runId: string;
  startedAt: string;
  finishedAt?: string;
  quietBeforeStart?: { waitedS: number; busyCores: number };
  serverLog?: string;
  database?: Record<string, string>;
  baseline?: ServicesSnapshot;
  rounds: RoundResult[];
  plan?: PlanResult;
  profile?: { postgres?: PostgresProfile; redis?: RedisProfile };
  paveStore?: { resources: number; environments: number; applications: number; benchEntities: number };
  final?: ServicesSnapshot;
  sweep?: { databases: string[]; roles: string[]; redisUsers: string[]; errors: string[] };
  memory?: MemoryReport;
  memoryByPhase: (PhaseMemory & { loadAverage1m: number })[];
  noisyPhases: string[];
  checks: { passed: number; problems: string[] };
  targets: Target[];
  pass: boolean;
  error?: string;
}

// ---- the benchmark --------------------------------------------------------------------------------------

interface Ctx {
  h: ServerHandle;
  api: Api;
  opts: Options;
  checks: Checks;
  team: string;
  prefix: string;
  runPrefix: string;
  /** Applications that exist in Pave (created, not yet deleted): deleted on failure. */
  live: Set<string>;
  result: Result;
  activity: ActivitySampler | undefined;
}

/** Runs `fn` while sampling pg_stat_activity (when enabled). */
async function watched<T extends object>(c: Ctx, fn: () => Promise<T>): Promise<T & { activity?: ActivityReport }> {
  if (!c.activity) return fn();
  await c.activity.start(c.opts.sampleMs);
  let out: T;
  try {
    out = await fn();
  } catch (err) {
    await c.activity.stop();
    throw err;
  }
  return { ...out, activity: await c.activity.stop() };
}

async function mark(c: Ctx, phase: string) {
  c.result.memoryByPhase.push({ ...(await c.h.mark(phase)), loadAverage1m: load()[0]! });
}

async function createApps(c: Ctx, names: string[], concurrency: number, body: (name: string) => Record<string, unknown>) {
  const t0 = performance.now();
  const times = await pool(names, concurrency, async (name) => {
    const r = await c.api.call('POST', '/api/v1/applications', body(name));
    if (c.checks.ok(r.status === 201, `create ${name}: ${describeFailure(r)}`)) c.live.add(name);
    return { ms: r.ms, ok: r.status === 201 };
  });
  return { wallMs: round(performance.now() - t0), latency: stats(times.map((t) => t.ms)), failed: times.filter((t) => !t.ok).length };
}

async function deleteApps(c: Ctx, names: string[], concurrency: number) {
  const t0 = performance.now();
  const times = await pool(names, concurrency, async (name) => {
    const startedAt = new Date().toISOString();
    const r = await c.api.call('DELETE', `/api/v1/applications/${name}`);
    if (c.checks.ok(r.status === 204, `delete ${name}: ${describeFailure(r)}`)) c.live.delete(name);
    return { app: name, startedAt, ms: r.ms, ok: r.status === 204 };
  });
  return { wallMs: round(performance.now() - t0), latency: stats(times.map((t) => t.ms)), failed: times.filter((t) => !t.ok).length, slowest: slowest(times.map(({ app, ms, startedAt }) => ({ app, ms, startedAt }))) };
}

async function applyApps(c: Ctx, names: string[], concurrency: number, kind: Kind) {
  const resource = kind === 'postgres' ? 'db' : 'cache';
  const t0 = performance.now();
  const samples = await pool(names, concurrency, async (name) => {
    const startedAt = new Date().toISOString();
    const r = await c.api.call('POST', `/api/v1/applications/${name}/environments/development/apply`, {});
    const body = isApplyBody(r.body) ? r.body : undefined;
    const ready = body?.events.find((e) => e.resource === resource && e.phase === 'ready');
    const ok = r.status === 200 && body?.ok === true && ready?.ms !== undefined;
    c.checks.ok(ok, `apply ${name}: ${r.status === 200 && body ? `ok=${body.ok}, events ${body.events.map((e) => `${e.resource}:${e.phase}`).join(' ')}${body.failed.length ? `, failed: ${body.failed.map((f) => f.error).join('; ')}` : ''}` : describeFailure(r)}`);
    c.checks.ok(!body || body.events.filter((e) => e.phase === 'ready').length === 1, `apply ${name}: expected exactly one resource provisioned, got ${body?.events.map((e) => `${e.resource}:${e.phase}`).join(' ')}`);
    return { app: name, startedAt, ms: r.ms, driverMs: ok ? ready!.ms! : null };
  });
  const wallMs = round(performance.now() - t0);
  const good = samples.flatMap((s) => (s.driverMs === null ? [] : [{ ms: s.ms, driverMs: s.driverMs }]));
  return {
    wallMs,
    resourcesPerSecond: round((good.length / wallMs) * 1000, 2),
    http: stats(samples.map((s) => s.ms)),
    driver: stats(good.map((s) => s.driverMs)),
    outsideDriver: stats(good.map((s) => s.ms - s.driverMs)),
    failed: samples.length - good.length,
    slowest: slowest(samples.map(({ app, ms, startedAt, driverMs }) => ({ app, ms, startedAt, ...(driverMs === null ? {} : { driverMs }) }))),
  };
}

/** One sample application's resources through the API: ready, and the outputs name what the driver made. */
async function checkOutputs(c: Ctx, app: string, kind: Kind) {
  const r = await c.api.call('GET', `/api/v1/applications/${app}/environments/development/resources`);
  const items = (r.body as { items?: ResourceBody[] } | null)?.items ?? [];
  const res = items.find((i) => i.name === (kind === 'postgres' ? 'db' : 'cache'));
  const expected = kind === 'postgres' ? pgNameOf(app) : redisNameOf(app);
  c.checks.ok(r.status === 200 && res?.status === 'ready' && res.outputs.username === expected && res.outputs.password === '********',
    `resources of ${app}: expected ${kind} ready with username ${expected} and a masked password, got ${r.status} ${JSON.stringify(res ?? items).slice(0, 300)}`);
}

async function round_(c: Ctx, mode: 'sequential' | 'concurrent', concurrency: number): Promise<RoundResult> {
  const tag = mode === 'sequential' ? 's' : 'c';
  const pad = (i: number) => String(i).padStart(4, '0');
  const names: Record<Kind, string[]> = {
    postgres: Array.from({ length: c.opts.count }, (_, i) => `${c.prefix}-${tag}-pg-${pad(i)}`),
    redis: Array.from({ length: c.opts.count }, (_, i) => `${c.prefix}-${tag}-rd-${pad(i)}`),
  };
  const expected = { pg: names.postgres.map((n) => pgNameOf(n)), redis: names.redis.map((n) => redisNameOf(n)) };
  const loadStart = load();
  const types: TypeRound[] = [];
  const problems: string[] = [];
  log(`\n== ${mode} round: ${c.opts.count} postgres + ${c.opts.count} redis applications, ${concurrency} in flight ==`);
  for (const kind of ['postgres', 'redis'] as const) {
    const addon = kind === 'postgres' ? { addon: 'postgres', name: 'db' } : { addon: 'redis', name: 'cache' };
    const create = await createApps(c, names[kind], concurrency, (name) => ({ name, owner: c.team, template: 'node-service', addons: [addon] }));
    log(`${kind}: created ${names[kind].length - create.failed} applications in ${(create.wallMs / 1000).toFixed(1)} s (${fmtStats(create.latency)})`);
    await mark(c, `${mode}/${kind} create`);
    const apply = await watched(c, () => applyApps(c, names[kind], concurrency, kind));
    log(`${kind}: provisioned ${names[kind].length - apply.failed} in ${(apply.wallMs / 1000).toFixed(1)} s (${apply.resourcesPerSecond}/s)`);
    log(`   HTTP apply ${fmtStats(apply.http)}`);
    log(`   driver     ${fmtStats(apply.driver)}`);
    await mark(c, `${mode}/${kind} apply`);
    await checkOutputs(c, names[kind][0]!, kind);
    types.push({ type: kind, addon: addon.addon, applications: names[kind].length, create, apply, delete: { wallMs: 0, latency: stats([]), failed: 0, slowest: [] } });
  }
  const afterProvision = await snapshot(c.opts.pgUrl, c.opts.redisUrl, c.runPrefix, expected);
  const n = c.opts.count;
  const want = (cond: boolean, msg: string) => {
    if (!c.checks.ok(cond, `${mode}: ${msg}`)) problems.push(msg);
  };
  want(afterProvision.postgres.expectedDatabasesPresent === n, `after provisioning, ${afterProvision.postgres.expectedDatabasesPresent} of ${n} databases exist`);
  want(afterProvision.postgres.expectedRolesPresent === n, `after provisioning, ${afterProvision.postgres.expectedRolesPresent} of ${n} roles exist`);
  want(afterProvision.postgres.ownedBySameRole === n, `after provisioning, ${afterProvision.postgres.ownedBySameRole} of ${n} databases are owned by their role`);
  want(afterProvision.redis.expectedUsersPresent === n, `after provisioning, ${afterProvision.redis.expectedUsersPresent} of ${n} Redis ACL users exist`);
  want(afterProvision.postgres.driverConnections === 0, `after provisioning, ${afterProvision.postgres.driverConnections} driver connections are still open`);
  log(`check: ${afterProvision.postgres.expectedDatabasesPresent}/${n} databases, ${afterProvision.postgres.expectedRolesPresent}/${n} roles, ${afterProvision.redis.expectedUsersPresent}/${n} ACL users present`);

  for (const t of types) {
    t.delete = await watched(c, () => deleteApps(c, names[t.type], concurrency));
    log(`${t.type}: deleted ${names[t.type].length - t.delete.failed} applications in ${(t.delete.wallMs / 1000).toFixed(1)} s (${fmtStats(t.delete.latency)})`);
    await mark(c, `${mode}/${t.type} delete`);
  }
  const afterDelete = await snapshot(c.opts.pgUrl, c.opts.redisUrl, c.runPrefix, expected);
  want(afterDelete.postgres.expectedDatabasesPresent === 0 && afterDelete.postgres.runDatabases.length === 0, `after delete, databases of the run remain: ${afterDelete.postgres.runDatabases.join(', ')}`);
  want(afterDelete.postgres.expectedRolesPresent === 0 && afterDelete.postgres.runRoles.length === 0, `after delete, roles of the run remain: ${afterDelete.postgres.runRoles.join(', ')}`);
  want(afterDelete.redis.expectedUsersPresent === 0 && afterDelete.redis.runUsers.length === 0, `after delete, Redis ACL users of the run remain: ${afterDelete.redis.runUsers.join(', ')}`);
  want(afterDelete.postgres.driverConnections === 0, `after delete, ${afterDelete.postgres.driverConnections} driver connections are still open`);
  log(`check: after delete ${afterDelete.postgres.runDatabases.length} databases, ${afterDelete.postgres.runRoles.length} roles, ${afterDelete.redis.runUsers.length} ACL users of this run remain`);
  return { mode, concurrency, loadAverage: { start: loadStart, end: load() }, types, verification: { afterProvision, afterDelete, problems, pass: problems.length === 0 } };
}

async function planPhase(c: Ctx): Promise<PlanResult> {
  const applied = `${c.prefix}-plan`;
  const fresh = `${c.prefix}-plan-new`;
  log(`\n== plan: ${PLAN_RESOURCES} resources (${PLAN_DEPENDENT} with params referencing others, ${PLAN_EDGES} edges), ${c.opts.planRequests} sequential requests ==`);
  await createApps(c, [applied, fresh], 1, (name) => ({ name, owner: c.team, template: 'node-service', workload: planWorkload() }));
  const first = await c.api.call('POST', `/api/v1/applications/${applied}/environments/development/apply`, {});
  const fb = isApplyBody(first.body) ? first.body : undefined;
  const readyMs = (fb?.events ?? []).filter((e) => e.phase === 'ready').map((e) => e.ms ?? 0);
  c.checks.ok(first.status === 200 && fb?.ok === true && readyMs.length === PLAN_RESOURCES, `apply ${applied}: ${fb ? `ok=${fb.ok}, ${readyMs.length} ready, failed ${JSON.stringify(fb.failed)}` : describeFailure(first)}`);
  log(`first apply: ${Math.round(first.ms)} ms, ${readyMs.length} resources ready`);

  const res = await c.api.call('GET', `/api/v1/applications/${applied}/environments/development/resources`);
  const items = (res.body as { items?: ResourceBody[] } | null)?.items ?? [];
  const env0 = items.find((i) => i.name === 'env-0');
  c.checks.ok(env0?.outputs.PUBLIC_URL === `http://${applied}-development.localhost/api-0` && env0.outputs.UPSTREAM === 'localhost:8080',
    `outputs of env-0 should be wired through dns-0, route-0 and port-0: ${JSON.stringify(env0?.outputs)}`);

  const reapply: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await c.api.call('POST', `/api/v1/applications/${applied}/environments/development/apply`, {});
    const b = isApplyBody(r.body) ? r.body : undefined;
    c.checks.ok(b?.ok === true && b.events.every((e) => e.phase === 'unchanged'), `re-apply ${applied} should change nothing: ${b ? b.events.filter((e) => e.phase !== 'unchanged').map((e) => `${e.resource}:${e.phase}`).join(' ') : describeFailure(r)}`);
    reapply.push(r.ms);
  }

  const planOf = async (app: string, n: number, action: 'noop' | 'create', counted: boolean) => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const r = await c.api.call('POST', `/api/v1/applications/${app}/environments/development/plan`, {});
      const p = isPlanBody(r.body) ? r.body : undefined;
      const good = r.status === 200 && p !== undefined && p.items.length === PLAN_RESOURCES && p.order.length === PLAN_RESOURCES && p.errors.length === 0 && p.items.every((x) => x.action === action && x.error === null);
      if (counted || !good) c.checks.ok(good, `plan ${app}: expected ${PLAN_RESOURCES} × ${action}, got ${p ? `${p.items.length} items (${[...new Set(p.items.map((x) => x.action))].join(',')}), errors ${p.errors.join('; ')}` : describeFailure(r)}`);
      if (p && good && action === 'create') {
        const pos = new Map(p.order.map((name, k) => [name, k]));
        c.checks.ok((pos.get('dns-0') ?? 99) < (pos.get('route-0') ?? -1) && (pos.get('route-0') ?? 99) < (pos.get('env-0') ?? -1), `plan order should put dns-0 before route-0 before env-0: ${p.order.join(',')}`);
      }
      times.push(r.ms);
      bytes = r.text.length;
    }
    return { times, bytes };
  };
  const warmup = 10;
  await planOf(applied, warmup, 'noop', false);
  await planOf(fresh, warmup, 'create', false);
  const a = await watched(c, () => planOf(applied, c.opts.planRequests, 'noop', true));
  const appliedStats = stats(a.times);
  log(`plan (applied, all noop):     ${fmtStats(appliedStats)}`);
  const f = await planOf(fresh, c.opts.planRequests, 'create', true);
  const freshStats = stats(f.times);
  log(`plan (not applied, all create): ${fmtStats(freshStats)}`);
  await mark(c, 'plan');
  await deleteApps(c, [applied, fresh], 1);
  return {
    application: applied,
    resources: PLAN_RESOURCES,
    dependentResources: PLAN_DEPENDENT,
    edges: PLAN_EDGES,
    firstApply: { ms: round(first.ms), ok: fb?.ok === true, events: fb?.events.length ?? 0, driverMsSum: readyMs.reduce((x, y) => x + y, 0), driverMsMax: Math.max(0, ...readyMs) },
    reapply: stats(reapply),
    warmup,
    applied: { ...appliedStats, requests: c.opts.planRequests, responseBytes: a.bytes, ...(a.activity ? { activity: a.activity } : {}) },
    notApplied: { ...freshStats, requests: c.opts.planRequests },
  };
}

async function paveStore(c: Ctx) {
  const client = new pg.Client({ connectionString: c.h.databaseUrl(), application_name: 'pave-bench' });
  await client.connect();
  try {
    const count = async (sql: string, params: unknown[] = []) => Number((await client.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
    return {
      resources: await count('SELECT count(*) AS n FROM resources'),
      environments: await count('SELECT count(*) AS n FROM environments'),
      applications: await count('SELECT count(*) AS n FROM applications'),
      benchEntities: await count(`SELECT count(*) AS n FROM entities WHERE kind = 'application' AND name LIKE $1`, [`${c.prefix}-%`]),
    };
  } finally {
    await client.end();
  }
}

function evaluate(r: Result): Target[] {
  const t = (name: string, target: string, value: number | undefined, unit: string, ok: (v: number) => boolean, counts = true): Target => ({
    name, target, value: value ?? null, unit, pass: value !== undefined && ok(value), counts,
  });
  const type = (mode: string, kind: Kind) => r.rounds.find((x) => x.mode === mode)?.types.find((x) => x.type === kind);
  const pgLimit = (v: number) => v < TARGETS.postgresP95Ms;
  const planLimit = (v: number) => v < TARGETS.planP95Ms;
  const sp = type('sequential', 'postgres');
  const cp = type('concurrent', 'postgres');
  const conc = r.rounds.find((x) => x.mode === 'concurrent')?.concurrency ?? 0;
  return [
    t('postgres p95 apply, sequential (HTTP wall)', `< ${TARGETS.postgresP95Ms} ms`, sp?.apply.http.p95Ms, 'ms', pgLimit),
    t('postgres p95 driver, sequential', `< ${TARGETS.postgresP95Ms} ms`, sp?.apply.driver.p95Ms, 'ms', pgLimit, false),
    t(`postgres p95 apply, ${conc} in flight (HTTP wall)`, `< ${TARGETS.postgresP95Ms} ms`, cp?.apply.http.p95Ms, 'ms', pgLimit, false),
    t(`postgres p95 driver, ${conc} in flight`, `< ${TARGETS.postgresP95Ms} ms`, cp?.apply.driver.p95Ms, 'ms', pgLimit, false),
    t('plan p95, applied app (20 resources)', `< ${TARGETS.planP95Ms} ms`, r.plan?.applied.p95Ms, 'ms', planLimit),
    t('plan p95, not-yet-applied app', `< ${TARGETS.planP95Ms} ms`, r.plan?.notApplied.p95Ms, 'ms', planLimit, false),
    t('nothing left after delete (all rounds)', 'pass', r.rounds.length ? (r.rounds.every((x) => x.verification.pass) ? 1 : 0) : undefined, '', (v) => v === 1),
  ];
}

// ---- summary -------------------------------------------------------------------------------------------

function activityLines(label: string, a: ActivityReport | undefined, indent: string): string[] {
  if (!a) return [];
  const k = a.counters;
  const out = [`${indent}${label}: ${a.samples} samples/${a.intervalMs} ms (driver busy in ${a.driverBusy}, pave db busy in ${a.paveBusy}, checkpointer in ${a.checkpointerBusy}${a.foreignDriverSamples ? `, ${a.foreignDriverSamples} other-work driver samples left out` : ''}); ` +
    `checkpoints ${k.checkpointsRequested} requested + ${k.checkpointsTimed} timed (write ${k.checkpointWriteMs} ms, sync ${k.checkpointSyncMs} ms, ${k.buffersCheckpoint} buffers), WAL ${k.walMb} MB, ${k.walSyncs} WAL syncs`];
  for (const who of ['driver', 'pave', 'checkpointer'] as const) {
    for (const l of a.top.filter((x) => x.who === who).slice(0, who === 'checkpointer' ? 2 : 3)) {
      out.push(`${indent}  ${who.padEnd(12)} ${String(Math.round(l.share * 100)).padStart(3)}%  ${l.wait.padEnd(24)} ${l.statement}`);
    }
  }
  return out;
}

function summary(r: Result): string {
  const out: string[] = [];
  const s = (l: LatencyStats) => `p50 ${String(l.p50Ms).padStart(6)}  p95 ${String(l.p95Ms).padStart(6)}  p99 ${String(l.p99Ms).padStart(6)}  max ${String(l.maxMs).padStart(6)} ms`;
  if (r.error) out.push(`ERROR: ${r.error.split('\n')[0]}`);
  if (r.quietBeforeStart) out.push(`before the start: waited ${r.quietBeforeStart.waitedS} s for a quiet machine; other processes then used ${r.quietBeforeStart.busyCores} cores`);
  for (const rd of r.rounds) {
    out.push(`\n${rd.mode} round (${rd.concurrency} in flight; load average ${rd.loadAverage.start.join('/')} → ${rd.loadAverage.end.join('/')})`);
    for (const t of rd.types) {
      out.push(`  ${t.type.padEnd(8)} ${t.applications} resources provisioned in ${(t.apply.wallMs / 1000).toFixed(2)} s (${t.apply.resourcesPerSecond}/s), deleted in ${(t.delete.wallMs / 1000).toFixed(2)} s; failures: apply ${t.apply.failed}, delete ${t.delete.failed}`);
      out.push(`    apply HTTP      ${s(t.apply.http)}`);
      out.push(`    driver (ready)  ${s(t.apply.driver)}`);
      out.push(`    outside driver  ${s(t.apply.outsideDriver)}`);
      out.push(`    delete HTTP     ${s(t.delete.latency)}`);
      out.push(`    slowest deletes ${t.delete.slowest.slice(0, 3).map((x) => `${Math.round(x.ms)} ms at ${x.startedAt.slice(11, 23)}`).join(', ')}; slowest applies ${t.apply.slowest.slice(0, 3).map((x) => `${Math.round(x.ms)} ms at ${x.startedAt.slice(11, 23)}`).join(', ')}`);
      out.push(`    create app HTTP ${s(t.create.latency)}`);
      out.push(...activityLines('apply activity', t.apply.activity, '    '));
      out.push(...activityLines('delete activity', t.delete.activity, '    '));
    }
    const v = rd.verification;
    out.push(`  verification: after provisioning ${v.afterProvision.postgres.expectedDatabasesPresent} databases (${v.afterProvision.postgres.ownedBySameRole} owned by their role), ${v.afterProvision.postgres.expectedRolesPresent} roles, ${v.afterProvision.redis.expectedUsersPresent} ACL users; ` +
      `after delete ${v.afterDelete.postgres.runDatabases.length} databases, ${v.afterDelete.postgres.runRoles.length} roles, ${v.afterDelete.redis.runUsers.length} ACL users of the run, ${v.afterDelete.postgres.driverConnections} driver connections: ${v.pass ? 'PASS' : `FAIL (${v.problems.join('; ')})`}`);
  }
  const p = r.plan;
  if (p) {
    out.push(`\nplan of ${p.resources} resources (${p.dependentResources} dependent, ${p.edges} edges), ${p.applied.requests} sequential requests each after ${p.warmup} warm-up`);
    out.push(`  applied (noop)       ${s(p.applied)}  (${p.applied.responseBytes} bytes)`);
    out.push(`  not applied (create) ${s(p.notApplied)}`);
    out.push(...activityLines('plan activity (applied)', p.applied.activity, '  '));
    out.push(`  first apply ${p.firstApply.ms} ms (${p.firstApply.events} events, driver sum ${p.firstApply.driverMsSum} ms, max ${p.firstApply.driverMsMax} ms); idempotent re-apply ${s(p.reapply)}`);
  }
  const pp = r.profile?.postgres;
  if (pp) {
    out.push(`\ndriver step profile: postgres (${pp.provision.iterations} × replayed outside Pave; PostgreSQL ${pp.settings.server_version}, fsync ${pp.settings.fsync}, synchronous_commit ${pp.settings.synchronous_commit}, template1 ${pp.settings.template1Size})`);
    for (const [label, op] of [['provision', pp.provision], ['delete', pp.delete]] as const) {
      out.push(`  ${label}: total p50 ${op.total.p50Ms} ms, p95 ${op.total.p95Ms} ms`);
      for (const st of [...op.steps].sort((a, b) => b.share - a.share).slice(0, 5)) {
        const w = st.waits ? Object.entries(st.waits).slice(0, 3).map(([k, n]) => `${k} ×${n}`).join(', ') : '';
        out.push(`    ${String(Math.round(st.share * 100)).padStart(3)}%  ${st.step.padEnd(40)} p50 ${String(st.latency.p50Ms).padStart(6)} ms  p95 ${String(st.latency.p95Ms).padStart(6)} ms${w ? `  waits: ${w}` : ''}`);
      }
    }
    out.push(`  CREATE DATABASE writes ${(pp.createDatabaseWalBytes / 1048576).toFixed(1)} MB of WAL each; DROP DATABASE requested ${pp.dropDatabaseCheckpointsRequested} checkpoints each`);
    const cs = pp.createStrategies;
    if (cs) out.push(`  CREATE DATABASE strategy, ${cs.iterations} paired: WAL_LOG (default) p50 ${cs.walLog.p50Ms} ms, max ${cs.walLog.maxMs} ms; FILE_COPY p50 ${cs.fileCopy.p50Ms} ms, max ${cs.fileCopy.maxMs} ms (${cs.fileCopyCheckpointsRequested} checkpoints each)`);
  }
  const rp = r.profile?.redis;
  if (rp) {
    out.push(`driver step profile: redis (${rp.provision.iterations} ×)`);
    for (const [label, op] of [['provision', rp.provision], ['delete', rp.delete]] as const) {
      out.push(`  ${label}: total p50 ${op.total.p50Ms} ms, p95 ${op.total.p95Ms} ms; ${[...op.steps].sort((a, b) => b.share - a.share).slice(0, 3).map((st) => `${st.step} ${Math.round(st.share * 100)}% (p50 ${st.latency.p50Ms} ms)`).join(', ')}`);
    }
  }
  const m = r.memory;
  if (m) {
    out.push(`\nmemory: server peak RSS (VmHWM) ${m.serverPeakRssMb} MB; by phase: ${r.memoryByPhase.map((x) => `${x.phase} ${x.serverPeakRssMb}`).join(', ')}`);
    out.push('phases                        wall s  CPU s: server    db  bench  other*  load1');
    for (const x of r.memoryByPhase.slice(1)) {
      out.push(`  ${x.phase.padEnd(26)} ${x.wallS.toFixed(1).padStart(7)}  ${[x.serverCpuS, x.dbCpuS, x.benchCpuS, x.otherCpuS].map((v) => v.toFixed(1).padStart(6)).join(' ')}  ${x.loadAverage1m.toFixed(2).padStart(5)}`);
    }
    out.push('  * other: CPU used by anything else on the machine (other work, and PostgreSQL backends outside the Pave database, i.e. the drivers\' CREATE/DROP DATABASE work)');
  }
  if (r.paveStore) out.push(`pave store after the run: ${r.paveStore.resources} resource rows, ${r.paveStore.environments} environments, ${r.paveStore.applications} managed applications, ${r.paveStore.benchEntities} bench catalog entities`);
  if (r.final) out.push(`final check: ${r.final.postgres.runDatabases.length} databases, ${r.final.postgres.runRoles.length} roles, ${r.final.redis.runUsers.length} ACL users of this run; pv_bench* on the servers (any run): ${r.final.postgres.allPvBenchDatabases.length} databases, ${r.final.postgres.allPvBenchRoles.length} roles, ${r.final.redis.allPvBenchUsers.length} ACL users`);
  if (r.sweep) out.push(`sweep of leftovers: ${r.sweep.databases.length} databases, ${r.sweep.roles.length} roles, ${r.sweep.redisUsers.length} ACL users removed${r.sweep.errors.length ? `; errors: ${r.sweep.errors.join('; ')}` : ''}`);
  if (r.noisyPhases.length) out.push(`NOISY: other processes used > 0.25 core during: ${r.noisyPhases.join(', ')}`);
  out.push(`checks: ${r.checks.passed} passed, ${r.checks.problems.length} problems`);
  for (const pr of r.checks.problems.slice(0, 10)) out.push(`  - ${pr}`);
  out.push('targets (sequential round is the one for the postgres target; the others are shown for information)');
  for (const tg of r.targets) out.push(`  ${tg.pass ? 'PASS' : 'FAIL'}${tg.counts ? ' ' : '*'} ${tg.name.padEnd(46)} ${tg.value === null ? 'n/a' : `${tg.value} ${tg.unit}`.padEnd(12)} (target ${tg.target})`);
  out.push('  * information only');
  return out.join('\n');
}

// ---- main ----------------------------------------------------------------------------------------------

let ctx: Ctx | undefined;
let runPrefixForSignals: string | undefined;
let optsForSignals: Options | undefined;

async function main() {
  const opts = parse();
  optsForSignals = opts;
  const started = new Date();
  const timestamp = started.toISOString().replace(/[:.]/g, '-');
  const resultsDir = path.join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const runId = randomBytes(3).toString('hex');
  const prefix = `bench-${runId}`;
  const runPrefix = `pv_bench_${runId}_`;
  runPrefixForSignals = runPrefix;
  const result: Result = { runId, startedAt: started.toISOString(), rounds: [], memoryByPhase: [], noisyPhases: [], checks: { passed: 0, problems: [] }, targets: [], pass: false };
  const checks = new Checks();
  const meta = {
    startedAt: started.toISOString(),
    node: process.version,
    loadAverageAtStart: load(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    options: { ...opts, pgUrl: opts.pgUrl.replace(/:[^:@/]+@/, ':***@'), redisUrl: opts.redisUrl.replace(/:[^:@/]+@/, ':***@') },
    targets: TARGETS,
    notes: [
      'each application has exactly one resource (a postgres add-on "db" or a redis add-on "cache" on the node-service template), so one apply of its development environment provisions one resource',
      'the postgres target is judged on the sequential round (1 in flight), HTTP apply wall time p95; the driver time and the concurrent round are shown for information',
      'driver time is the ms of the ready event: resolving the definition inputs (platform secret), writing the resource row, the driver call, and writing its outcome',
      'latencies are client-side wall times over HTTP on loopback; server, PostgreSQL, Redis and client share the same cores, and the machine is shared with other work (see load averages and other CPU per phase)',
      'the Pave server uses a fresh database on the same PostgreSQL server the postgres driver provisions on',
    ],
  };
  const writeResults = () => {
    const body = JSON.stringify({ meta: { ...meta, loadAverageAtEnd: load() }, result }, null, 2) + '\n';
    const file = path.join(resultsDir, `resources-${timestamp}.json`);
    writeFileSync(file, body);
    writeFileSync(path.join(resultsDir, 'resources-latest.json'), body);
    return file;
  };

  log(`Pave resources benchmark: run ${runId}, ${opts.count} per type, ${opts.concurrency} in flight in the concurrent round; load average ${meta.loadAverageAtStart.join(' ')} on ${meta.machine.cpus} cores`);
  result.baseline = await snapshot(opts.pgUrl, opts.redisUrl, runPrefix, { pg: [], redis: [] });
  if (opts.waitQuiet > 0) result.quietBeforeStart = await waitQuiet(opts.waitQuiet, 0.3, log);

  // The sample platform (and its secrets for the local services) is what PAVE_PLATFORM unset gives.
  delete process.env.PAVE_PLATFORM;
  let h: ServerHandle | undefined;
  try {
    h = await startServer({ store: 'external', adminUrl: opts.pgUrl, logLevel: opts.logLevel, logDir: resultsDir, timestamp: `resources-${timestamp}` });
    result.serverLog = path.relative(ROOT, h.logFile);
    result.database = h.databaseInfo;
    log(`server pid ${h.pid} at ${h.url}, ready in ${h.databaseInfo.readyInMs} ms (database ${h.databaseInfo.database})`);
    const api = new Api(h.url, h.token);
    const activity = opts.sampleMs > 0 ? new ActivitySampler(opts.pgUrl, h.databaseInfo.database ?? '', runPrefix) : undefined;
    const c: Ctx = { h, api, opts, checks, team: prefix, prefix, runPrefix, live: new Set(), result, activity };
    ctx = c;
    await mark(c, 'started');

    const team = await api.call('POST', '/api/v1/teams', { name: prefix, title: 'Resources benchmark' });
    if (!checks.ok(team.status === 201, `create team: ${describeFailure(team)}`)) throw new Error(`cannot create team ${prefix}: ${describeFailure(team)}`);

    result.rounds.push(await round_(c, 'sequential', 1));
    result.rounds.push(await round_(c, 'concurrent', opts.concurrency));
    result.plan = await planPhase(c);

    if (opts.profile > 0) {
      log(`\n== driver step profile: ${opts.profile} × postgres and redis, replayed outside Pave ==`);
      const names = Array.from({ length: opts.profile }, (_, i) => `${runPrefix}prof_${String(i).padStart(3, '0')}`);
      result.profile = {};
      result.profile.postgres = await profilePostgres(opts.pgUrl, names);
      result.profile.redis = await profileRedis(opts.redisUrl, names);
      await mark(c, 'profile');
    }

    result.paveStore = await paveStore(c);
    checks.ok(result.paveStore.resources === 0 && result.paveStore.environments === 0 && result.paveStore.applications === 0 && result.paveStore.benchEntities === 0,
      `pave store after the run should hold no resources, environments or applications: ${JSON.stringify(result.paveStore)}`);
    const del = await api.call('DELETE', `/api/v1/teams/${prefix}`);
    checks.ok(del.status === 204, `delete team: ${describeFailure(del)}`);
  } catch (err) {
    result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`ERROR: ${result.error}`);
  } finally {
    // On failure, delete what is left through the API first (that is the path under test), then stop the server.
    const c = ctx;
    if (interrupted) result.error = `interrupted (${interrupted}); ${result.error ?? ''}`;
    if (c && c.live.size > 0 && !interrupted) {
      log(`cleaning up: deleting ${c.live.size} applications through the API…`);
      const deadline = Date.now() + 180_000;
      await pool([...c.live], 4, async (name) => {
        if (Date.now() > deadline) return;
        await c.api.call('DELETE', `/api/v1/applications/${name}`, undefined, 60_000).then((r) => r.status === 204 && c.live.delete(name)).catch(() => undefined);
      });
    }
    await c?.activity?.close();
    if (h) result.memory = await h.stop();
    await runCleanups();
    result.final = await snapshot(opts.pgUrl, opts.redisUrl, runPrefix, { pg: [], redis: [] }).catch(() => undefined);
    if (result.final) {
      checks.ok(result.final.postgres.runDatabases.length === 0 && result.final.postgres.runRoles.length === 0 && result.final.redis.runUsers.length === 0,
        `at the end, this run left ${result.final.postgres.runDatabases.length} databases, ${result.final.postgres.runRoles.length} roles, ${result.final.redis.runUsers.length} ACL users`);
    }
    // Whatever is still there (a failed run), removed directly.
    result.sweep = await sweep(opts.pgUrl, opts.redisUrl, runPrefix);
    result.finishedAt = new Date().toISOString();
  }
  result.noisyPhases = result.memoryByPhase.filter((p) => p.wallS > 0.5 && p.otherCpuS / p.wallS > 0.25).map((p) => p.phase);
  result.checks = { passed: checks.passed, problems: checks.problems };
  result.targets = evaluate(result);
  result.pass = !result.error && checks.problems.length === 0 && result.targets.filter((t) => t.counts).every((t) => t.pass);
  const file = writeResults();

  log(`\n##### Pave resources benchmark: ${opts.count} postgres + ${opts.count} redis per round${opts.quick ? ' (quick)' : ''}, ${meta.machine.cpus} cores, Node ${process.version}, load average ${meta.loadAverageAtStart.join('/')} at start, ${load().join('/')} at end`);
  log(summary(result));
  const failed = Boolean(result.error) || checks.problems.length > 0;
  const missed = result.targets.some((t) => t.counts && !t.pass);
  log(`\n${failed ? 'FAILED: errors or failed checks (see above)' : missed ? 'Checks passed; some targets missed' : 'All checks passed and all targets met'}. Results: ${path.relative(ROOT, file)}`);
  process.exitCode = failed ? 1 : missed && opts.strict ? 2 : 0;
}

// On SIGINT/SIGTERM: stop the server and drop its database at once; the run then fails fast and its own
// cleanup (final check, sweep of this run's databases, roles and ACL users, results file) finishes; if it
// does not within two minutes, sweep here.
let interrupted: string | undefined;
let mainDone: Promise<void> = Promise.resolve();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    process.stderr.write(`\n${sig}: stopping the server, dropping its database, removing this run's databases, roles and ACL users…\n`);
    void (async () => {
      await runCleanups();
      const finished = await Promise.race([mainDone.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 120_000).unref())]);
      if (!finished && runPrefixForSignals && optsForSignals) {
        const s = await sweep(optsForSignals.pgUrl, optsForSignals.redisUrl, runPrefixForSignals).catch((err: unknown) => ({ databases: [], roles: [], redisUsers: [], errors: [String(err)] }));
        process.stderr.write(`removed ${s.databases.length} databases, ${s.roles.length} roles, ${s.redisUsers.length} ACL users${s.errors.length ? `; errors: ${s.errors.join('; ')}` : ''}\n`);
      }
    })().finally(() => process.exit(130));
  });
}

try {
  mainDone = main();
  await mainDone;
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanups();
}
