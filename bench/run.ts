/**
 * `npm run bench:catalog [-- --quick] [--store embedded|external|both] [--entities N]` (also run by `npm run bench`)
 *
 * Generates a deterministic catalog, and for each store starts a server, imports it through the API,
 * measures list/search latency, list throughput, memory and idempotent re-import, checks every answer,
 * and writes bench/results/catalog-<store>-<timestamp>.json and bench/results/latest.json.
 * Phases run one after another (the machine is small: server, PostgreSQL and load generator share it).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  analyzeTables, Checks, explain, explainCases, importAll, listLatency, listThroughput, reimport, searchLatency, spotCheck, tableStats,
  type ExplainResult, type ImportReport, type ListReport, type ReimportReport, type SearchReport, type TableStats, type ThroughputReport,
} from './catalog.ts';
import { generate, importBatches, SearchOracle, type Dataset } from './generate.ts';
import { isInterrupted, ROOT, runCleanups, startServer, waitQuiet, type MemoryReport, type PhaseMemory, type ServerHandle, type StoreKind } from './server.ts';
import { intOption } from './stats.ts';

const TARGETS = {
  importMs: 30_000,
  listP95Ms: 50,
  searchP95Ms: 50,
  serverPeakRssMb: 400,
  listRequestsPerSecond: 1000,
};

const HELP = `Usage: npm run bench:catalog -- [options]   (npm run bench runs it too, through bench/all.ts)
  --quick                 10,000 entities (smoke run) unless --entities is given
  --entities N            catalog size (default 100000)
  --store S               embedded | external | both (default both)
  --batch N               entities per import request (default 5000)
  --requests N            sequential list and search requests each (default 300, at least 200 for the targets)
  --duration S            seconds of the throughput run (default 10)
  --connections N         concurrent connections of the throughput run (default 10)
  --seed N                generator seed (default 24301)
  --pg-url URL            admin URL of the external PostgreSQL (default $PAVE_BENCH_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --log-level L           server log level (default warn: per-request info logs are left out of the measurement)
  --wait-quiet S          before each store, wait up to S seconds for other load on the machine to stop (default 120; 0: don't)
  --priority=N            nice value (-20..19) for this process, the server and its embedded PostgreSQL, e.g. --priority=-10 to shield
                          the measurements from other work on a shared machine (root only for negative values; default: unchanged)
  --strict                exit 2 when a target is missed (exit 1 is for failed checks and errors)`;

interface Target {
  name: string;
  target: string;
  value: number | null;
  unit: string;
  pass: boolean;
}

interface StoreResult {
  store: StoreKind;
  /** Which server code ran: a digest of src/ when the server started (the tree may change between stores while others work on it). */
  sourceFingerprint?: { digest: string; files: number; newestChange: string };
  /** CPU other processes used just before the start (cores), and how long the run waited for them. */
  quietBeforeStart?: { waitedS: number; busyCores: number };
  /** Phases in which other processes on the machine used more than a quarter of a core on average: their figures are unreliable. */
  noisyPhases: string[];
  startedAt: string;
  finishedAt?: string;
  serverLog?: string;
  database?: Record<string, string>;
  import?: ImportReport;
  tables?: { afterImport?: TableStats; beforeSearch?: TableStats; afterRun?: TableStats };
  list?: ListReport;
  search?: SearchReport;
  throughput?: ThroughputReport;
  reimport?: ReimportReport;
  memory?: MemoryReport;
  memoryByPhase: PhaseMemory[];
  explain?: ExplainResult[];
  /** Only when the planner had no fresh statistics during the search phase: ANALYZE, then the same searches again. Not a target. */
  diagnostic?: { reason: string; analyzeMs: number; search: SearchReport; explain: ExplainResult[] };
  checks: { passed: number; problems: string[] };
  targets: Target[];
  pass: boolean;
  error?: string;
}

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      entities: { type: 'string' },
      store: { type: 'string', default: 'both' },
      batch: { type: 'string', default: '5000' },
      requests: { type: 'string', default: '300' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      seed: { type: 'string', default: '24301' },
      'pg-url': { type: 'string', default: process.env.PAVE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      'log-level': { type: 'string', default: 'warn' },
      strict: { type: 'boolean', default: false },
      'wait-quiet': { type: 'string', default: '120' },
      priority: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    process.exit(0);
  }
  const int = intOption;
  if (!['embedded', 'external', 'both'].includes(values.store)) throw new Error(`--store must be embedded, external or both, got ${values.store}`);
  return {
    quick: values.quick,
    entities: int('entities', values.entities ?? (values.quick ? '10000' : '100000'), 100),
    stores: (values.store === 'both' ? ['embedded', 'external'] : [values.store]) as StoreKind[],
    batch: int('batch', values.batch, 1),
    requests: int('requests', values.requests, 1),
    duration: int('duration', values.duration, 1),
    connections: int('connections', values.connections, 1),
    seed: int('seed', values.seed, 0),
    pgUrl: values['pg-url'],
    logLevel: values['log-level'],
    strict: values.strict,
    waitQuiet: int('wait-quiet', values['wait-quiet'], 0),
    priority: values.priority === undefined ? undefined : int('priority', values.priority, -20),
  };
}
type Options = ReturnType<typeof parse>;

