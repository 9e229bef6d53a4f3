import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { driverCalls } from '../../../test/drivers/conformance.ts';
import { assertNoSecrets, assertOperationShapes, identity, RUN, runOperation, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type Driver, type ProvisionResult } from './driver.ts';
import { redisDriver, type RedisInputs } from './redis.ts';

const ADMIN_URL = process.env.PAVE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new URL(ADMIN_URL);
const skip = await serviceGate('redis', admin.hostname, Number(admin.port || 6379));
const inputs: RedisInputs = { adminUrl: ADMIN_URL };

async function asAdmin<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(ADMIN_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Key names (as latin1 strings, so binary names compare) matching `pattern` in database `db`. */
async function keys(pattern: string, db = 0): Promise<string[]> {
  return asAdmin(async (r) => {
    await r.select(db);
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next.toString();
      out.push(...batch.map((k) => k.toString('latin1')));
    } while (cursor !== '0');
    return out.sort();
  });
}

/** Writes `count` string keys `<prefix><stem><i>` in database `db`, in MSET chunks. */
async function fill(prefix: string, stem: string, count: number, db = 0): Promise<void> {
  await asAdmin(async (r) => {
    await r.select(db);
    for (let i = 0; i < count; i += 1000) {
      const args: string[] = [];
      for (let j = i; j < Math.min(count, i + 1000); j++) args.push(`${prefix}${stem}${j}`, `value-${j}`);
      await r.mset(...args);
    }
  });
}

test('redis operations: purge-cache and stats, with JSON Schema parameters Pave can compile', async () => {
  await assertOperationShapes(redisDriver as unknown as Driver<never>, ['purge-cache', 'stats']);
  const purge = redisDriver.operations?.['purge-cache'];
  assert.deepEqual((purge?.parameters.properties as Record<string, { default?: unknown }>).pattern?.default, '*');
});

