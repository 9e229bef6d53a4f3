import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import amqp from 'amqplib';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type DriverOperation, type OperationRequest, type ProvisionRequest, type ProvisionResult } from './driver.ts';
import { badArgs, defineOperation, plural } from './operations.ts';
import { describeError, displayUrl, generatePassword, nameFromUid, parseUrl, stateString, throwIfAborted, wrapError } from './util.ts';

/**
 * `amqp`: a RabbitMQ virtual host and a user that may use it and nothing else, created through the
 * management HTTP API (`managementUrl`, a user with the `administrator` tag).
 *
 * Vhost and user are both named `pv_<sanitised uid>_<hash>`. The user has no tags (so no
 * management UI or API access) and configure/write/read `.*` on its own vhost only. Its password is
 * random, kept in state, and sent as a salted SHA-256 `password_hash` (RabbitMQ's default scheme),
 * so the clear password never reaches the broker. Deleting the vhost deletes its queues and
 * exchanges and closes its connections.
 */
const ID = 'amqp';
const ALL = '.*';
const HASHING = 'rabbit_password_hashing_sha256';

export const amqpInputs = z.strictObject({
  managementUrl: z.string().min(1, 'managementUrl is required, e.g. http://guest:guest@127.0.0.1:15672'),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
});
export type AmqpInputs = z.infer<typeof amqpInputs>;

