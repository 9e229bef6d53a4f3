import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { conflict } from '../../src/errors.ts';
import { createLogger } from '../../src/logging.ts';
import { JobQueue } from '../../src/jobs/queue.ts';
import { JobService } from '../../src/jobs/service.ts';
import { jobKind, RetryLater, type AnyJobHandler, type JobHandler } from '../../src/jobs/types.ts';
import { createDb, openStore, type Db, type Store } from '../../src/store/db.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

// The job queue itself, on a real PostgreSQL: several job services (each with its own connection
// pool, as separate servers would have) claiming from one table. The same behaviour across real
// server processes, with kill -9, is in takeover.test.ts.

const log = createLogger('silent');
let tdb: TestDatabase;
let store: Store;
const pools: Db[] = [];
const services: JobService[] = [];

before(async () => {
  tdb = await createTestDatabase();
  store = await openStore({ dataDir: '/nonexistent', databaseUrl: tdb.url, log, poolSize: 4 });
});
after(async () => {
  for (const s of services) await s.stop().catch(() => undefined);
  for (const p of pools) await p.destroy().catch(() => undefined);
  await store.close();
  await tdb.drop();
});

const settings = { leaseSeconds: 2, pollSeconds: 0.1, concurrency: 4, stopTimeoutSeconds: 0.2 };

