import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { driverCalls, driverConformance, twoTenants } from '../../../test/drivers/conformance.ts';
import { identity, num, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type ProvisionResult } from './driver.ts';
import { redisDriver, redisName, type RedisInputs } from './redis.ts';

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

/** A client logged in as the application (no ready check: INFO is refused to it, by design). */
async function asApp<T>(o: Record<string, unknown>, fn: (r: Redis) => Promise<T>, password = str(o.password)): Promise<T> {
  const r = new Redis({ host: str(o.host), port: num(o.port), username: str(o.username), password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 200 });
  let lastError: unknown;
  r.on('error', (err: unknown) => void (lastError = err));
  await r.connect().catch((err: unknown) => {
    throw lastError ?? err;
  });
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const NOPERM = /NOPERM/;

/** The app reads and writes its own keys with the everyday commands. */
async function canUseOwnKeys(o: Record<string, unknown>): Promise<void> {
  const p = str(o.prefix);
  await asApp(o, async (r) => {
    assert.equal(await r.set(`${p}conformance`, 'ok'), 'OK');
    assert.equal(await r.get(`${p}conformance`), 'ok');
    assert.equal(await r.expire(`${p}conformance`, 600), 1);
    assert.ok((await r.ttl(`${p}conformance`)) > 0);
    await r.set(`${p}temp`, 'x');
    assert.equal(await r.del(`${p}temp`), 1);
    const [, keys] = await r.scan('0', 'MATCH', `${p}*`, 'COUNT', 1000);
    assert.ok(Array.isArray(keys));
    assert.equal(await r.publish(`${p}events`, 'hello'), 0);
  });
}

async function keysWithPrefix(prefix: string, db = 0): Promise<string[]> {
  return asAdmin(async (r) => {
    await r.select(db);
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
    return out.sort();
  });
}

driverConformance(redisDriver, {
  skip,
  inputs,
  outputs: ['host', 'port', 'username', 'password', 'prefix'],
  secretOutputs: ['password'],
  accessCheck: canUseOwnKeys,
  inventory: async (r) => {
    const name = redisName(r.uid);
    const user = await asAdmin((c) => c.call('ACL', 'GETUSER', name));
    const keys = await keysWithPrefix(`${name}:`);
    return [...(user ? [`user:${name}`] : []), ...keys.map((k) => `key:${k}`)].sort();
  },
});

describe('redis driver: least privilege and drift', { skip: skip ?? false, timeout: 30_000 }, () => {
  const t = twoTenants(redisDriver, 'redis', inputs);
  const { a, b } = t;

  test('the prefix is the user name and a colon', () => {
    assert.equal(t.ra.outputs.prefix, `${str(t.ra.outputs.username)}:`);
    assert.match(str(t.ra.outputs.username), /^pv_[a-z0-9_]+_[0-9a-f]{8}$/);
  });

  test("user A reads and writes its own keys, and gets NOPERM on B's keys (also from Lua), FLUSHALL, CONFIG, KEYS, FUNCTION FLUSH and SCRIPT FLUSH", async () => {
    const pa = str(t.ra.outputs.prefix);
    const pb = str(t.rb.outputs.prefix);
    await asApp(t.rb.outputs, (r) => r.set(`${pb}key`, 'b-value'));
    await asApp(t.ra.outputs, async (r) => {
      assert.equal(await r.set(`${pa}key`, 'a-value'), 'OK');
      assert.equal(await r.get(`${pa}key`), 'a-value');
      await assert.rejects(r.get(`${pb}key`), NOPERM);
      await assert.rejects(r.set(`${pb}key`, 'overwritten'), NOPERM);
      await assert.rejects(r.set('unprefixed', 'x'), NOPERM);
      await assert.rejects(r.flushall(), NOPERM);
      await assert.rejects(r.call('CONFIG', 'GET', 'maxmemory'), NOPERM);
      await assert.rejects(r.keys('*'), NOPERM);
      await assert.rejects(r.subscribe(`${pb}events`), NOPERM);
      await assert.rejects(r.call('FUNCTION', 'FLUSH'), NOPERM);
      await assert.rejects(r.call('SCRIPT', 'FLUSH'), NOPERM);
      assert.equal(await r.eval(`return redis.call('GET', KEYS[1])`, 1, `${pa}key`), 'a-value');
      await assert.rejects(r.eval(`return redis.call('GET', KEYS[1])`, 1, `${pb}key`), NOPERM);
    });
    assert.equal(await asAdmin((r) => r.get(`${pb}key`)), 'b-value');
  });

  test("delete removes the user's keys in every database and the user, and leaves another user's keys", async () => {
    const pa = str(t.ra.outputs.prefix);
    const pb = str(t.rb.outputs.prefix);
    await asApp(t.ra.outputs, async (r) => {
      await r.set(`${pa}one`, '1');
      await r.set(`${pa}two`, '2');
      await r.select(1);
      await r.set(`${pa}in-db1`, '3');
    });
    assert.ok((await keysWithPrefix(pa)).length >= 2);
    await a.delete(t.ra.state);
    assert.deepEqual(await keysWithPrefix(pa), []);
    assert.deepEqual(await keysWithPrefix(pa, 1), []);
    assert.deepEqual(await keysWithPrefix(pb), [`${pb}key`]);
    assert.equal(await asAdmin((r) => r.call('ACL', 'GETUSER', str(t.ra.outputs.username))), null);
    await assert.rejects(asApp(t.ra.outputs, (r) => r.ping()), /WRONGPASS/);
    t.ra = await a.provision(null);
  });

  test('re-provision after a crash (user exists, no state) sets a new password; the old one is refused', async () => {
    const recovered = await a.provision(null);
    assert.notEqual(recovered.outputs.password, t.ra.outputs.password);
    await canUseOwnKeys(recovered.outputs);
    await assert.rejects(asApp(t.ra.outputs, (r) => r.ping()), /WRONGPASS/);
    t.ra = recovered;
  });

  test('check reports a widened key pattern, and provision converges it back', async () => {
    const name = str(t.ra.outputs.username);
    await asAdmin((r) => r.call('ACL', 'SETUSER', name, '~*'));
    const report = await a.check(t.ra.state, t.ra.outputs);
    assert.equal(report.status, 'changed');
    assert.ok(report.status === 'changed' && report.differences.some((d) => d.field === 'keys'));
    await a.provision(t.ra.state);
    assert.deepEqual(await a.check(t.ra.state, t.ra.outputs), { status: 'in-sync' });
    await asApp(t.ra.outputs, (r) => assert.rejects(r.get(`${str(t.rb.outputs.prefix)}key`), NOPERM));
  });

  test('wrong admin credentials are a DriverError without the password', async () => {
    const c = driverCalls(redisDriver, identity('redis', 'badauth'), { inputs: { adminUrl: `redis://nobody:N0t-the-Passw0rd@${admin.host}` }, dataDir: '/nonexistent' });
    await assert.rejects(c.provision(null), (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /check the credentials in adminUrl/);
      assert.ok(!err.message.includes('N0t-the-Passw0rd'));
      assert.equal(err.retryable, false);
      return true;
    });
  });
});
