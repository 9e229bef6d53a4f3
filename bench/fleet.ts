/**
 * `npm run bench:fleet [-- --quick] [options]`: the fleet upgrade benchmark.
 *
 * A Pave server (in this process, on a fresh database of the local PostgreSQL, with the real volume
 * driver and the local process runtime) and a template `bench-svc` whose 2.0.0 changes a variable
 * (GREETING) and adds a `volume` resource. For each size (default 100 and 1,000) a group of that many
 * applications, each with a development environment, built from a tiny Node.js HTTP server
 * (bench/fixtures/tiny) and deployed and released; then, per group:
 *  1. plan: POST /api/v1/fleet/plans for the group (selected by label), timed;
 *  2. apply: POST /api/v1/fleet/upgrades with the plan (canary 1, waves, concurrency), followed over
 *     the NDJSON stream to its end, timed; every application's resources converge (a volume is made by
 *     the volume driver) and its released build is deployed again, health-checked and released.
 * The median (and p90) per-application time comes from the upgrade's own record of each application.
 *
 * Memory: every deployed application is a supervisor and a Node.js process (tens of MB each), so 1,000
 * of them cannot all run on this machine at once. The benchmark keeps what runs bounded and says so:
 * after the initial deployment of an application, and as soon as the upgrade reports it upgraded, its
 * processes are stopped (by the runtime, outside Pave). The redeployments themselves are real: each
 * starts, is health-checked and is released. Memory is sampled every second (server RSS, the sum of
 * the RSS of every supervisor and application process).
 *
 * Results: bench/results/fleet-<timestamp>.json and bench/results/fleet-latest.json (--quick: fleet-quick-…).
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FleetPlan, Upgrade, UpgradeEvent } from '../src/contracts/fleet.ts';
import { SAMPLE_PLATFORM } from '../src/services.ts';
import { startTestServer, type TestServer } from '../test/support/server.ts';
import { latencyStats, intOption } from './stats.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURE = path.join(ROOT, 'bench', 'fixtures', 'tiny');
const TARGETS = { planMs1000: 5000, applyS1000: 300 };

const HELP = `Usage: node bench/fleet.ts [options]
  --quick              sizes 10 and 50 (a quick check of the pipeline; not the targets' scale)
  --sizes A,B          group sizes (default 100,1000); the largest is compared with the targets
  --concurrency N      applications upgraded at once (default 8)
  --wave-size N        applications per wave after the canary (default 100)
  --setup-concurrency N  initial deployments at once (default 8)
  --log-level L        server log level (default silent)`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      'wave-size': { type: 'string', default: '100' },
      'setup-concurrency': { type: 'string', default: '8' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    process.exit(0);
  }
  const sizes = (values.sizes ?? (values.quick ? '10,50' : '100,1000')).split(',').map((s) => intOption('sizes', s.trim(), 1));
  return { quick: values.quick, sizes, concurrency: intOption('concurrency', values.concurrency, 1), waveSize: intOption('wave-size', values['wave-size'], 1), setupConcurrency: intOption('setup-concurrency', values['setup-concurrency'], 1) };
}

const log = (s: string) => process.stderr.write(`[fleet-bench] ${s}\n`);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

// ---- the platform --------------------------------------------------------------------------------

const template = (version: string, greeting: string, withVolume: boolean) => `apiVersion: pave.dev/v1
kind: Template
metadata:
  name: bench-svc
  version: ${version}
spec:
  workload:
    apiVersion: score.dev/v1b1
    metadata:
      name: bench-svc
    containers:
      web:
        image: .
        variables:
          GREETING: ${greeting}
${withVolume ? '          VOLUME: ${resources.data.source}\n' : ''}        readinessProbe:
          httpGet:
            path: /
            port: 8080
${withVolume ? '    resources:\n      data:\n        type: volume\n' : ''}`;

function platformDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-fleet-bench-platform-'));
  cpSync(path.join(SAMPLE_PLATFORM, 'resource-types'), path.join(dir, 'resource-types'), { recursive: true });
  cpSync(path.join(SAMPLE_PLATFORM, 'resource-definitions'), path.join(dir, 'resource-definitions'), { recursive: true });
  writeFileSync(path.join(dir, 'profile.yaml'), `apiVersion: pave.dev/v1
kind: TeamProfile
metadata:
  name: default
spec:
  team: "*"
  environments:
    development: { runtime: local, replicas: 1, healthPath: / }
`);
  writeFileSync(path.join(dir, 'bench-svc-1.0.0.yaml'), template('1.0.0', 'v1', false));
  writeFileSync(path.join(dir, 'bench-svc-2.0.0.yaml'), template('2.0.0', 'v2', true));
  return dir;
}

// ---- memory ---------------------------------------------------------------------------------------

function rssKb(pid: string): number {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every supervisor of the runs under `runsDir`, and the processes they started (their children). */
function runProcesses(runsDir: string): { supervisors: string[]; apps: string[] } {
  const supervisors: string[] = [];
  const parents = new Map<string, string>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('supervisor.ts') && cmd.includes(runsDir)) supervisors.push(pid);
      const ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (ppid) parents.set(pid, ppid);
    } catch {
      // gone
    }
  }
  const sup = new Set(supervisors);
  return { supervisors, apps: [...parents].filter(([, ppid]) => sup.has(ppid)).map(([pid]) => pid) };
}