/** A job service with a pool of its own, like another server. */
function server(handlers: AnyJobHandler[], extra: Partial<typeof settings> = {}): JobService {
  const db = createDb(tdb.url, 4);
  pools.push(db);
  const s = new JobService({ db, url: tdb.url, log, settings: { ...settings, ...extra } });
  for (const h of handlers) s.register(h);
  services.push(s);
  return s;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('jobs enqueued in bulk are each claimed exactly once by three competing servers', async () => {
  const COUNT = jobKind<{ n: number }>('test.count');
  const runs: { n: number; server: string; attempt: number }[] = [];
  const handler = (name: string): JobHandler<{ n: number }, number> => ({
    kind: COUNT,
    parse: (raw) => raw as { n: number },
    run: async (p, ctx) => {
      runs.push({ n: p.n, server: name, attempt: ctx.attempt });
      await sleep(5 + (p.n % 7) * 3);
      ctx.progress({ message: `counted ${p.n}` });
      return p.n * 2;
    },
  });
  const servers = ['a', 'b', 'c'].map((name) => server([handler(name)]));
  const queue = new JobQueue(store.db);
  const N = 150;
  const jobs = await queue.enqueueMany(Array.from({ length: N }, (_, n) => ({ kind: COUNT, payload: { n }, createdBy: 'user:default/test' })));
  // all three start at once and race for the same rows
  await Promise.all(servers.map((s) => s.start({ version: 'test' })));
  await until('every job to end', async () => {
    const row = await store.db.selectFrom('jobs').select(sql<number>`count(*)::int`.as('n')).where('kind', '=', COUNT).where('state', 'in', ['queued', 'running']).executeTakeFirstOrThrow();
    return row.n === 0;
  });

  assert.equal(runs.length, N, 'one run per job');
  assert.deepEqual([...new Set(runs.map((r) => r.n))].length, N, 'no job ran twice');
  assert.ok(runs.every((r) => r.attempt === 1));
  const byServer = new Map<string, number>();
  for (const r of runs) byServer.set(r.server, (byServer.get(r.server) ?? 0) + 1);
  assert.ok(byServer.size >= 2, `the servers shared the work: ${JSON.stringify(Object.fromEntries(byServer))}`);
  const rows = await store.db.selectFrom('jobs').select(['id', 'state', 'attempts', 'result', 'takeovers']).where('kind', '=', COUNT).execute();
  assert.ok(rows.every((r) => r.state === 'succeeded' && r.attempts === 1 && r.takeovers === 0));
  const one = jobs[7]!;
  const events = await servers[0]!.events(one.id);
  assert.deepEqual(events.map((e) => e.type), ['queued', 'claimed', 'progress', 'succeeded']);
  assert.deepEqual(events[2]!.data, { message: 'counted 7' });
  assert.equal((await servers[1]!.get(one.id)).result, 14);
  for (const s of servers) await s.stop();
});

test('a concurrency key admits one queued or running job at a time; a follower on another server sees it end', async () => {
  const HOLD = jobKind<{ id: string }, string>('test.hold');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const hold: JobHandler<{ id: string }, string> = { kind: HOLD, parse: (r) => r as { id: string }, run: async (p, ctx) => { ctx.progress({ step: 'holding' }); await held; return `done ${p.id}`; } };
  const a = server([hold]);
  const b = server([]);
  await a.start({ version: 'test' });
  const job = await a.submit(HOLD, { id: 'x' }, { createdBy: 'user:default/test', key: 'hold:x' });
  assert.equal(job.state, 'running', 'the server that took it runs it at once');
  assert.equal(job.server, a.serverId);
  await assert.rejects(a.submit(HOLD, { id: 'x' }, { createdBy: 'user:default/test', key: 'hold:x' }), (err: Error & { status?: number }) => {
    assert.equal(err.status, 409);
    assert.match(err.message, new RegExp(`${job.id}`));
    return true;
  });
  // b has no handler of its own for this kind: it only follows, from the store
  const seen: string[] = [];
  const following = b.follow(job.id, (e) => seen.push(e.type));
  await until('the progress event', async () => seen.includes('progress'));
  release();
  const ended = await following;
  assert.equal(ended?.state, 'succeeded');
  assert.equal(JobService.settle(ended!), 'done x');
  assert.deepEqual(seen, ['claimed', 'progress', 'succeeded']);
  // once ended, the key is free again
  const again = await a.submit(HOLD, { id: 'x' }, { createdBy: 'user:default/test', key: 'hold:x' });
  assert.equal(JobService.settle((await a.wait(again.id))!), 'done x');
  await a.stop();
});

test('a handler failure is the job\'s problem; a handler that asks to retry later is put back until its attempts run out', async () => {
  const FAIL = jobKind<{ n: number }>('test.fail');
  const LATER = jobKind<{ n: number }>('test.later');
  let tries = 0;
  const s = server([
    { kind: FAIL, parse: (r) => r as { n: number }, run: async () => { throw conflict('the widget is busy'); } } satisfies JobHandler<{ n: number }>,
    { kind: LATER, maxAttempts: 3, parse: (r) => r as { n: number }, run: async () => { tries++; throw new RetryLater('not yet', 0.1); } } satisfies JobHandler<{ n: number }>,
  ]);
  await s.start({ version: 'test' });
  const failed = (await s.wait((await s.submit(FAIL, { n: 1 }, { createdBy: 'user:default/test' })).id))!;
  assert.equal(failed.state, 'failed');
  assert.deepEqual({ status: failed.error?.status, detail: failed.error?.detail }, { status: 409, detail: 'the widget is busy' });
  assert.throws(() => JobService.settle(failed), (err: Error & { status?: number; type?: string }) => err.status === 409 && err.type === 'https://pave.dev/problems/conflict' && err.message === 'the widget is busy');

  const later = (await s.wait((await s.submit(LATER, { n: 2 }, { createdBy: 'user:default/test' })).id))!;
  assert.equal(tries, 3, 'run once per attempt');
  assert.equal(later.state, 'failed');
  assert.equal(later.attempts, 3);
  assert.deepEqual((await s.events(later.id)).map((e) => e.type), ['claimed', 'retry', 'claimed', 'retry', 'claimed', 'failed']);
  await s.stop();

  // ended jobs are kept 30 days, then deleted with their events
  await store.db.updateTable('jobs').set({ finished_at: sql<Date>`now() - interval '31 days'` }).where('id', '=', failed.id).execute();
  assert.equal(await s.queue.prune(30), 1);
  assert.equal((await s.queue.get(failed.id)), undefined);
  assert.deepEqual(await s.events(failed.id), []);
  assert.equal((await s.queue.get(later.id))?.state, 'failed', 'a job that ended recently is kept');
});

test('a stopping server gives back the jobs still running after its stop timeout, and another server runs them again', async () => {
  const SLOW = jobKind<{ n: number }, string>('test.slow');
  const started: string[] = [];
  const slow = (name: string, ms: number): JobHandler<{ n: number }, string> => ({
    kind: SLOW, parse: (r) => r as { n: number },
    run: async (_p, ctx) => {
      started.push(`${name}#${ctx.attempt}`);
      await sleep(ms, undefined, { signal: ctx.signal }).catch(() => undefined);
      return name;
    },
  });
  const a = server([slow('a', 10_000)], { stopTimeoutSeconds: 0.2, leaseSeconds: 1 });
  const b = server([slow('b', 50)], { leaseSeconds: 1 });
  await a.start({ version: 'test' });
  const job = await a.submit(SLOW, { n: 1 }, { createdBy: 'user:default/test' });
  await until('a to start it', async () => started.includes('a#1'));
  await b.start({ version: 'test' });
  await a.stop(); // gives it back, due after min(5 s, lease) = 1 s
  const done = (await b.wait(job.id))!;
  assert.equal(done.state, 'succeeded');
  assert.equal(done.result, 'b');
  assert.deepEqual(started, ['a#1', 'b#2']);
  assert.deepEqual((await b.events(job.id)).map((e) => e.type), ['claimed', 'released', 'claimed', 'succeeded']);
  assert.deepEqual((await b.servers.list()).map((x) => x.id), [b.serverId], 'a left the registry');
  await b.stop();
});
