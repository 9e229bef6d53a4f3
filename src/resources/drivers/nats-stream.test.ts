import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { driverCalls, driverConformance } from '../../../test/drivers/conformance.ts';
import { identity, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type ProvisionResult } from './driver.ts';
import { durationSeconds, natsStreamDriver, streamName, type NatsStreamInputs } from './nats-stream.ts';

const URL_ = process.env.PAVE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const u = new URL(URL_);
const skip = await serviceGate('nats', u.hostname, Number(u.port || 4222));
const inputs: NatsStreamInputs = { url: URL_ };

async function withNats<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: `${u.hostname}:${u.port || 4222}`, reconnect: false });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

async function info(stream: string): Promise<StreamInfo | null> {
  return withNats(async (nc) => {
    const jsm = await jetstreamManager(nc);
    return jsm.streams.info(stream).catch(() => null);
  });
}

/** Publishes to `subject` with JetStream and returns the stream that stored it. */
async function publish(subject: string): Promise<string> {
  return withNats(async (nc) => (await jetstream(nc).publish(subject, 'hello')).stream);
}

function subjectsOf(o: Record<string, unknown>): string[] {
  assert.ok(Array.isArray(o.subjects));
  return o.subjects.map((s) => str(s));
}

driverConformance(natsStreamDriver, {
  skip,
  inputs,
  outputs: ['url', 'stream', 'subjects'],
  secretOutputs: [],
  accessCheck: async (o) => {
    const subject = subjectsOf(o)[0]!.replace('>', 'conformance');
    assert.equal(await publish(subject), o.stream);
  },
  inventory: async (r) => {
    const name = streamName(r.uid);
    return (await info(name)) ? [`stream:${name}`] : [];
  },
});

describe('nats-stream driver: subjects, updates and errors', { skip: skip ?? false, timeout: 30_000 }, () => {
  const a = driverCalls(natsStreamDriver, identity('nats-stream', 'a'), { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(natsStreamDriver, identity('nats-stream', 'b'), { inputs, dataDir: '/nonexistent' });
  let ra: ProvisionResult;
  let orders = '';

  before(async () => {
    ra = await a.provision(null);
    orders = `dt_orders_${str(ra.outputs.stream).slice(-8)}`;
  });
  after(async () => {
    await Promise.all([a.delete(null), b.delete(null)]);
  });

  test('the stream is named from the uid in upper case, without . * > or spaces, with the default subjects', async () => {
    const name = str(ra.outputs.stream);
    assert.match(name, /^PV_[A-Z0-9_]+_[0-9A-F]{8}$/);
    assert.ok(name.length <= 32);
    assert.deepEqual(ra.outputs.subjects, [`${name}.>`]);
    assert.equal(ra.outputs.url, URL_);
    const i = await info(name);
    assert.deepEqual(i?.config.subjects, [`${name}.>`]);
    assert.equal(i?.config.storage, 'file');
  });

  test('a publish to one of its subjects lands in the stream', async () => {
    const name = str(ra.outputs.stream);
    const before = (await info(name))?.state.messages ?? 0;
    assert.equal(await publish(`${name}.orders.created`), name);
    assert.equal((await info(name))?.state.messages, before + 1);
  });

  test('re-provisioning with other subjects updates the stream in place (messages kept); check follows the params', async () => {
    const name = str(ra.outputs.stream);
    const kept = (await info(name))?.state.messages ?? 0;
    const params = { subjects: [`${orders}.*`, `${name}.>`] };
    const updated = await a.provision(ra.state, { params });
    assert.deepEqual(updated.outputs.subjects, params.subjects);
    assert.deepEqual([...((await info(name))?.config.subjects ?? [])].sort(), [...params.subjects].sort());
    assert.equal(await publish(`${orders}.created`), name);
    assert.equal((await info(name))?.state.messages, kept + 1);
    assert.deepEqual(await a.check(updated.state, updated.outputs, { params }), { status: 'in-sync' });
    const stale = await a.check(updated.state, updated.outputs, { params: {} });
    assert.equal(stale.status, 'changed');
    assert.ok(stale.status === 'changed' && stale.differences.some((d) => d.field === 'subjects'));
  });

  test("overlapping another stream's subjects is an actionable, non-retryable error", async () => {
    await assert.rejects(b.provision(null, { params: { subjects: [`${orders}.created`] } }), (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /overlap with another stream's subjects; choose other subjects in params\.subjects/);
      assert.equal(err.retryable, false);
      return true;
    });
  });

  test('maxAge, maxBytes and memory storage reach the stream config; storage cannot change later', async () => {
    const mem: NatsStreamInputs = { ...inputs, storage: 'memory', maxAge: '1h30m', maxBytes: 1_000_000 };
    const r = await b.provision(null, { inputs: mem });
    const i = await info(str(r.outputs.stream));
    assert.equal(i?.config.storage, 'memory');
    assert.equal(i?.config.max_age, 5400 * 1e9);
    assert.equal(i?.config.max_bytes, 1_000_000);
    assert.deepEqual(await b.check(r.state, r.outputs, { inputs: mem }), { status: 'in-sync' });
    await assert.rejects(b.provision(r.state, { inputs: { ...mem, storage: 'file' } }), /cannot change it to file/);
    assert.equal(durationSeconds('7d'), 604800);
    assert.equal(durationSeconds(90), 90);
  });

  test('invalid subjects are rejected before reaching the server', async () => {
    await assert.rejects(b.provision(null, { params: { subjects: ['has space'] } }), (err: unknown) => err instanceof DriverError && !err.retryable && /params\.subjects is invalid/.test(err.message));
    await assert.rejects(b.provision(null, { params: { subjects: ['a.>.b'] } }), /params\.subjects is invalid/);
  });

  test('a URL with credentials makes the url output secret, and an unreachable server never shows them', async () => {
    // This server has no authorization configured, so it accepts any credentials.
    const withCreds: NatsStreamInputs = { url: `nats://app:Sup3r-Secret-pw@${u.host}` };
    await b.delete(null);
    const r = await b.provision(null, { inputs: withCreds });
    assert.deepEqual(r.secretOutputs, ['url']);
    assert.ok(!JSON.stringify(b.log.lines).includes('Sup3r-Secret-pw'));
    const c = driverCalls(natsStreamDriver, identity('nats-stream', 'unreachable'), { inputs: { url: 'nats://app:Sup3r-Secret-pw@127.0.0.1:1' }, dataDir: '/nonexistent' });
    await assert.rejects(c.provision(null), (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
      assert.ok(!err.message.includes('Sup3r-Secret-pw'));
      assert.equal(err.retryable, true);
      return true;
    });
  });
});