const log = (s: string) => process.stdout.write(s + '\n');

function sourceFingerprint(): { digest: string; files: number; newestChange: string } {
  const hash = createHash('sha256');
  let files = 0;
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        hash.update(path.relative(ROOT, p)).update('\0').update(readFileSync(p)).update('\0');
        newest = Math.max(newest, statSync(p).mtimeMs);
        files++;
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  return { digest: hash.digest('hex').slice(0, 12), files, newestChange: new Date(newest).toISOString() };
}

function evaluate(r: StoreResult): Target[] {
  const t = (name: string, target: string, value: number | null | undefined, unit: string, ok: (v: number) => boolean): Target => ({
    name, target, value: value ?? null, unit, pass: value !== undefined && value !== null && ok(value),
  });
  return [
    t('import', `< ${TARGETS.importMs / 1000} s`, r.import?.wallMs, 'ms', (v) => v < TARGETS.importMs),
    t('list p95', `< ${TARGETS.listP95Ms} ms`, r.list?.all.p95Ms, 'ms', (v) => v < TARGETS.listP95Ms),
    t('search p95', `< ${TARGETS.searchP95Ms} ms`, r.search?.all.p95Ms, 'ms', (v) => v < TARGETS.searchP95Ms),
    t('peak server RSS', `< ${TARGETS.serverPeakRssMb} MB`, r.memory?.serverPeakRssMb, 'MB', (v) => v < TARGETS.serverPeakRssMb),
    t('list throughput', `≥ ${TARGETS.listRequestsPerSecond} req/s`, r.throughput?.requestsPerSecond.mean, 'req/s', (v) => v >= TARGETS.listRequestsPerSecond),
  ];
}

