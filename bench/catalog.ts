/**
 * The catalog benchmark phases against a running server: bulk import through the API, filtered list
 * and full-text search latencies (sequential), list throughput under concurrency (autocannon),
 * idempotent re-import, and EXPLAIN ANALYZE of the queries behind them. Every phase also checks the
 * answers against what the generator knows, so a fast wrong answer does not pass.
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { pageStatement } from '../src/catalog/repository.ts';
import { Rng, SearchOracle, searchQueries, type Dataset, type ImportBatch, type SearchCategory } from './generate.ts';
import type { ServerHandle } from './server.ts';
import { latencyStats, type LatencyStats } from './stats.ts';

export type { LatencyStats };

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export const stats = (values: number[]): LatencyStats => latencyStats(values, 2);

interface EntityItem {
  ref: string;
  kind: string;
  owner: string | null;
}
interface PageBody {
  items: EntityItem[];
  nextCursor: string | null;
}
interface ImportResultBody {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  skipped: number;
  errors: { location: string; document: number; message: string }[];
  unresolvedCount: number;
}

async function call<T>(h: ServerHandle, path: string, init: RequestInit = {}): Promise<{ status: number; body: T; ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(h.url + path, {
    ...init,
    headers: { authorization: `Bearer ${h.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
    signal: AbortSignal.timeout(600_000),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    body = text as T;
  }
  return { status: res.status, body, ms, bytes: Buffer.byteLength(text) };
}

/** Problems found while checking answers; the run fails when there are any. */
export class Checks {
  readonly problems: string[] = [];
  passed = 0;
  ok(cond: boolean, problem: () => string): void {
    if (cond) this.passed++;
    else if (this.problems.length < 50) this.problems.push(problem());
    else if (this.problems.length === 50) this.problems.push('… (more problems not listed)');
  }
}

// ---- import ----------------------------------------------------------------------------------------

export interface ImportReport {
  entities: number;
  requests: number;
  batchSize: number;
  requestBytes: number;
  wallMs: number;
  entitiesPerSecond: number;
  batchMs: LatencyStats;
  slowestBatches: { index: number; ms: number }[];
  totals: { created: number; updated: number; unchanged: number; failed: number; skipped: number };
  unresolvedRelationsReportedLastBatch: number;
  firstErrors: string[];
}

export async function importAll(h: ServerHandle, batches: ImportBatch[], checks: Checks, log: (s: string) => void): Promise<ImportReport> {
  const bodies = batches.map((b) => JSON.stringify({ files: b.files }));
  const requestBytes = bodies.reduce((a, b) => a + Buffer.byteLength(b), 0);
  const totals = { created: 0, updated: 0, unchanged: 0, failed: 0, skipped: 0 };
  const perBatch: { index: number; ms: number }[] = [];
  const firstErrors: string[] = [];
  let unresolved = 0;
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i++) {
    const r = await call<ImportResultBody>(h, '/api/v1/catalog/import', { method: 'POST', body: bodies[i]! });
    perBatch.push({ index: i, ms: round(r.ms) });
    if (r.status !== 200) {
      throw new Error(`import batch ${i} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 1000)}`);
    }
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.body[k];
    for (const e of r.body.errors.slice(0, 5 - firstErrors.length)) firstErrors.push(`${e.location}#${e.document}: ${e.message}`);
    unresolved = r.body.unresolvedCount;
    log(`  batch ${i + 1}/${batches.length}: ${batches[i]!.entities} entities in ${Math.round(r.ms)} ms (created ${r.body.created}, failed ${r.body.failed})`);
  }
  const wallMs = performance.now() - t0;
  const entities = batches.reduce((a, b) => a + b.entities, 0);
  checks.ok(totals.created === entities, () => `import created ${totals.created}, expected ${entities}`);
  checks.ok(totals.failed === 0, () => `import failed ${totals.failed} documents, e.g. ${firstErrors.join('; ')}`);
  checks.ok(totals.updated === 0 && totals.unchanged === 0 && totals.skipped === 0, () => `import into an empty store reported updated ${totals.updated}, unchanged ${totals.unchanged}, skipped ${totals.skipped}`);
  return {
    entities,
    requests: batches.length,
    batchSize: batches[0]?.entities ?? 0,
    requestBytes,
    wallMs: round(wallMs, 0),
    entitiesPerSecond: round(entities / (wallMs / 1000), 0),
    batchMs: stats(perBatch.map((b) => b.ms)),
    slowestBatches: [...perBatch].sort((a, b) => b.ms - a.ms).slice(0, 3),
    totals,
    unresolvedRelationsReportedLastBatch: unresolved,
    firstErrors,
  };
}

