import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { driverCalls } from '../../../test/drivers/conformance.ts';
import { assertNoSecrets, assertOperationShapes, identity, num, runOperation, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type Driver, type ProvisionResult } from './driver.ts';
import { postgresDriver, type PostgresInputs } from './postgres.ts';

const ADMIN_URL = process.env.PAVE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new URL(ADMIN_URL);
const skip = await serviceGate('postgres', admin.hostname, Number(admin.port || 5432));
const inputs: PostgresInputs = { adminUrl: ADMIN_URL };

/** Open clients, ended in `after` (some are terminated by the tests: their errors are expected). */
const clients: pg.Client[] = [];

async function open(config: pg.ClientConfig): Promise<pg.Client> {
  const c = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  clients.push(c);
  await c.connect();
  return c;
}

/** A client of the application (its own credentials, its own database). */
const asApp = (o: Record<string, unknown>) => open({ host: str(o.host), port: num(o.port), user: str(o.username), password: str(o.password), database: str(o.database) });

/** An admin client in `database`. */
function asAdmin(database: string): Promise<pg.Client> {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${encodeURIComponent(database)}`;
  return open({ connectionString: u.toString() });
}

async function query<R extends pg.QueryResultRow>(database: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const c = await asAdmin(database);
  try {
    return (await c.query<R>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

/** Index name → relfilenode: REINDEX gives every rebuilt index a new one. */
async function indexFiles(database: string): Promise<Record<string, string>> {
  const rows = await query<{ name: string; file: string }>(
    database,
    `SELECT n.nspname || '.' || c.relname AS name, c.relfilenode::text AS file FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('public', 'extra') ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.file]));
}

interface TableStats {
  dead: number;
  vacuumed: boolean;
  analyzed: boolean;
}

async function tableStats(database: string, table: string): Promise<TableStats> {
  const [r] = await query<{ dead: string; vacuumed: boolean; analyzed: boolean }>(
    database,
    'SELECT n_dead_tup::text AS dead, last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed FROM pg_stat_all_tables WHERE relid = $1::regclass',
    [table],
  );
  assert.ok(r, `stats of ${table}`);
  return { dead: Number(r.dead), vacuumed: r.vacuumed, analyzed: r.analyzed };
}

async function count(database: string, table: string): Promise<number> {
  return Number((await query<{ n: string }>(database, `SELECT count(*)::text AS n FROM ${table}`))[0]?.n);
}

/** The pids of client backends connected to `database`. */
async function pidsOf(database: string): Promise<number[]> {
  return (await query<{ pid: number }>('postgres', `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' ORDER BY pid`, [database])).map((r) => r.pid);
}