describe('redis operations against a real Redis', { skip: skip ?? false, timeout: 60_000 }, () => {
  const a = driverCalls(redisDriver, identity('redis', 'op-a'), { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(redisDriver, identity('redis', 'op-b'), { inputs, dataDir: '/nonexistent' });
  const ra = { value: undefined as unknown as ProvisionResult };
  let rb: ProvisionResult;
  let pa = '';
  let pb = '';
  const outsider = `dt${RUN}-outside-any-prefix`;

  const run = (operation: string, args: Record<string, unknown> = {}, extra: { signal?: AbortSignal; onOutput?: (line: string) => void } = {}) =>
    runOperation(redisDriver, operation, { resource: identity('redis', 'op-a'), inputs, state: ra.value.state, outputs: ra.value.outputs, args, ...extra });

  before(async () => {
    [ra.value, rb] = await Promise.all([a.provision(null), b.provision(null)]);
    pa = str(ra.value.outputs.prefix);
    pb = str(rb.outputs.prefix);
  });
  after(async () => {
    await Promise.all([a.delete(ra.value?.state ?? null), b.delete(rb?.state ?? null)]);
    await asAdmin((r) => r.del(outsider));
  });

  /** The same keys for both applications, in databases 0 and 1, plus one key outside any prefix. */
  async function seed(): Promise<void> {
    for (const p of [pa, pb]) {
      await fill(p, 'session:', 5);
      await fill(p, 'cache:', 5);
      await fill(p, 'cache:', 2, 1);
    }
    await asAdmin((r) => r.set(outsider, 'keep me'));
  }

  test('purge-cache with a pattern deletes only the matching keys under the prefix; B and unprefixed keys survive', async () => {
    await seed();
    const bBefore = [...(await keys(`${pb}*`)), ...(await keys(`${pb}*`, 1))];
    const r = await run('purge-cache', { pattern: 'session:*' });
    assert.equal(r.result.data?.deletedKeys, 5);
    assert.match(r.result.summary, /deleted 5 keys/);
    assert.deepEqual(await keys(`${pa}session:*`), []);
    assert.equal((await keys(`${pa}cache:*`)).length, 5);
    assert.equal((await keys(`${pa}cache:*`, 1)).length, 2);
    assert.deepEqual([...(await keys(`${pb}*`)), ...(await keys(`${pb}*`, 1))], bBefore);
    assert.equal(await asAdmin((r) => r.get(outsider)), 'keep me');
    assertNoSecrets(r, [str(ra.value.outputs.password), str(rb.outputs.password)]);
  });

  test('purge-cache without arguments deletes every key of the resource in every database, binary names included', async () => {
    await asAdmin((r) => r.set(Buffer.concat([Buffer.from(pa), Buffer.from([0xff, 0xfe, 0x00])]), 'binary'));
    const r = await run('purge-cache');
    assert.equal(r.result.data?.deletedKeys, 5 + 2 + 1);
    assert.deepEqual(r.result.data?.byDatabase, { 0: 6, 1: 2 });
    assert.deepEqual(await keys(`${pa}*`), []);
    assert.deepEqual(await keys(`${pa}*`, 1), []);
    assert.equal((await keys(`${pb}*`)).length, 10);
    assert.equal((await keys(`${pb}*`, 1)).length, 2);
    assert.equal(await asAdmin((r) => r.get(`${pb}session:0`)), 'value-0');
    assert.ok(r.lines.some((l) => l.includes('database 1: deleted 2 keys')), r.lines.join('\n'));
    // Nothing left: a second purge is a no-op.
    assert.equal((await run('purge-cache')).result.data?.deletedKeys, 0);
  });

  test("stats counts the resource's keys only and measures a sample of them", async () => {
    await fill(pa, 'k:', 40);
    await fill(pa, 'k:', 3, 1);
    await asAdmin(async (r) => {
      await r.hset(`${pa}hash`, { a: '1', b: '2' });
      await r.set(`${pa}ttl`, 'x', 'EX', 600);
    });
    const r = await run('stats');
    assert.equal(r.result.data?.keys, 45);
    assert.deepEqual(r.result.data?.byDatabase, { 0: 42, 1: 3 });
    assert.equal(r.result.data?.sampledKeys, 45, 'all keys measured: fewer than the default sample of 100');
    const bytes = r.result.data?.estimatedBytes;
    assert.ok(typeof bytes === 'number' && bytes > 45 * 10, `estimatedBytes ${String(bytes)}`);
    assert.equal(bytes, r.result.data?.sampledBytes);
    assert.deepEqual(r.result.data?.sampledTypes, { string: 44, hash: 1 });
    assert.equal(r.result.data?.sampledKeysWithTtl, 1);
    assert.match(r.result.summary, /^45 keys under pv_/);

    const small = await run('stats', { sampleSize: 10 });
    assert.equal(small.result.data?.keys, 45);
    assert.equal(small.result.data?.sampledKeys, 10);
    assert.match(small.result.summary, /estimated from 10 sampled keys/);
    const countOnly = await run('stats', { sampleSize: 0 });
    assert.equal(countOnly.result.data?.estimatedBytes, null);
    // B's keys are untouched by stats and were not counted.
    assert.equal((await keys(`${pb}*`)).length, 10);
  });

  test('an aborted purge-cache stops between batches with a cancellation error, leaving the rest', async () => {
    await fill(pa, 'bulk:', 30_000);
    const ac = new AbortController();
    await assert.rejects(
      run('purge-cache', {}, { signal: ac.signal, onOutput: (line) => (/so far/.test(line) ? ac.abort() : undefined) }),
      (err: unknown) => {
        assert.ok(err instanceof DriverError, String(err));
        assert.match(err.message, /^purge-cache was cancelled after deleting \d+ keys$/);
        assert.equal(err.retryable, false);
        return true;
      },
    );
    const left = (await keys(`${pa}bulk:*`)).length;
    assert.ok(left > 0 && left < 30_000, `${left} keys left`);
    assert.equal((await keys(`${pb}*`)).length, 10);

    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(run('purge-cache', {}, { signal: aborted.signal }), /purge-cache was cancelled before it changed anything/);
    assert.equal((await keys(`${pa}bulk:*`)).length, left);
  });

  test('bad arguments are non-retryable DriverErrors', async () => {
    for (const [operation, args, pattern] of [
      ['purge-cache', { pattern: '' }, /pattern/],
      ['purge-cache', { pattern: 42 }, /pattern/],
      ['purge-cache', { prefix: 'pv_other:' }, /Unrecognized key/],
      ['stats', { sampleSize: -1 }, /sampleSize/],
      ['stats', { sampleSize: 1.5 }, /sampleSize/],
    ] as const) {
      await assert.rejects(run(operation, args), (err: unknown) => {
        assert.ok(err instanceof DriverError);
        assert.match(err.message, pattern);
        assert.equal(err.retryable, false);
        return true;
      });
    }
    assert.equal((await keys(`${pb}*`)).length, 10);
  });
});