/** A few entities read back one by one: they exist, under the ref they were imported as. */
export async function spotCheck(h: ServerHandle, ds: Dataset, checks: Checks, n = 20): Promise<void> {
  const rng = new Rng(ds.seed ^ 0x5107);
  for (let i = 0; i < n; i++) {
    const e = ds.entities[rng.int(ds.entities.length)]!;
    const [kind, rest] = e.ref.split(':') as [string, string];
    const r = await call<{ ref: string }>(h, `/api/v1/entities/${kind}/${rest}`);
    checks.ok(r.status === 200 && r.body.ref === e.ref, () => `GET ${e.ref} answered ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  }
}

export interface ReimportReport {
  batchIndex: number;
  entities: number;
  ms: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export async function reimport(h: ServerHandle, batch: ImportBatch, checks: Checks): Promise<ReimportReport> {
  const body = JSON.stringify({ files: batch.files });
  const r = await call<ImportResultBody>(h, '/api/v1/catalog/import', { method: 'POST', body });
  if (r.status !== 200) throw new Error(`re-import answered ${r.status}: ${JSON.stringify(r.body).slice(0, 1000)}`);
  const { created, updated, unchanged, failed } = r.body;
  checks.ok(unchanged === batch.entities && created === 0 && updated === 0 && failed === 0, () => `re-import of ${batch.entities} entities: created ${created}, updated ${updated}, unchanged ${unchanged}, failed ${failed}`);
  return { batchIndex: batch.index, entities: batch.entities, ms: round(r.ms), created, updated, unchanged, failed };
}

// ---- filtered list ---------------------------------------------------------------------------------

export interface ListReport {
  requests: number;
  warmup: number;
  firstPages: number;
  cursorFollowUps: number;
  all: LatencyStats;
  firstPage: LatencyStats;
  cursorPage: LatencyStats;
  meanResponseBytes: number;
  slowest: { path: string; ms: number; items: number }[];
}

const listPath = (owner: string, cursor?: string) =>
  `/api/v1/entities?kind=application&owner=${encodeURIComponent(owner)}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

/** Owners in a fixed pseudo-random order (every team, with or without applications). */
function ownerSequence(ds: Dataset, seed: number, n: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.pick(ds.teams));
}

export async function listLatency(h: ServerHandle, ds: Dataset, n: number, checks: Checks): Promise<ListReport> {
  const rng = new Rng(ds.seed ^ 0x1157);
  const owners = ownerSequence(ds, ds.seed ^ 0x0e7, n + 50);
  const warmup = 20;
  for (let i = 0; i < warmup; i++) await call(h, listPath(owners[owners.length - 1 - i]!));
  const first: number[] = [];
  const follow: number[] = [];
  const slow: { path: string; ms: number; items: number }[] = [];
  let bytes = 0;
  let oi = 0;
  while (first.length + follow.length < n) {
    const owner = owners[oi++ % owners.length]!;
    const expected = ds.appsByOwner.get(owner) ?? 0;
    let cursor: string | undefined;
    let seen = new Set<string>();
    let pages = 0;
    const followUps = rng.chance(0.35) ? rng.range(1, 3) : 0;
    do {
      const path = listPath(owner, cursor);
      const r = await call<PageBody>(h, path);
      (pages === 0 ? first : follow).push(r.ms);
      bytes += r.bytes;
      slow.push({ path, ms: r.ms, items: r.body.items?.length ?? -1 });
      if (r.status !== 200) {
        checks.ok(false, () => `GET ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
        break;
      }
      const items = r.body.items;
      const remaining = expected - seen.size;
      checks.ok(items.length === Math.min(50, remaining), () => `${path}: ${items.length} items, expected ${Math.min(50, remaining)} (${owner} owns ${expected} applications)`);
      checks.ok((r.body.nextCursor !== null) === remaining > 50, () => `${path}: nextCursor ${r.body.nextCursor === null ? 'missing' : 'present'} with ${remaining} remaining`);
      checks.ok(items.every((e) => e.kind === 'application' && e.owner === owner), () => `${path}: an item of another kind or owner`);
      checks.ok(items.every((e) => !seen.has(e.ref)), () => `${path}: an item repeated from an earlier page`);
      seen = new Set([...seen, ...items.map((e) => e.ref)]);
      cursor = r.body.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages <= followUps && first.length + follow.length < n);
  }
  return {
    requests: first.length + follow.length,
    warmup,
    firstPages: first.length,
    cursorFollowUps: follow.length,
    all: stats([...first, ...follow]),
    firstPage: stats(first),
    cursorPage: stats(follow),
    meanResponseBytes: Math.round(bytes / (first.length + follow.length)),
    slowest: slow.sort((a, b) => b.ms - a.ms).slice(0, 5).map((s) => ({ ...s, ms: round(s.ms) })),
  };
}

// ---- search ----------------------------------------------------------------------------------------

export interface SearchReport {
  requests: number;
  warmup: number;
  all: LatencyStats;
  byCategory: Record<string, LatencyStats & { medianMatches: number }>;
  meanResponseBytes: number;
  slowest: { q: string; category: SearchCategory; ms: number; matches: number }[];
  slowestByCategory: { q: string; category: SearchCategory; ms: number; matches: number }[];
}

export async function searchLatency(h: ServerHandle, ds: Dataset, oracle: SearchOracle, n: number, checks: Checks): Promise<SearchReport> {
  const queries = searchQueries(ds, n + 10, ds.seed ^ 0x5ea7);
  const expectedOf = new Map(queries.map((x) => [x.q, oracle.matches(x.q)]));
  const warm = queries.slice(n);
  for (const w of warm) await call(h, `/api/v1/entities?q=${encodeURIComponent(w.q)}&limit=50`);
  const rows: { q: string; category: SearchCategory; ms: number; matches: number }[] = [];
  let bytes = 0;
  for (const { q, category } of queries.slice(0, n)) {
    const expected = expectedOf.get(q)!;
    const path = `/api/v1/entities?q=${encodeURIComponent(q)}&limit=50`;
    const r = await call<PageBody>(h, path);
    rows.push({ q, category, ms: r.ms, matches: expected.size });
    bytes += r.bytes;
    if (r.status !== 200) {
      checks.ok(false, () => `GET ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      continue;
    }
    const items = r.body.items;
    checks.ok(items.length === Math.min(50, expected.size), () => `search "${q}": ${items.length} items, expected ${Math.min(50, expected.size)} of ${expected.size} matches`);
    checks.ok((r.body.nextCursor !== null) === expected.size > 50, () => `search "${q}": nextCursor ${r.body.nextCursor === null ? 'missing' : 'present'} with ${expected.size} matches`);
    const refs = oracle.refsOf(expected);
    checks.ok(items.every((e) => refs.has(e.ref)), () => `search "${q}": returned ${items.find((e) => !refs.has(e.ref))?.ref}, which does not contain every word`);
  }
  const byCategory: SearchReport['byCategory'] = {};
  for (const cat of new Set(rows.map((r) => r.category))) {
    const of = rows.filter((r) => r.category === cat);
    const m = of.map((r) => r.matches).sort((a, b) => a - b);
    byCategory[cat] = { ...stats(of.map((r) => r.ms)), medianMatches: m[Math.floor(m.length / 2)] ?? 0 };
  }
  return {
    requests: rows.length,
    warmup: warm.length,
    all: stats(rows.map((r) => r.ms)),
    byCategory,
    meanResponseBytes: Math.round(bytes / (rows.length || 1)),
    slowest: [...rows].sort((a, b) => b.ms - a.ms).slice(0, 8).map((r) => ({ ...r, ms: round(r.ms) })),
    slowestByCategory: [...new Set(rows.map((r) => r.category))].map((cat) => {
      const top = rows.filter((r) => r.category === cat).sort((a, b) => b.ms - a.ms)[0]!;
      return { ...top, ms: round(top.ms) };
    }),
  };
}

// ---- throughput ------------------------------------------------------------------------------------

export interface ThroughputReport {
  connections: number;
  durationS: number;
  requestsTotal: number;
  requestsPerSecond: { mean: number; stddev: number; min: number; max: number };
  latencyMs: { mean: number; p50: number; p97_5: number; p99: number; max: number };
  bytesPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

export async function listThroughput(h: ServerHandle, ds: Dataset, connections: number, durationS: number, checks: Checks): Promise<ThroughputReport> {
  const paths = ownerSequence(ds, ds.seed ^ 0x7a0, 2000).map((o) => listPath(o));
  let i = 0;
  const result = await autocannon({
    url: h.url,
    connections,
    duration: durationS,
    timeout: 10,
    headers: { authorization: `Bearer ${h.token}` },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats)) statusCodes[code] = Number(s.count);
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  checks.ok(result.non2xx === 0 && result.errors === 0 && result.timeouts === 0, () => `throughput: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (${JSON.stringify(statusCodes)})`);
  return {
    connections,
    durationS: result.duration,
    requestsTotal: total,
    requestsPerSecond: { mean: round(result.requests.mean), stddev: round(result.requests.stddev), min: result.requests.min, max: result.requests.max },
    latencyMs: { mean: round(result.latency.mean), p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max },
    bytesPerSecond: Math.round(result.throughput.mean),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

// ---- database view ---------------------------------------------------------------------------------

export interface TableStats {
  entities: number;
  relations: number;
  entitiesSize: string;
  relationsSize: string;
  databaseSize: string;
  lastAnalyze: string | null;
  /** Rows changed in entities since its last ANALYZE: the planner's statistics are stale when this is a large share. */
  modifiedSinceAnalyze: number;
  settings: Record<string, string>;
}

async function withDb<T>(h: ServerHandle, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: h.databaseUrl(), application_name: 'pave-bench-explain' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Row counts and sizes straight from the database, and whether the planner has statistics yet. */
export async function tableStats(h: ServerHandle): Promise<TableStats> {
  return withDb(h, async (c) => {
    const r = await c.query<{ entities: number; relations: number; es: string; rs: string; ds: string; la: Date | null; mod: number }>(`
      SELECT (SELECT count(*)::int FROM entities) AS entities, (SELECT count(*)::int FROM relations) AS relations,
             pg_size_pretty(pg_total_relation_size('entities')) AS es, pg_size_pretty(pg_total_relation_size('relations')) AS rs,
             pg_size_pretty(pg_database_size(current_database())) AS ds,
             (SELECT greatest(last_analyze, last_autoanalyze) FROM pg_stat_user_tables WHERE relname = 'entities') AS la,
             (SELECT n_mod_since_analyze::int FROM pg_stat_user_tables WHERE relname = 'entities') AS mod`);
    const row = r.rows[0]!;
    const set = await c.query<{ name: string; setting: string }>(`
      SELECT name, current_setting(name) AS setting FROM pg_settings
      WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'effective_cache_size', 'fsync', 'synchronous_commit', 'full_page_writes',
                     'max_connections', 'max_wal_size', 'autovacuum', 'jit')`);
    const settings = Object.fromEntries(set.rows.map((x) => [x.name, x.setting]));
    const coll = await c.query<{ datcollate: string }>('SELECT datcollate FROM pg_database WHERE datname = current_database()');
    settings.datcollate = coll.rows[0]?.datcollate ?? '';
    return { entities: row.entities, relations: row.relations, entitiesSize: row.es, relationsSize: row.rs, databaseSize: row.ds, lastAnalyze: row.la ? row.la.toISOString() : null, modifiedSinceAnalyze: row.mod, settings };
  });
}

export interface ExplainCase {
  label: string;
  sql: string;
  params: unknown[];
  /** The server runs it as a named prepared statement: EXPLAIN its generic plan, which PostgreSQL settles on after five runs. */
  generic?: boolean;
}

export interface ExplainResult {
  label: string;
  sql: string;
  params: unknown[];
  executionMs: number;
  plan: string[];
}

/** The list and search statements the server sends (pageStatement, as listEntitiesJson runs them). */
export function explainCases(ds: Dataset, search: SearchReport): ExplainCase[] {
  const biggest = [...ds.appsByOwner.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const page = (q: Parameters<typeof pageStatement>[0]) => pageStatement(q)!;
  const list = page({ kind: 'application', owner: biggest[0], limit: 50 });
  const cases: ExplainCase[] = [
    { label: `list: owner with the most applications (${biggest[0]}, ${biggest[1]} apps), first page`, sql: list.text, params: list.values, generic: list.name !== undefined },
  ];
  for (const s of search.slowestByCategory) {
    const st = page({ q: s.q, limit: 50 });
    cases.push({ label: `search (${s.category}) "${s.q}": ${s.matches} matches, ${s.ms} ms over HTTP`, sql: st.text, params: st.values, generic: st.name !== undefined });
  }
  return cases;
}

/** ANALYZE of the catalog tables (used only for the diagnostic re-run when the planner had no fresh statistics). */
export async function analyzeTables(h: ServerHandle): Promise<number> {
  return withDb(h, async (c) => {
    const t0 = performance.now();
    await c.query('ANALYZE entities, relations');
    return round(performance.now() - t0);
  });
}

export async function explain(h: ServerHandle, cases: ExplainCase[]): Promise<ExplainResult[]> {
  return withDb(h, async (c) => {
    const out: ExplainResult[] = [];
    for (const ec of cases) {
      let r: pg.QueryResult<{ 'QUERY PLAN': string }>;
      if (ec.generic) {
        await c.query(`PREPARE bench_explain AS ${ec.sql}`);
        await c.query('SET plan_cache_mode = force_generic_plan');
        const args = ec.params.map((p) => c.escapeLiteral(String(p))).join(', ');
        r = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explain(${args})`);
        await c.query('RESET plan_cache_mode');
        await c.query('DEALLOCATE bench_explain');
      } else {
        r = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${ec.sql}`, ec.params);
      }
      const plan = r.rows.map((x) => x['QUERY PLAN']);
      const exec = /Execution Time: ([\d.]+) ms/.exec(plan.join('\n'));
      out.push({ label: `${ec.label}${ec.generic ? ' (generic plan)' : ''}`, sql: ec.sql.replace(/\s+/g, ' '), params: ec.params, executionMs: exec ? Number(exec[1]) : -1, plan });
    }
    return out;
  });
}
