import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { driverCalls } from '../../../test/drivers/conformance.ts';
import { assertOperationShapes, identity, runOperation, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type Driver, type ProvisionResult } from './driver.ts';
import { natsStreamDriver, subjectCovers, type NatsStreamInputs } from './nats-stream.ts';

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

async function messages(stream: string, subject?: string): Promise<number> {
  return withNats(async (nc) => {
    const jsm = await jetstreamManager(nc);
    const i = await jsm.streams.info(stream, subject === undefined ? undefined : { subjects_filter: subject });
    if (subject === undefined) return i.state.messages;
    return Object.values(i.state.subjects ?? {}).reduce((s, n) => s + n, 0);
  });
}

async function publish(subject: string, count: number): Promise<void> {
  await withNats(async (nc) => {
    const js = jetstream(nc);
    for (let i = 0; i < count; i++) await js.publish(subject, `message ${i}`);
  });
}

function rejectsBadArgs(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof DriverError, String(err));
    assert.match(err.message, pattern);
    assert.equal(err.retryable, false);
    return true;
  };
}

test('nats-stream operations: purge-stream, with a JSON Schema Pave can compile', async () => {
  await assertOperationShapes(natsStreamDriver as unknown as Driver<never>, ['purge-stream']);
});

test('subjectCovers: a filter is within a stream subject when every subject it matches is', () => {
  assert.ok(subjectCovers('A.>', 'A.orders'));
  assert.ok(subjectCovers('A.>', 'A.orders.>'));
  assert.ok(subjectCovers('A.>', 'A.*'));
  assert.ok(subjectCovers('A.*', 'A.x'));
  assert.ok(subjectCovers('A.*', 'A.*'));
  assert.ok(subjectCovers('A.x', 'A.x'));
  assert.ok(!subjectCovers('A.>', 'A'));
  assert.ok(!subjectCovers('A.>', '>'));
  assert.ok(!subjectCovers('A.>', 'B.x'));
  assert.ok(!subjectCovers('A.*', 'A.>'));
  assert.ok(!subjectCovers('A.*', 'A.x.y'));
  assert.ok(!subjectCovers('A.x', 'A.*'));
  assert.ok(!subjectCovers('A.x', 'A.x.y'));
});

describe('nats-stream operations against a real NATS JetStream', { skip: skip ?? false, timeout: 30_000 }, () => {
  const ida = identity('nats-stream', 'op-a');
  const a = driverCalls(natsStreamDriver, ida, { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(natsStreamDriver, identity('nats-stream', 'op-b'), { inputs, dataDir: '/nonexistent' });
  let ra: ProvisionResult;
  let rb: ProvisionResult;
  let sa = '';
  let sb = '';

  const run = (args: Record<string, unknown> = {}, extra: { signal?: AbortSignal } = {}) =>
    runOperation(natsStreamDriver, 'purge-stream', { resource: ida, inputs, state: ra.state, outputs: ra.outputs, args, ...extra });

  before(async () => {
    [ra, rb] = await Promise.all([a.provision(null), b.provision(null)]);
    sa = str(ra.outputs.stream);
    sb = str(rb.outputs.stream);
    await publish(`${sa}.orders.created`, 5);
    await publish(`${sa}.audit`, 5);
    await publish(`${sb}.orders.created`, 7);
  });
  after(async () => {
    await Promise.all([a.delete(ra?.state ?? null), b.delete(rb?.state ?? null)]);
  });

  test("purge-stream with a subject purges only that subject's messages of A's stream", async () => {
    const r = await run({ subject: `${sa}.orders.>` });
    assert.equal(r.result.data?.purgedMessages, 5);
    assert.equal(r.result.data?.messagesBefore, 10);
    assert.equal(r.result.data?.messagesAfter, 5);
    assert.equal(await messages(sa, `${sa}.audit`), 5);
    assert.equal(await messages(sb), 7, "B's messages survive");
  });

  test('purge-stream with keep leaves the newest messages', async () => {
    const r = await run({ keep: 2 });
    assert.equal(r.result.data?.purgedMessages, 3);
    assert.equal(await messages(sa), 2);
    assert.equal(await messages(sb), 7);
  });

  test("purge-stream without arguments empties A's stream and leaves B's", async () => {
    const r = await run();
    assert.equal(r.result.data?.purgedMessages, 2);
    assert.equal(await messages(sa), 0);
    assert.match(r.result.summary, /^purged 2 messages from stream PV_/);
    assert.equal(await messages(sb), 7);
    assert.equal(await messages(sb, `${sb}.orders.created`), 7);
  });

  test("bad arguments: B's subject, an invalid subject, a negative keep; an unprovisioned resource", async () => {
    await publish(`${sa}.audit`, 1);
    await assert.rejects(run({ subject: `${sb}.orders.created` }), rejectsBadArgs(new RegExp(`subject ${sb}\\.orders\\.created is not within the subjects of stream ${sa} \\(${sa}\\.>\\)`)));
    await assert.rejects(run({ subject: '>' }), rejectsBadArgs(/is not within the subjects/));
    await assert.rejects(run({ subject: 'has space' }), rejectsBadArgs(/subject: a NATS subject/));
    await assert.rejects(run({ keep: -1 }), rejectsBadArgs(/keep/));
    await assert.rejects(run({ stream: sb }), rejectsBadArgs(/Unrecognized key/));
    await assert.rejects(
      runOperation(natsStreamDriver, 'purge-stream', { resource: identity('nats-stream', 'op-none'), inputs, state: null, outputs: {} }),
      rejectsBadArgs(/stream PV_\w+ does not exist; provision the resource first/),
    );
    assert.equal(await messages(sa), 1);
    assert.equal(await messages(sb), 7);
  });

  test('a cancelled purge-stream purges nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(run({}, { signal: ac.signal }), /purge-stream was cancelled before it changed anything/);
    assert.equal(await messages(sa), 1);
  });
});