/** The vhost and user name for a resource uid. */
export function amqpName(uid: string): string {
  return nameFromUid(uid, { max: 63 });
}

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ SHA-256(salt ‖ password)), 4-byte salt. */
export function rabbitPasswordHash(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

function passwordMatches(hash: string, password: string): boolean {
  const raw = Buffer.from(hash, 'base64');
  if (raw.length !== 36) return false;
  const expected = Buffer.from(rabbitPasswordHash(password, raw.subarray(0, 4)), 'base64');
  return timingSafeEqual(raw, expected);
}

interface Api {
  base: string;
  display: string;
  auth: string;
  secrets: (string | undefined)[];
  signal: AbortSignal;
}

function apiOf(inputs: AmqpInputs, signal: AbortSignal, password?: string): Api {
  const u = parseUrl(ID, 'managementUrl', inputs.managementUrl, ['http:', 'https:']);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  if (!user) throw new DriverError(ID, 'managementUrl has no credentials; expected http://<user>:<password>@host:15672', { retryable: false });
  const base = `${u.origin}${u.pathname.replace(/\/+$/, '')}/api`;
  return { base, display: displayUrl(inputs.managementUrl), auth: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, secrets: [inputs.managementUrl, pass || undefined, password], signal };
}

interface Reply {
  status: number;
  body: unknown;
}

/** One management API call; 2xx and 404 are returned, anything else is a DriverError. */
async function call(api: Api, method: string, path: string, what: string, body?: unknown): Promise<Reply> {
  throwIfAborted(ID, api.signal);
  let res: Response;
  try {
    res = await fetch(`${api.base}${path}`, {
      method,
      headers: { authorization: api.auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.any([api.signal, AbortSignal.timeout(15_000)]),
    });
  } catch (err) {
    throwIfAborted(ID, api.signal);
    const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
    throw new DriverError(ID, `${what}: cannot reach the RabbitMQ management API at ${api.display}: ${describeError(cause, api.secrets)}`, { retryable: true });
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (res.ok || res.status === 404) return { status: res.status, body: parsed };
  const reason = describeError(new Error(reasonOf(parsed) ?? res.statusText), api.secrets);
  if (res.status === 401) throw new DriverError(ID, `${what}: the management API at ${api.display} refused the credentials in managementUrl (401)`, { retryable: false });
  if (res.status === 403) throw new DriverError(ID, `${what}: the user in managementUrl is not allowed to do this (403: ${reason}); it needs the administrator tag`, { retryable: false });
  throw new DriverError(ID, `${what}: the management API answered ${res.status}: ${reason}`, { retryable: res.status >= 500 });
}

function reasonOf(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as { reason?: unknown; error?: unknown };
    if (typeof b.reason === 'string') return b.reason;
    if (typeof b.error === 'string') return b.error;
  }
  return typeof body === 'string' && body ? body.slice(0, 200) : undefined;
}

const seg = encodeURIComponent;

async function provision(req: ProvisionRequest<AmqpInputs>): Promise<ProvisionResult> {
  const { inputs, resource, signal, log } = req;
  const name = amqpName(resource.uid);
  const password = stateString(req.state, 'password') ?? generatePassword();
  const api = apiOf(inputs, signal, password);
  const mgmt = new URL(inputs.managementUrl);
  const host = inputs.host ?? mgmt.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = inputs.port ?? 5672;

  // PUT is create-or-update: each call converges, whatever the previous attempt left.
  const vhost = await call(api, 'PUT', `/vhosts/${seg(name)}`, `creating vhost ${name}`, { description: `Pave resource ${resource.uid}`, tags: 'pave' });
  if (vhost.status === 201) log.info('created vhost', { vhost: name });
  const user = await call(api, 'PUT', `/users/${seg(name)}`, `creating user ${name}`, { password_hash: rabbitPasswordHash(password), hashing_algorithm: HASHING, tags: '' });
  if (user.status === 201) log.info('created user', { user: name });
  await call(api, 'PUT', `/permissions/${seg(name)}/${seg(name)}`, `granting user ${name} access to vhost ${name}`, { configure: ALL, write: ALL, read: ALL });

  return {
    outputs: { host, port, vhost: name, username: name, password },
    secretOutputs: ['password'],
    state: { name, password },
  };
}

async function check(req: CheckRequest<AmqpInputs>): Promise<DriftReport> {
  const { inputs, resource, signal } = req;
  const name = amqpName(resource.uid);
  const password = stateString(req.state, 'password');
  const api = apiOf(inputs, signal, password);
  const vhost = await call(api, 'GET', `/vhosts/${seg(name)}`, `checking vhost ${name}`);
  if (vhost.status === 404) return { status: 'missing', detail: `vhost ${name} does not exist` };
  const user = await call(api, 'GET', `/users/${seg(name)}`, `checking user ${name}`);
  if (user.status === 404) return { status: 'missing', detail: `user ${name} does not exist` };
  const diffs: { field: string; expected: unknown; actual: unknown }[] = [];
  const u = (user.body ?? {}) as { tags?: unknown; password_hash?: unknown; hashing_algorithm?: unknown };
  const tags = Array.isArray(u.tags) ? u.tags.join(',') : typeof u.tags === 'string' ? u.tags : '';
  if (tags !== '') diffs.push({ field: 'tags', expected: '', actual: tags });
  if (password !== undefined && !(u.hashing_algorithm === HASHING && typeof u.password_hash === 'string' && passwordMatches(u.password_hash, password))) {
    diffs.push({ field: 'password', expected: '(the password in state)', actual: '(another password)' });
  }
  const perms = await call(api, 'GET', `/permissions/${seg(name)}/${seg(name)}`, `checking permissions of ${name}`);
  const p = (perms.body ?? {}) as Record<string, unknown>;
  const expected = { configure: ALL, write: ALL, read: ALL };
  const actual = perms.status === 404 ? null : { configure: p.configure, write: p.write, read: p.read };
  if (JSON.stringify(actual) !== JSON.stringify(expected)) diffs.push({ field: 'permissions', expected, actual });
  if (diffs.length > 0) return { status: 'changed', detail: `user ${name} differs: ${diffs.map((d) => d.field).join(', ')}`, differences: diffs };
  return { status: 'in-sync' };
}

async function remove(req: DeleteRequest<AmqpInputs>): Promise<void> {
  const { inputs, resource, signal, log } = req;
  const name = amqpName(resource.uid);
  const api = apiOf(inputs, signal, stateString(req.state, 'password'));
  const vhost = await call(api, 'DELETE', `/vhosts/${seg(name)}`, `deleting vhost ${name}`);
  if (vhost.status !== 404) log.info('deleted vhost', { vhost: name });
  const user = await call(api, 'DELETE', `/users/${seg(name)}`, `deleting user ${name}`);
  if (user.status !== 404) log.info('deleted user', { user: name });
}

// ---------------------------------------------------------------------------------------------
// Day-2 operation: purge queues of the resource's own vhost. The management API (admin) lists and
// checks the queues; the purge itself is AMQP `queue.purge` as the resource's own user (name and
// password from state), which reaches its vhost only and returns the exact number of messages
// purged (the management API's purge returns no count, and its message counts lag by seconds).
// ---------------------------------------------------------------------------------------------

interface QueueInfo {
  name: string;
  type: string;
  exclusive: boolean;
}

const purgeArgs = z.strictObject({
  queue: z.string().min(1).max(255).optional().describe("The queue to purge, in the resource's own vhost."),
  all: z.boolean().default(false).describe('Purge every queue of the vhost instead of one (exclusive and stream queues are skipped).'),
});

function operationSecrets(req: OperationRequest<AmqpInputs>): (string | undefined)[] {
  let pass: string | undefined;
  try {
    pass = decodeURIComponent(new URL(req.inputs.managementUrl).password) || undefined;
  } catch {
    pass = undefined;
  }
  return [req.inputs.managementUrl, pass, stateString(req.state, 'password')];
}

async function listQueues(api: Api, vhost: string): Promise<QueueInfo[]> {
  const r = await call(api, 'GET', `/queues/${seg(vhost)}?columns=name,type,exclusive`, `listing the queues of vhost ${vhost}`);
  if (r.status === 404) throw new DriverError(ID, `vhost ${vhost} does not exist; provision the resource first`, { retryable: false });
  const list = Array.isArray(r.body) ? (r.body as Record<string, unknown>[]) : [];
  return list.map((q) => ({ name: String(q.name), type: typeof q.type === 'string' ? q.type : 'classic', exclusive: q.exclusive === true })).sort((a, b) => a.name.localeCompare(b.name));
}

function unpurgeable(q: QueueInfo): string | undefined {
  if (q.exclusive) return 'exclusive to another connection';
  if (q.type === 'stream') return 'a stream queue (streams are truncated by retention, not purged)';
  return undefined;
}

const purgeQueue = defineOperation<AmqpInputs, z.infer<typeof purgeArgs>>(ID, 'purge-queue', {
  title: 'Purge queue',
  description:
    "Deletes the ready messages of one queue of the resource's own vhost, or of all its queues (all: true); messages delivered but not yet acknowledged stay. Uses the resource's own AMQP user, which reaches its vhost only.",
  args: purgeArgs,
  secrets: operationSecrets,
  async run(req, { args, secrets, progress }) {
    const { inputs, signal } = req;
    if (args.all === (args.queue !== undefined)) throw badArgs(ID, 'purge-queue', args.all ? 'give either queue or all: true, not both' : 'give the queue to purge, or all: true');
    const name = amqpName(req.resource.uid);
    const password = stateString(req.state, 'password');
    const api = apiOf(inputs, signal, password);
    const queues = await listQueues(api, name);
    let targets: QueueInfo[];
    const skipped: { queue: string; reason: string }[] = [];
    if (args.queue !== undefined) {
      const q = queues.find((x) => x.name === args.queue);
      if (!q) {
        const known = queues.slice(0, 20).map((x) => x.name);
        throw badArgs(ID, 'purge-queue', `no queue ${args.queue} in vhost ${name}${known.length > 0 ? `; its queues: ${known.join(', ')}${queues.length > 20 ? ', …' : ''}` : ' (it has no queues)'}`);
      }
      const why = unpurgeable(q);
      if (why) throw badArgs(ID, 'purge-queue', `queue ${q.name} cannot be purged: it is ${why}`);
      targets = [q];
    } else {
      targets = [];
      for (const q of queues) {
        const why = unpurgeable(q);
        if (why) skipped.push({ queue: q.name, reason: why });
        else targets.push(q);
      }
    }
    if (!password) throw new DriverError(ID, `the resource's state holds no password for user ${name}; provision the resource again`, { retryable: false });
    req.output(`purging ${plural(targets.length, 'queue')} of vhost ${name}${skipped.length > 0 ? ` (skipping ${skipped.map((x) => x.queue).join(', ')})` : ''}`);
    for (const x of skipped) req.output(`skipped ${x.queue}: ${x.reason}`);
    const mgmt = new URL(inputs.managementUrl);
    const hostname = inputs.host ?? mgmt.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = inputs.port ?? 5672;
    throwIfAborted(ID, signal);
    let conn: amqp.ChannelModel;
    try {
      conn = await amqp.connect({ protocol: 'amqp', hostname, port, username: name, password, vhost: name, heartbeat: 0 }, { timeout: 10_000 });
    } catch (err) {
      throwIfAborted(ID, signal);
      throw wrapError(ID, `cannot open vhost ${name} at amqp://${hostname}:${port} as its user (provision the resource again if its password changed)`, err, secrets, true);
    }
    conn.on('error', () => undefined);
    const onAbort = () => void conn.close().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    const purged: { queue: string; purged: number }[] = [];
    const failed: { queue: string; reason: string }[] = [];
    let total = 0;
    try {
      let ch = await conn.createChannel();
      ch.on('error', () => undefined);
      for (const q of targets) {
        throwIfAborted(ID, signal);
        try {
          const r = await ch.purgeQueue(q.name);
          purged.push({ queue: q.name, purged: r.messageCount });
          total += r.messageCount;
          progress(`purging ${plural(total, 'message')} from ${plural(purged.length, 'queue')}`);
          req.output(`purged ${plural(r.messageCount, 'message')} from queue ${q.name}`);
        } catch (err) {
          throwIfAborted(ID, signal);
          // A channel error (the queue was deleted, or became exclusive) closes the channel: carry on with a new one.
          const reason = describeError(err, secrets);
          if (args.queue !== undefined) throw new DriverError(ID, `purging queue ${q.name}: ${reason}`, { retryable: !/NOT_FOUND|RESOURCE_LOCKED|ACCESS_REFUSED/.test(reason) });
          failed.push({ queue: q.name, reason });
          req.output(`could not purge queue ${q.name}: ${reason}`);
          ch = await conn.createChannel();
          ch.on('error', () => undefined);
        }
      }
      await ch.close().catch(() => undefined);
    } finally {
      signal.removeEventListener('abort', onAbort);
      await conn.close().catch(() => undefined);
    }
    req.log.info('purged queues', { vhost: name, queues: purged.length, messages: total });
    const where = args.queue !== undefined ? `queue ${args.queue}` : `${plural(purged.length, 'queue')} of vhost ${name}`;
    return {
      summary: `purged ${plural(total, 'message')} from ${where}${failed.length > 0 ? `; ${failed.length} could not be purged` : ''}`,
      data: { vhost: name, purgedMessages: total, queues: purged, skipped, failed },
    };
  },
});

const amqpOperations: Record<string, DriverOperation<AmqpInputs>> = { 'purge-queue': purgeQueue };

export const amqpDriver: Driver<AmqpInputs> = {
  id: ID,
  description: 'A RabbitMQ vhost and a user limited to it (management HTTP API)',
  inputs: amqpInputs,
  secretInputs: ['managementUrl'],
  provision,
  check,
  delete: remove,
  operations: amqpOperations,
};
