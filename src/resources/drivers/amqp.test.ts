import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { driverCalls, driverConformance, twoTenants } from '../../../test/drivers/conformance.ts';
import { identity, num, serviceGate, str } from '../../../test/drivers/support.ts';
import { amqpDriver, amqpName, type AmqpInputs } from './amqp.ts';
import { DriverError, type ProvisionResult } from './driver.ts';

const MANAGEMENT_URL = process.env.PAVE_TEST_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';
const mgmt = new URL(MANAGEMENT_URL);
const skip = (await serviceGate('rabbitmq', mgmt.hostname, 5672)) ?? (await serviceGate('rabbitmq management API', mgmt.hostname, Number(mgmt.port || 15672)));
const inputs: AmqpInputs = { managementUrl: MANAGEMENT_URL };

/** A management API GET as the admin (the user in MANAGEMENT_URL). */
async function adminGet(path: string): Promise<Response> {
  const auth = Buffer.from(`${decodeURIComponent(mgmt.username)}:${decodeURIComponent(mgmt.password)}`).toString('base64');
  return fetch(`${mgmt.origin}/api${path}`, { headers: { authorization: `Basic ${auth}` } });
}

async function adminPut(path: string, body: unknown): Promise<void> {
  const auth = Buffer.from(`${decodeURIComponent(mgmt.username)}:${decodeURIComponent(mgmt.password)}`).toString('base64');
  const res = await fetch(`${mgmt.origin}/api${path}`, { method: 'PUT', headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(res.ok, `PUT ${path}: ${res.status}`);
}

function amqpUrl(o: Record<string, unknown>, vhost = str(o.vhost), password = str(o.password)): string {
  return `amqp://${encodeURIComponent(str(o.username))}:${encodeURIComponent(password)}@${str(o.host)}:${num(o.port)}/${encodeURIComponent(vhost)}`;
}

/** Connects to the app's vhost with its credentials, declares a queue, publishes and consumes. */
async function canPublishAndConsume(o: Record<string, unknown>): Promise<void> {
  const conn = await amqp.connect(amqpUrl(o));
  try {
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('conformance', { durable: false, autoDelete: false });
    ch.sendToQueue(q.queue, Buffer.from('hello'));
    let msg: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && !msg; i++) {
      msg = await ch.get(q.queue, { noAck: true });
      if (!msg) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(msg, 'the message came back');
    assert.equal(msg.content.toString(), 'hello');
    await ch.close();
  } finally {
    await conn.close();
  }
}

// A wrong password: 'Handshake terminated by server: 403 (ACCESS-REFUSED)'. A vhost the user may not
// open: the broker answers connection.open with connection.close (530 NOT_ALLOWED), which amqplib
// reports as 'Expected ConnectionOpenOk; got <ConnectionClose …>' without the reply text.
const REFUSED = /ACCESS.REFUSED|NOT.ALLOWED/i;
const VHOST_REFUSED = /Expected ConnectionOpenOk; got <ConnectionClose|NOT.ALLOWED|ACCESS.REFUSED/;

driverConformance(amqpDriver, {
  skip,
  inputs,
  outputs: ['host', 'port', 'vhost', 'username', 'password'],
  secretOutputs: ['password'],
  accessCheck: canPublishAndConsume,
  inventory: async (r) => {
    const name = amqpName(r.uid);
    const vhost = (await adminGet(`/vhosts/${encodeURIComponent(name)}`)).status === 200;
    const user = (await adminGet(`/users/${encodeURIComponent(name)}`)).status === 200;
    return [...(user ? [`user:${name}`] : []), ...(vhost ? [`vhost:${name}`] : [])];
  },
});

describe('amqp driver: least privilege and drift', { skip: skip ?? false, timeout: 30_000 }, () => {
  const t = twoTenants(amqpDriver, 'amqp', inputs);
  const { a, b } = t;

  test("user A publishes and consumes on its vhost, and is refused on B's vhost and on /", async () => {
    await canPublishAndConsume(t.ra.outputs);
    await assert.rejects(amqp.connect(amqpUrl(t.ra.outputs, str(t.rb.outputs.vhost))), VHOST_REFUSED);
    await assert.rejects(amqp.connect(amqpUrl(t.ra.outputs, '/')), VHOST_REFUSED);
    // B's own credentials do open B's vhost: the refusal above is about A, not about the vhost.
    await canPublishAndConsume(t.rb.outputs);
  });

  test('the user has no tags (no management access) and permissions on its own vhost only', async () => {
    const user = (await (await adminGet(`/users/${encodeURIComponent(str(t.ra.outputs.username))}`)).json()) as { tags: unknown };
    assert.deepEqual(user.tags, []);
    const perms = (await (await adminGet(`/users/${encodeURIComponent(str(t.ra.outputs.username))}/permissions`)).json()) as { vhost: string }[];
    assert.deepEqual(perms.map((p) => p.vhost), [t.ra.outputs.vhost]);
    const asUser = Buffer.from(`${str(t.ra.outputs.username)}:${str(t.ra.outputs.password)}`).toString('base64');
    assert.equal((await fetch(`${mgmt.origin}/api/overview`, { headers: { authorization: `Basic ${asUser}` } })).status, 401);
  });

  test('re-provision after a crash (no state) sets a new password; the old one is refused', async () => {
    const recovered = await a.provision(null);
    assert.notEqual(recovered.outputs.password, t.ra.outputs.password);
    await canPublishAndConsume(recovered.outputs);
    await assert.rejects(amqp.connect(amqpUrl(t.ra.outputs)), REFUSED);
    t.ra = recovered;
  });

  test('check reports narrowed permissions, and provision converges them back', async () => {
    const name = encodeURIComponent(str(t.ra.outputs.vhost));
    await adminPut(`/permissions/${name}/${name}`, { configure: '', write: '.*', read: '.*' });
    const report = await a.check(t.ra.state, t.ra.outputs);
    assert.equal(report.status, 'changed');
    assert.ok(report.status === 'changed' && report.differences.some((d) => d.field === 'permissions'));
    await a.provision(t.ra.state);
    assert.deepEqual(await a.check(t.ra.state, t.ra.outputs), { status: 'in-sync' });
  });

  test('wrong management credentials are a non-retryable DriverError without the password', async () => {
    const bad = `${mgmt.protocol}//guest:Wr0ng-Secret-pw@${mgmt.host}`;
    const c = driverCalls(amqpDriver, identity('amqp', 'badauth'), { inputs: { managementUrl: bad }, dataDir: '/nonexistent' });
    await assert.rejects(c.provision(null), (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /refused the credentials in managementUrl/);
      assert.ok(!err.message.includes('Wr0ng-Secret-pw'));
      assert.equal(err.retryable, false);
      return true;
    });
  });
});