class MemoryWatch {
  peakServerMb = 0;
  peakRunsMb = 0;
  peakRuns = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly runsDir: string;
  constructor(runsDir: string) {
    this.runsDir = runsDir;
  }
  sample(): { serverMb: number; runsMb: number; runs: number } {
    const serverMb = process.memoryUsage().rss / 1024 / 1024;
    const { supervisors, apps } = runProcesses(this.runsDir);
    const runsMb = [...supervisors, ...apps].reduce((s, p) => s + rssKb(p), 0) / 1024;
    this.peakServerMb = Math.max(this.peakServerMb, serverMb);
    if (runsMb > this.peakRunsMb) {
      this.peakRunsMb = runsMb;
      this.peakRuns = supervisors.length;
    }
    return { serverMb, runsMb, runs: supervisors.length };
  }
  start() {
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }
  stop() {
    clearInterval(this.timer);
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

async function pool<T>(items: T[], n: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

async function call<T>(s: TestServer, p: string, init: { method?: string; json?: unknown } = {}, expect = 200): Promise<T> {
  const res = await s.api(p, { method: init.method ?? 'GET', ...(init.json !== undefined ? { json: init.json } : {}) });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${init.method ?? 'GET'} ${p}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Stops the processes of the deployment released in the application's development environment (outside Pave: memory). */
async function stopReleased(s: TestServer, ref: string): Promise<void> {
  const row = await s.store.db
    .selectFrom('environments as e')
    .innerJoin('entities as a', 'a.id', 'e.entity_id')
    .select('e.released_deployment_id')
    .where('a.ref', '=', ref)
    .executeTakeFirst();
  if (row?.released_deployment_id) await s.services.runtime.stop(row.released_deployment_id, 0).catch(() => undefined);
}

// ---- the run ---------------------------------------------------------------------------------------

interface SizeResult {
  applications: number;
  setup: { createS: number; buildS: number; deployS: number };
  plan: { ms: number; applications: number; excluded: number; bytes: number };
  apply: { s: number; upgraded: number; failed: number; skipped: number; perApplication: ReturnType<typeof latencyStats>; p90Ms: number; applicationsPerS: number; events: number };
  memory: { serverMb: number; runsMb: number; runs: number };
  checks: { servesNewVersion: string; volumes: number };
}

async function runSize(s: TestServer, size: number, o: ReturnType<typeof options>, mem: MemoryWatch): Promise<SizeResult> {
  const group = `s${size}`;
  const names = Array.from({ length: size }, (_, i) => `${group}-app-${String(i).padStart(4, '0')}`);
  log(`${size} applications: creating…`);
  let t = performance.now();
  await pool(names, 8, async (name) => {
    await call(s, '/api/v1/applications', { method: 'POST', json: { name, owner: 'bench', template: 'bench-svc', templateVersion: '1.0.0', labels: { group } } }, 201);
  });
  const createS = (performance.now() - t) / 1000;
  log(`  created in ${round(createS)} s; building…`);
  t = performance.now();
  await pool(names, 4, async (name) => {
    const b = await call<{ status: string; error: string | null }>(s, `/api/v1/applications/${name}/builds`, { method: 'POST', json: { path: FIXTURE } }, 201);
    if (b.status !== 'succeeded') throw new Error(`build of ${name}: ${b.error}`);
  });
  const buildS = (performance.now() - t) / 1000;
  log(`  built in ${round(buildS)} s; deploying and releasing 1.0.0…`);
  t = performance.now();
  let deployed = 0;
  await pool(names, o.setupConcurrency, async (name) => {
    const d = await call<{ status: string; released: boolean; error: string | null }>(s, `/api/v1/applications/${name}/environments/development/deployments`, { method: 'POST', json: { release: true } }, 201);
    if (!d.released) throw new Error(`deployment of ${name}: ${d.status} ${d.error}`);
    await stopReleased(s, `application:default/${name}`);
    if (++deployed % 100 === 0) log(`  ${deployed} deployed`);
  });
  const deployS = (performance.now() - t) / 1000;
  log(`  deployed in ${round(deployS)} s`);

  mem.peakRunsMb = 0;
  mem.peakServerMb = 0;
  t = performance.now();
  const planRes = await s.api('/api/v1/fleet/plans', { method: 'POST', json: { name: 'bench-svc', version: '2.0.0', selector: { labels: { group } } } });
  const planText = await planRes.text();
  const planMs = performance.now() - t;
  if (planRes.status !== 201) throw new Error(`plan: ${planRes.status} ${planText.slice(0, 500)}`);
  const plan = JSON.parse(planText) as FleetPlan;
  log(`  plan: ${plan.applications.length} to upgrade, ${plan.excluded.length} excluded, in ${Math.round(planMs)} ms (${Math.round(planText.length / 1024)} KiB)`);
  if (plan.excluded.length) log(`  excluded: ${plan.excluded.slice(0, 3).map((e) => `${e.name}: ${e.reason}`).join('; ')}`);

  t = performance.now();
  const started = await call<Upgrade>(s, '/api/v1/fleet/upgrades', { method: 'POST', json: { plan: plan.id, canarySize: 1, waveSize: o.waveSize, concurrency: o.concurrency, failureBudget: 0 } }, 201);
  let events = 0;
  let upgraded = 0;
  const stops: Promise<void>[] = [];
  const res = await s.api(`/api/v1/fleet/upgrades/${started.id}/events?follow=true`, { headers: { accept: 'application/x-ndjson' } });
  let result: Upgrade | undefined;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (!line.trim()) continue;
      const m = JSON.parse(line) as { event?: UpgradeEvent; result?: Upgrade; error?: unknown };
      if (m.error) throw new Error(`upgrade stream: ${JSON.stringify(m.error)}`);
      if (m.result) result = m.result;
      if (!m.event) continue;
      events++;
      if (m.event.type === 'application.upgraded' && m.event.application) {
        stops.push(stopReleased(s, m.event.application));
        if (++upgraded % 100 === 0) log(`  ${upgraded} upgraded (${round((performance.now() - t) / 1000)} s)`);
      }
      if (m.event.type === 'application.failed') log(`  ${m.event.message}`);
    }
  }
  const applyS = (performance.now() - t) / 1000;
  if (!result) throw new Error('the upgrade stream ended without its result');
  // a sample of the result: the variables one application's processes get now
  const sampleApp = names[Math.floor(size / 2)]!;
  const variables = await call<{ layers: { variables: Record<string, string> }[] }>(s, `/api/v1/applications/${sampleApp}/environments/development/config`);
  const greeting = variables.layers[0]?.variables.GREETING ?? '?';
  await Promise.all(stops);
  const volumes = Number((await s.store.db.selectFrom('resources').select((eb) => eb.fn.countAll<number>().as('n')).where('type', '=', 'volume').where('status', '=', 'ready').where('name', '=', 'data').executeTakeFirstOrThrow()).n);
  const durations = result.applications.filter((a) => a.state === 'upgraded').map((a) => a.durationMs ?? 0);
  const stats = latencyStats(durations, 0);
  const sorted = [...durations].sort((a, b) => a - b);
  const p90 = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.9 * sorted.length) - 1))] ?? 0;
  log(`  apply: ${result.status}, ${result.counts.upgraded} upgraded, ${result.counts.failed} failed in ${round(applyS)} s; per application median ${stats.p50Ms} ms, p90 ${p90} ms; peak memory: server ${Math.round(mem.peakServerMb)} MB, runs ${Math.round(mem.peakRunsMb)} MB (${mem.peakRuns} at once)`);
  return {
    applications: size,
    setup: { createS: round(createS), buildS: round(buildS), deployS: round(deployS) },
    plan: { ms: Math.round(planMs), applications: plan.applications.length, excluded: plan.excluded.length, bytes: planText.length },
    apply: { s: round(applyS), upgraded: result.counts.upgraded, failed: result.counts.failed, skipped: result.counts.skipped, perApplication: stats, p90Ms: p90, applicationsPerS: round(result.counts.upgraded / applyS, 2), events },
    memory: { serverMb: Math.round(mem.peakServerMb), runsMb: Math.round(mem.peakRunsMb), runs: mem.peakRuns },
    checks: { servesNewVersion: greeting, volumes },
  };
}