async function benchStore(store: StoreKind, ds: Dataset, oracle: SearchOracle, opts: Options, timestamp: string, resultsDir: string): Promise<StoreResult> {
  const result: StoreResult = { store, startedAt: new Date().toISOString(), memoryByPhase: [], noisyPhases: [], checks: { passed: 0, problems: [] }, targets: [], pass: false };
  const checks = new Checks();
  const batches = importBatches(ds, opts.batch);
  log(`\n== ${store} store ==`);
  if (opts.waitQuiet > 0) result.quietBeforeStart = await waitQuiet(opts.waitQuiet, 0.3, log);
  result.sourceFingerprint = sourceFingerprint();
  let h: ServerHandle;
  try {
    h = await startServer({ store, adminUrl: opts.pgUrl, logLevel: opts.logLevel, logDir: resultsDir, timestamp, ...(opts.priority !== undefined ? { priority: opts.priority } : {}) });
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${store}: ERROR ${result.error}`);
    result.finishedAt = new Date().toISOString();
    result.targets = evaluate(result);
    return result;
  }
  try {
    result.serverLog = path.relative(ROOT, h.logFile);
    result.database = h.databaseInfo;
    log(`server pid ${h.pid} at ${h.url}, ready in ${h.databaseInfo.readyInMs} ms`);
    result.memoryByPhase.push(await h.mark('started'));

    log(`import: ${ds.entities.length} entities in ${batches.length} requests of ${opts.batch}`);
    result.import = await importAll(h, batches, checks, log);
    log(`import: ${(result.import.wallMs / 1000).toFixed(1)} s (${result.import.entitiesPerSecond} entities/s)`);
    result.memoryByPhase.push(await h.mark('import'));
    await spotCheck(h, ds, checks);
    result.tables = { afterImport: await tableStats(h) };

    log(`list: ${opts.requests} sequential requests`);
    result.list = await listLatency(h, ds, opts.requests, checks);
    result.memoryByPhase.push(await h.mark('list'));

    result.tables.beforeSearch = await tableStats(h);
    log(`search: ${opts.requests} sequential requests`);
    result.search = await searchLatency(h, ds, oracle, opts.requests, checks);
    result.memoryByPhase.push(await h.mark('search'));

    log(`throughput: ${opts.connections} connections for ${opts.duration} s`);
    result.throughput = await listThroughput(h, ds, opts.connections, opts.duration, checks);
    result.memoryByPhase.push(await h.mark('throughput'));

    const again = batches[Math.floor(batches.length / 2)]!;
    log(`re-import: batch ${again.index} (${again.entities} entities)`);
    result.reimport = await reimport(h, again, checks);
    result.memoryByPhase.push(await h.mark('reimport'));

    log('explain analyze');
    const cases = explainCases(ds, result.search);
    result.explain = await explain(h, cases);
    result.tables.afterRun = await tableStats(h);

    const bs = result.tables.beforeSearch;
    const stale = !bs.lastAnalyze ? 'entities had never been analyzed' : bs.modifiedSinceAnalyze > bs.entities * 0.1 ? `${bs.modifiedSinceAnalyze} of ${bs.entities} entities changed since the last ANALYZE` : '';
    if (stale) {
      const reason = `${stale} when the searches ran (autovacuum ${bs.settings.autovacuum ?? '?'})`;
      log(`diagnostic: ${reason}; ANALYZE, then the same searches again (not a target)`);
      const analyzeMs = await analyzeTables(h);
      const search = await searchLatency(h, ds, oracle, opts.requests, checks);
      result.diagnostic = { reason, analyzeMs, search, explain: await explain(h, cases) };
    }
  } catch (err) {
    result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`${store}: ERROR ${result.error}`);
  } finally {
    result.memory = await h.stop();
    result.finishedAt = new Date().toISOString();
  }
  result.noisyPhases = result.memoryByPhase.filter((p) => p.wallS > 0.5 && p.otherCpuS / p.wallS > 0.25).map((p) => p.phase);
  result.checks = { passed: checks.passed, problems: checks.problems };
  result.targets = evaluate(result);
  result.pass = !result.error && checks.problems.length === 0 && result.targets.every((t) => t.pass);
  return result;
}

const f1 = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(1));

function summary(r: StoreResult): string {
  const fp = r.sourceFingerprint;
  const out: string[] = [`\n=== ${r.store} store ===${fp ? `  (src ${fp.digest}, ${fp.files} files, last changed ${fp.newestChange})` : ''}`];
  if (r.error) out.push(`ERROR: ${r.error.split('\n')[0]}`);
  const im = r.import;
  if (im) {
    out.push(`import       ${im.entities} entities, ${im.requests} requests × ${im.batchSize}, ${(im.requestBytes / 1048576).toFixed(1)} MB JSON: ${(im.wallMs / 1000).toFixed(2)} s wall (${im.entitiesPerSecond}/s; per request p50 ${im.batchMs.p50Ms} ms, max ${im.batchMs.maxMs} ms)`);
    out.push(`             created ${im.totals.created}, updated ${im.totals.updated}, unchanged ${im.totals.unchanged}, failed ${im.totals.failed}`);
  }
  const t = r.tables?.afterImport;
  if (t) out.push(`database     ${t.entities} entities, ${t.relations} relation rows; entities ${t.entitiesSize}, relations ${t.relationsSize}, database ${t.databaseSize}; PostgreSQL ${t.settings.server_version}, shared_buffers ${t.settings.shared_buffers}`);
  const l = r.list;
  if (l) {
    out.push(`list         ${l.requests} sequential (${l.firstPages} first pages + ${l.cursorFollowUps} cursor pages): p50 ${l.all.p50Ms} ms, p95 ${l.all.p95Ms} ms, p99 ${l.all.p99Ms} ms, max ${l.all.maxMs} ms; ${Math.round(l.meanResponseBytes / 1024)} KB per page`);
  }
  const s = r.search;
  if (s) {
    out.push(`search       ${s.requests} sequential: p50 ${s.all.p50Ms} ms, p95 ${s.all.p95Ms} ms, p99 ${s.all.p99Ms} ms, max ${s.all.maxMs} ms; ${Math.round(s.meanResponseBytes / 1024)} KB per page`);
    for (const [cat, c] of Object.entries(s.byCategory)) out.push(`               ${cat.padEnd(12)} p50 ${String(c.p50Ms).padStart(7)} ms  p95 ${String(c.p95Ms).padStart(7)} ms  max ${String(c.maxMs).padStart(7)} ms  (median ${c.medianMatches} matches)`);
  }
  const tp = r.throughput;
  if (tp) {
    out.push(`throughput   ${tp.connections} connections, ${tp.durationS} s: ${tp.requestsPerSecond.mean} req/s mean (${tp.requestsTotal} requests); latency p50 ${tp.latencyMs.p50} ms, p97.5 ${tp.latencyMs.p97_5} ms, p99 ${tp.latencyMs.p99} ms; ${(tp.bytesPerSecond / 1048576).toFixed(1)} MB/s; non-2xx ${tp.non2xx}, errors ${tp.errors}`);
  }
  const ri = r.reimport;
  if (ri) out.push(`re-import    ${ri.entities} entities again: ${ri.ms} ms, unchanged ${ri.unchanged}, created ${ri.created}, updated ${ri.updated}, failed ${ri.failed}`);
  const m = r.memory;
  if (m) {
    out.push(`memory       server peak RSS (VmHWM) ${f1(m.serverPeakRssMb)} MB`);
    out.push(`             database peak: RSS sum ${f1(m.database.peakRssSumMb)} MB, PSS sum ${f1(m.database.peakPssSumMb)} MB over ${m.database.processesAtPeak} processes (${m.database.scope})`);
    out.push(`             by phase (server VmHWM): ${r.memoryByPhase.map((p) => `${p.phase} ${f1(p.serverPeakRssMb)}`).join(', ')}`);
    out.push('phases       wall s   CPU s: server   db  bench  other*  autovacuum  server RSS  V8 heap used/total  external');
    for (const p of r.memoryByPhase.slice(1)) {
      const cpu = [p.serverCpuS, p.dbCpuS, p.benchCpuS, p.otherCpuS].map((v) => v.toFixed(1).padStart(5)).join('  ');
      out.push(`  ${p.phase.padEnd(12)} ${p.wallS.toFixed(1).padStart(6)}  ${cpu.padStart(26)}  ${`${Math.round(p.autovacuumShare * 100)}%`.padStart(10)}  ${`${f1(p.serverRssMb)} MB`.padStart(10)}  ${`${f1(p.serverHeapUsedMb ?? undefined)}/${f1(p.serverHeapTotalMb ?? undefined)} MB`.padStart(18)}  ${f1(p.serverExternalMb ?? undefined)} MB`);
    }
    out.push('             * other: CPU used on this machine by anything else (other builds/tests, unwatched PostgreSQL processes): measurements are noisy when it is high');
  }
  for (const e of r.explain ?? []) out.push(`explain      ${e.executionMs} ms  ${e.label}`);
  const d = r.diagnostic;
  if (d) {
    out.push(`diagnostic   ${d.reason}: after ANALYZE (${d.analyzeMs} ms) the same searches: p50 ${d.search.all.p50Ms} ms, p95 ${d.search.all.p95Ms} ms, p99 ${d.search.all.p99Ms} ms (not a target)`);
    for (const e of d.explain) out.push(`               explain ${e.executionMs} ms  ${e.label.replace(/, [\d.]+ ms over HTTP$/, '')}`);
  }
  if (r.noisyPhases.length) out.push(`NOISY        other processes on this machine used > 0.25 core during: ${r.noisyPhases.join(', ')}: those figures are unreliable; run again on a quiet machine`);
  out.push(`checks       ${r.checks.passed} passed, ${r.checks.problems.length} problems${r.checks.problems.length ? ':' : ''}`);
  for (const p of r.checks.problems.slice(0, 10)) out.push(`               - ${p}`);
  out.push('targets');
  for (const tg of r.targets) out.push(`  ${tg.pass ? 'PASS' : 'FAIL'}  ${tg.name.padEnd(16)} ${tg.value === null ? 'n/a' : `${tg.value} ${tg.unit}`.padEnd(14)} (target ${tg.target})`);
  return out.join('\n');
}

async function main() {
  const opts = parse();
  if (opts.priority !== undefined) os.setPriority(opts.priority); // the load generator and checks run here
  const started = new Date();
  const timestamp = started.toISOString().replace(/[:.]/g, '-');
  const resultsDir = path.join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });

  let t = performance.now();
  const ds = generate({ entities: opts.entities, seed: opts.seed });
  const oracle = new SearchOracle(ds.entities);
  log(`generated ${ds.entities.length} entities (${Object.entries(ds.counts).map(([k, v]) => `${v} ${k}s`).join(', ')}; ` +
    `${(ds.yamlBytes / 1048576).toFixed(1)} MB of YAML, ${ds.relationsDeclared} declared relations) in ${Math.round(performance.now() - t)} ms`);

  const meta = {
    startedAt: started.toISOString(),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    options: { ...opts, pgUrl: opts.pgUrl.replace(/:[^:@/]+@/, ':***@') },
    dataset: { seed: ds.seed, entities: ds.entities.length, counts: ds.counts, yamlBytes: ds.yamlBytes, relationsDeclared: ds.relationsDeclared, teamsOwningApps: ds.appsByOwner.size, maxAppsPerOwner: Math.max(...ds.appsByOwner.values()) },
    targets: TARGETS,
    notes: [
      'latencies are client-side wall times over HTTP on loopback (fetch, keep-alive), server, PostgreSQL and client sharing the same cores',
      'the first 20 list and 10 search requests warm up the server and are not counted',
      'providesApis/consumesApis name API entities that are not in the generated catalog: those relations stay unresolved by design',
    ],
  };

  const results: StoreResult[] = [];
  for (const store of opts.stores) {
    if (isInterrupted()) break;
    t = performance.now();
    const r = await benchStore(store, ds, oracle, opts, timestamp, resultsDir);
    results.push(r);
    const file = path.join(resultsDir, `catalog-${store}-${timestamp}.json`);
    writeFileSync(file, JSON.stringify({ meta, result: r }, null, 2) + '\n');
    log(`${store}: done in ${Math.round((performance.now() - t) / 1000)} s, results in ${path.relative(ROOT, file)}`);
  }
  writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify({ meta, results }, null, 2) + '\n');

  log(`\n##### Pave catalog benchmark: ${ds.entities.length} entities${opts.quick ? ' (quick)' : ''}, ${meta.machine.cpus} cores, Node ${process.version}`);
  for (const r of results) log(summary(r));
  const failedChecks = results.some((r) => r.error || r.checks.problems.length > 0);
  const missed = results.some((r) => r.targets.some((tg) => !tg.pass));
  log(`\n${failedChecks ? 'FAILED: errors or wrong answers (see above)' : missed ? 'Checks passed; some targets missed' : 'All checks passed and all targets met'}. Results: bench/results/latest.json`);
  process.exitCode = failedChecks ? 1 : missed && opts.strict ? 2 : 0;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping servers and removing benchmark databases…\n`);
    void runCleanups(true).finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanups();
}