async function pidOf(c: pg.Client): Promise<number> {
  return (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

/** Polls until `fn` holds (backends exit asynchronously after pg_terminate_backend). */
async function eventually(what: string, fn: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

function rejectsBadArgs(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof DriverError, String(err));
    assert.match(err.message, pattern);
    assert.equal(err.retryable, false);
    return true;
  };
}

test('postgres operations: reindex, terminate-idle-connections, vacuum-analyze, with JSON Schema parameters Pave can compile', async () => {
  await assertOperationShapes(postgresDriver as unknown as Driver<never>, ['reindex', 'terminate-idle-connections', 'vacuum-analyze']);
  const props = postgresDriver.operations?.['terminate-idle-connections']?.parameters.properties as Record<string, { default?: unknown }>;
  assert.equal(props.idleSeconds?.default, 300);
});

describe('postgres operations against a real PostgreSQL', { skip: skip ?? false, timeout: 60_000 }, () => {
  const ida = identity('postgres', 'op-a');
  const a = driverCalls(postgresDriver, ida, { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(postgresDriver, identity('postgres', 'op-b'), { inputs, dataDir: '/nonexistent' });
  let ra: ProvisionResult;
  let rb: ProvisionResult;
  let dba = '';
  let dbb = '';

  const run = (operation: string, args: Record<string, unknown> = {}, extra: { signal?: AbortSignal; onOutput?: (line: string) => void } = {}) =>
    runOperation(postgresDriver, operation, { resource: ida, inputs, state: ra.state, outputs: ra.outputs, args, ...extra });

  before(async () => {
    [ra, rb] = await Promise.all([a.provision(null), b.provision(null)]);
    dba = str(ra.outputs.database);
    dbb = str(rb.outputs.database);
    // The same data in both: 2000 rows of which 1000 are deleted (dead tuples), in tables whose
    // autovacuum is off so that only the operation can clean them.
    for (const o of [ra.outputs, rb.outputs]) {
      const c = await asApp(o);
      await c.query(`CREATE TABLE items (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false)`);
      await c.query('CREATE INDEX items_note ON items (note)');
      await c.query(`INSERT INTO items SELECT g, 'note ' || g FROM generate_series(1, 2000) g`);
      await c.query('DELETE FROM items WHERE id % 2 = 0');
      await c.query('CREATE SCHEMA extra');
      await c.query(`CREATE TABLE extra.items (id int PRIMARY KEY) WITH (autovacuum_enabled = false)`);
      await c.query('INSERT INTO extra.items SELECT generate_series(1, 100)');
      await c.end(); // flushes the session's statistics (dead tuples)
    }
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await Promise.all([a.delete(ra?.state ?? null), b.delete(rb?.state ?? null)]);
  });

  test("reindex rebuilds every index of A's database and none of B's; schema limits it", async () => {
    const [a0, b0] = [await indexFiles(dba), await indexFiles(dbb)];
    assert.deepEqual(Object.keys(a0), ['extra.items_pkey', 'public.items_note', 'public.items_pkey']);
    const r = await run('reindex');
    assert.equal(r.result.data?.tables, 2);
    assert.equal(r.result.data?.indexes, 3);
    assert.match(r.result.summary, /reindexed 3 indexes of 2 tables in database pv_/);
    const a1 = await indexFiles(dba);
    for (const k of Object.keys(a0)) assert.notEqual(a1[k], a0[k], `${k} rebuilt`);
    assert.deepEqual(await indexFiles(dbb), b0, "B's indexes untouched");
    assert.equal(await count(dba, 'items'), 1000);
    assertNoSecrets(r, [str(ra.outputs.password), str(rb.outputs.password)]);

    const s = await run('reindex', { schema: 'extra', concurrently: true });
    assert.equal(s.result.data?.tables, 1);
    const a2 = await indexFiles(dba);
    assert.notEqual(a2['extra.items_pkey'], a1['extra.items_pkey']);
    assert.equal(a2['public.items_pkey'], a1['public.items_pkey']);
    assert.deepEqual(await indexFiles(dbb), b0);

    await assert.rejects(run('reindex', { schema: 'nope' }), rejectsBadArgs(/no schema nope in database pv_\w+; schemas with tables: extra, public/));
    await assert.rejects(run('reindex', { schema: 'pg_catalog' }), rejectsBadArgs(/no schema pg_catalog/));
    await assert.rejects(run('reindex', { concurrently: 'yes' }), rejectsBadArgs(/concurrently/));
  });

  test("vacuum-analyze removes A's dead tuples and leaves B's tables as they were", async () => {
    assert.ok((await tableStats(dba, 'public.items')).dead >= 1000);
    const bBefore = await tableStats(dbb, 'public.items');
    assert.ok(bBefore.dead >= 1000 && !bBefore.vacuumed && !bBefore.analyzed);

    const one = await run('vacuum-analyze', { table: 'extra.items' });
    assert.equal(one.result.data?.tables, 1);
    assert.equal((await tableStats(dba, 'public.items')).vacuumed, false, 'only the named table');

    const r = await run('vacuum-analyze');
    assert.equal(r.result.data?.tables, 2);
    assert.ok(num(r.result.data?.deadTuplesBefore) >= 1000, JSON.stringify(r.result.data));
    assert.equal(r.result.data?.deadTuplesAfter, 0);
    assert.ok(r.lines.some((l) => /^vacuumed public\.items: \d+ dead tuples before, 0 after/.test(l)), r.lines.join('\n'));
    assert.deepEqual(await tableStats(dba, 'public.items'), { dead: 0, vacuumed: true, analyzed: true });
    assert.deepEqual(await tableStats(dbb, 'public.items'), bBefore, "B's dead tuples are still there, never vacuumed or analyzed");
    assert.equal(await count(dba, 'items'), 1000);
    assert.equal(await count(dbb, 'items'), 1000);

    await assert.rejects(run('vacuum-analyze', { table: 'items' }), rejectsBadArgs(/table items exists in several schemas \(extra\.items, public\.items\)/));
    await assert.rejects(run('vacuum-analyze', { table: 'pg_class' }), rejectsBadArgs(/no table pg_class in database pv_\w+; its tables: extra\.items, public\.items/));
    await assert.rejects(run('vacuum-analyze', { table: 'pg_catalog.pg_class' }), rejectsBadArgs(/no table pg_catalog\.pg_class/));
    await assert.rejects(run('vacuum-analyze', { table: '' }), rejectsBadArgs(/table/));
  });

  test('an abort cancels a VACUUM that waits for a lock, on the server too', async () => {
    const locker = await asAdmin(dba);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE public.items IN SHARE UPDATE EXCLUSIVE MODE');
    const ac = new AbortController();
    const running = run('vacuum-analyze', { table: 'public.items' }, { signal: ac.signal });
    const waiting = async () =>
      (await query('postgres', `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'VACUUM%' AND wait_event_type = 'Lock'`, [dba])).length === 1;
    await eventually('the VACUUM waits for the lock', waiting);
    ac.abort();
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /^vacuum-analyze was cancelled/);
      assert.equal(err.retryable, false);
      return true;
    });
    await eventually('no VACUUM is left on the server', async () => (await query('postgres', `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'VACUUM%' AND state = 'active'`, [dba])).length === 0);
    await locker.query('ROLLBACK');
    await locker.end();

    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(run('reindex', {}, { signal: aborted.signal }), /reindex was cancelled before it changed anything/);
  });

  test("terminate-idle-connections ends A's connections idle too long, and none of B's, A's busy ones or the admin's", async () => {
    const oldA = [await asApp(ra.outputs), await asApp(ra.outputs)];
    const inTxA = await asApp(ra.outputs);
    await inTxA.query('BEGIN');
    await inTxA.query('SELECT 1');
    const bs = [await asApp(rb.outputs), await asApp(rb.outputs)];
    const adminInA = await asAdmin(dba);
    const oldPids = await Promise.all(oldA.map(pidOf));
    const inTxPid = await pidOf(inTxA);
    const keepPids = [...(await Promise.all(bs.map(pidOf))), await pidOf(adminInA)];
    await sleep(2200);
    const fresh = await asApp(ra.outputs);
    const freshPid = await pidOf(fresh);

    const r = await run('terminate-idle-connections', { idleSeconds: 2 });
    assert.equal(r.result.data?.terminated, 2, JSON.stringify(r.result.data));
    const reported = (r.result.data?.connections as { pid: number; user: string }[]).map((c) => c.pid).sort();
    assert.deepEqual(reported, [...oldPids].sort());
    assert.ok((r.result.data?.connections as { user: string }[]).every((c) => c.user === dba));
    await eventually("A's idle connections are gone", async () => {
      const alive = await pidsOf(dba);
      return oldPids.every((p) => !alive.includes(p));
    });
    const aliveA = await pidsOf(dba);
    assert.ok(aliveA.includes(freshPid), 'a connection idle for less than idleSeconds stays');
    assert.ok(aliveA.includes(inTxPid), 'idle in transaction stays unless asked');
    assert.ok(aliveA.includes(keepPids[2]!), "the admin's connection stays");
    const aliveB = await pidsOf(dbb);
    for (const p of keepPids.slice(0, 2)) assert.ok(aliveB.includes(p), `B's connection ${p} stays`);
    await assert.rejects(oldA[0]!.query('SELECT 1'));
    assert.equal((await bs[0]!.query('SELECT 1 AS one')).rows[0]?.one, 1);

    const tx = await run('terminate-idle-connections', { idleSeconds: 2, includeIdleInTransaction: true });
    assert.equal(tx.result.data?.terminated, 1, JSON.stringify(tx.result.data));
    await eventually('the idle-in-transaction connection is gone', async () => !(await pidsOf(dba)).includes(inTxPid));
    assert.ok((await pidsOf(dba)).includes(freshPid));
    assert.equal((await fresh.query('SELECT 1 AS one')).rows[0]?.one, 1);

    await assert.rejects(run('terminate-idle-connections', { idleSeconds: -1 }), rejectsBadArgs(/idleSeconds/));
    await assert.rejects(run('terminate-idle-connections', { idleSeconds: '300' }), rejectsBadArgs(/idleSeconds/));
  });
});