async function main() {
  const o = options();
  const platform = platformDir();
  const timestamp = new Date().toISOString().replace(/[:.]/g, '-');
  const s = await startTestServer({ platform, deployments: { keepWarm: 0, warmSeconds: 0, healthTimeout: 30, stopGrace: 1 } });
  const mem = new MemoryWatch(path.join(s.dataDir, 'runs'));
  mem.start();
  let failed = false;
  const sizes: SizeResult[] = [];
  let footprint: { supervisorMb: number; appMb: number } | null = null;
  try {
    await call(s, '/api/v1/teams', { method: 'POST', json: { name: 'bench' } }, 201);
    // one application's footprint: a supervisor and its Node.js process, measured while it runs
    await call(s, '/api/v1/applications', { method: 'POST', json: { name: 'footprint', owner: 'bench', template: 'bench-svc', templateVersion: '1.0.0', labels: { group: 'footprint' } } }, 201);
    await call(s, '/api/v1/applications/footprint/builds', { method: 'POST', json: { path: FIXTURE } }, 201);
    await call(s, '/api/v1/applications/footprint/environments/development/deployments', { method: 'POST', json: { release: true } }, 201);
    await new Promise((r) => setTimeout(r, 1500));
    const procs = runProcesses(path.join(s.dataDir, 'runs'));
    footprint = { supervisorMb: round(procs.supervisors.reduce((a, p) => a + rssKb(p), 0) / 1024 / Math.max(1, procs.supervisors.length)), appMb: round(procs.apps.reduce((a, p) => a + rssKb(p), 0) / 1024 / Math.max(1, procs.apps.length)) };
    log(`one application runs as a supervisor of ${footprint.supervisorMb} MB RSS and a Node.js process of ${footprint.appMb} MB RSS; ${Math.round(os.totalmem() / 1024 ** 3)} GB on this machine`);
    await stopReleased(s, 'application:default/footprint');
    for (const size of o.sizes) sizes.push(await runSize(s, size, o, mem));
  } catch (err) {
    failed = true;
    log(`failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    mem.stop();
    await s.services.fleet.idle().catch(() => undefined);
    await s.close().catch(() => undefined);
    rmSync(platform, { recursive: true, force: true });
  }
  const largest = sizes.at(-1);
  const at1000 = largest && largest.applications >= 1000 ? largest : undefined;
  const result = {
    benchmark: 'fleet',
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, memoryGb: round(os.totalmem() / 1024 ** 3), node: process.version },
    options: o,
    targets: TARGETS,
    footprint,
    sizes,
    scaling: sizes.length >= 2 ? {
      from: sizes[0]!.applications, to: sizes.at(-1)!.applications,
      planMsRatio: round(sizes.at(-1)!.plan.ms / Math.max(1, sizes[0]!.plan.ms), 2),
      applySRatio: round(sizes.at(-1)!.apply.s / Math.max(0.001, sizes[0]!.apply.s), 2),
      medianPerAppRatio: round(sizes.at(-1)!.apply.perApplication.p50Ms / Math.max(1, sizes[0]!.apply.perApplication.p50Ms), 2),
      sizeRatio: round(sizes.at(-1)!.applications / sizes[0]!.applications, 2),
    } : null,
    verdict: at1000 ? { planUnder5s: at1000.plan.ms < TARGETS.planMs1000, applyUnder5min: at1000.apply.s < TARGETS.applyS1000, allUpgraded: at1000.apply.upgraded === at1000.applications } : 'no size of 1,000 was run',
    failed,
  };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  const text = JSON.stringify(result, null, 2);
  // a quick run checks the pipeline; it does not replace the figures of a full one
  const name = o.quick ? 'fleet-quick' : 'fleet';
  writeFileSync(path.join(ROOT, 'bench', 'results', `${name}-${timestamp}.json`), text);
  writeFileSync(path.join(ROOT, 'bench', 'results', `${name}-latest.json`), text);
  process.stdout.write(`${text}\n`);
  process.exit(failed ? 1 : 0);
}

await main();
