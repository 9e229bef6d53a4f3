import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { driverCalls } from '../../../test/drivers/conformance.ts';
import { assertNoSecrets, assertOperationShapes, identity, num, runOperation, serviceGate, str } from '../../../test/drivers/support.ts';
import { amqpDriver, type AmqpInputs } from './amqp.ts';
import { DriverError, type Driver, type ProvisionResult } from './driver.ts';

const MANAGEMENT_URL = process.env.PAVE_TEST_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';
const mgmt = new URL(MANAGEMENT_URL);
const skip = (await serviceGate('rabbitmq', mgmt.hostname, 5672)) ?? (await serviceGate('rabbitmq management API', mgmt.hostname, Number(mgmt.port || 15672)));
const inputs: AmqpInputs = { managementUrl: MANAGEMENT_URL };

function connectAs(o: Record<string, unknown>): Promise<amqp.ChannelModel> {
  return amqp.connect({ protocol: 'amqp', hostname: str(o.host), port: num(o.port), username: str(o.username), password: str(o.password), vhost: str(o.vhost) });
}

/** Declares `queue` in the app's vhost and publishes `count` messages to it, confirmed by the broker. */
async function fill(o: Record<string, unknown>, queue: string, count: number): Promise<void> {
  const conn = await connectAs(o);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < count; i++) ch.sendToQueue(queue, Buffer.from(`message ${i}`));
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

/** Ready messages in `queue` of the app's vhost (a passive declare: exact, unlike the management API's sampled counts). */
async function ready(o: Record<string, unknown>, queue: string): Promise<number> {
  const conn = await connectAs(o);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
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

test('amqp operations: purge-queue, with a JSON Schema Pave can compile', async () => {
  await assertOperationShapes(amqpDriver as unknown as Driver<never>, ['purge-queue']);
});

describe('amqp operations against a real RabbitMQ', { skip: skip ?? false, timeout: 30_000 }, () => {
  const ida = identity('amqp', 'op-a');
  const a = driverCalls(amqpDriver, ida, { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(amqpDriver, identity('amqp', 'op-b'), { inputs, dataDir: '/nonexistent' });
  let ra: ProvisionResult;
  let rb: ProvisionResult;
  let holder: amqp.ChannelModel | undefined;

  const run = (args: Record<string, unknown> = {}, extra: { signal?: AbortSignal } = {}) =>
    runOperation(amqpDriver, 'purge-queue', { resource: ida, inputs, state: ra.state, outputs: ra.outputs, args, ...extra });

  before(async () => {
    [ra, rb] = await Promise.all([a.provision(null), b.provision(null)]);
    await fill(ra.outputs, 'orders', 10);
    await fill(ra.outputs, 'emails', 4);
    await fill(rb.outputs, 'orders', 6);
    await fill(rb.outputs, 'b-only', 3);
    // An exclusive queue of A, held by an open connection: nobody else may purge it.
    holder = await connectAs(ra.outputs);
    const ch = await holder.createChannel();
    await ch.assertQueue('private', { exclusive: true });
    ch.sendToQueue('private', Buffer.from('mine'));
  });
  after(async () => {
    await holder?.close().catch(() => undefined);
    await Promise.all([a.delete(ra?.state ?? null), b.delete(rb?.state ?? null)]);
  });

  test("purge-queue purges one queue of A's vhost; A's other queues and B's same-named queue keep their messages", async () => {
    const r = await run({ queue: 'orders' });
    assert.equal(r.result.data?.purgedMessages, 10);
    assert.deepEqual(r.result.data?.queues, [{ queue: 'orders', purged: 10 }]);
    assert.match(r.result.summary, /^purged 10 messages from queue orders/);
    assert.equal(await ready(ra.outputs, 'orders'), 0);
    assert.equal(await ready(ra.outputs, 'emails'), 4);
    assert.equal(await ready(rb.outputs, 'orders'), 6);
    assertNoSecrets(r, [str(ra.outputs.password), str(rb.outputs.password), 'guest:guest']);
  });

  test('purge-queue with all: true purges every queue of the vhost, skipping the exclusive one', async () => {
    await fill(ra.outputs, 'orders', 2);
    const r = await run({ all: true });
    assert.equal(r.result.data?.purgedMessages, 6);
    assert.deepEqual(r.result.data?.queues, [
      { queue: 'emails', purged: 4 },
      { queue: 'orders', purged: 2 },
    ]);
    assert.deepEqual((r.result.data?.skipped as { queue: string }[]).map((x) => x.queue), ['private']);
    assert.equal(await ready(ra.outputs, 'emails'), 0);
    assert.equal(await ready(rb.outputs, 'orders'), 6);
    assert.equal(await ready(rb.outputs, 'b-only'), 3);
  });

  test("bad arguments: neither or both, another vhost's queue, an exclusive queue, an unprovisioned resource", async () => {
    await fill(ra.outputs, 'orders', 1);
    await assert.rejects(run({}), rejectsBadArgs(/give the queue to purge, or all: true/));
    await assert.rejects(run({ queue: 'orders', all: true }), rejectsBadArgs(/either queue or all: true, not both/));
    await assert.rejects(run({ queue: 'b-only' }), rejectsBadArgs(/no queue b-only in vhost pv_\w+; its queues: emails, orders, private/));
    await assert.rejects(run({ queue: 'private' }), rejectsBadArgs(/queue private cannot be purged: it is exclusive/));
    await assert.rejects(run({ queue: '' }), rejectsBadArgs(/queue/));
    await assert.rejects(run({ all: 'yes' }), rejectsBadArgs(/all/));
    await assert.rejects(
      runOperation(amqpDriver, 'purge-queue', { resource: identity('amqp', 'op-none'), inputs, state: null, outputs: {}, args: { all: true } }),
      rejectsBadArgs(/vhost pv_\w+ does not exist; provision the resource first/),
    );
    assert.equal(await ready(ra.outputs, 'orders'), 1);
    assert.equal(await ready(rb.outputs, 'b-only'), 3);
  });

  test('a cancelled purge-queue purges nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(run({ all: true }, { signal: ac.signal }), /purge-queue was cancelled before it changed anything/);
    assert.equal(await ready(ra.outputs, 'orders'), 1);
  });
});
