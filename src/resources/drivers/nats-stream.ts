import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type DriverOperation, type ProvisionRequest, type ProvisionResult } from './driver.ts';
import { badArgs, defineOperation, plural } from './operations.ts';
import { describeError, displayUrl, nameFromUid, parseUrl, throwIfAborted, urlPort, wrapError } from './util.ts';

/**
 * `nats-stream`: a JetStream stream on a NATS server, named from the resource uid
 * (`PV_<SANITISED UID>_<HASH>`, ≤ 32 characters of `[A-Z0-9_]`: stream names cannot hold `.`, `*`,
 * `>` or spaces), with the subjects of `params.subjects` (default `<STREAM>.>`). Re-provisioning
 * with other subjects, `maxAge` or `maxBytes` updates the stream in place; its storage type cannot
 * change (JetStream does not allow it), which is reported as an error rather than silently
 * recreating the stream and losing its messages.
 *
 * Limit: this driver creates streams only, not credentials. NATS has no API to create users at
 * runtime unless the server runs in operator/JWT mode (accounts and users are then JWTs signed by
 * an account key, pushed to a resolver); with static configuration, users live in the server's
 * config file. So applications receive the `url` the definition was given (marked secret when it
 * carries credentials), and isolation between applications is by subject, not enforced by the
 * server. A JWT-mode variant would mint a user whose publish/subscribe permissions are the stream's
 * subjects and `$JS.API.*.*.<STREAM>`.
 */
const ID = 'nats-stream';

const duration = z.union([
  z.number().positive(),
  z.string().regex(/^(\d+(\.\d+)?(ms|s|m|h|d))+$/, 'a duration such as 90s, 30m, 72h, 7d or 1h30m'),
]);

export const natsStreamInputs = z.strictObject({
  url: z.string().min(1, 'url is required, e.g. nats://127.0.0.1:4222'),
  storage: z.enum(['file', 'memory']).optional(),
  /** Oldest message kept: seconds, or a duration string (`72h`, `7d`, `1h30m`). */
  maxAge: duration.optional(),
  maxBytes: z.number().int().positive().optional(),
});
export type NatsStreamInputs = z.infer<typeof natsStreamInputs>;

const SUBJECT = /^(?:[^\s.*>]+|\*)(?:\.(?:[^\s.*>]+|\*))*(?:\.>)?$|^>$/;
const natsParams = z.object({
  subjects: z
    .array(z.string().regex(SUBJECT, 'a NATS subject: dot-separated tokens, * for one token, > only at the end'))
    .min(1)
    .optional(),
});

/** The stream name for a resource uid: upper case `[A-Z0-9_]`, ≤ 32 characters. */
export function streamName(uid: string): string {
  return nameFromUid(uid, { max: 32, upper: true });
}

/** Seconds of a duration input. */
export function durationSeconds(d: number | string): number {
  if (typeof d === 'number') return d;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (unit[m[2]!] ?? 0);
  return total;
}

interface Desired {
  subjects: string[];
  storage: 'file' | 'memory';
  max_age: number;
  max_bytes: number;
}

function desiredOf(name: string, inputs: NatsStreamInputs, params: Record<string, unknown>): Desired {
  const p = natsParams.safeParse(params);
  if (!p.success) {
    throw new DriverError(ID, `params.subjects is invalid: ${p.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`, { retryable: false });
  }
  return {
    subjects: p.data.subjects ?? [`${name}.>`],
    storage: inputs.storage ?? 'file',
    max_age: inputs.maxAge === undefined ? 0 : Math.round(durationSeconds(inputs.maxAge) * 1e9),
    max_bytes: inputs.maxBytes ?? -1,
  };
}

function secretsOf(inputs: NatsStreamInputs): (string | undefined)[] {
  try {
    const u = new URL(inputs.url);
    return [inputs.url, decodeURIComponent(u.username) || undefined, decodeURIComponent(u.password) || undefined];
  } catch {
    return [inputs.url];
  }
}

function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

async function withJetStream<T>(inputs: NatsStreamInputs, signal: AbortSignal, fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  throwIfAborted(ID, signal);
  const u = parseUrl(ID, 'url', inputs.url, ['nats:', 'tls:']);
  const secrets = secretsOf(inputs);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const opts: NodeConnectionOptions = {
    servers: `${u.hostname}:${urlPort(u, 4222)}`,
    name: 'pave-driver',
    timeout: 5000,
    reconnect: false,
    ...(user && pass ? { user, pass } : user ? { token: user } : {}),
    ...(u.protocol === 'tls:' ? { tls: {} } : {}),
  };
  let nc: NatsConnection;
  try {
    nc = await connect(opts);
  } catch (err) {
    throw wrapError(ID, `cannot connect to NATS at ${displayUrl(inputs.url)}`, err, secrets, true);
  }
  const onAbort = () => void nc.close().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: 10_000 });
    } catch (err) {
      throw wrapError(ID, `JetStream is not available at ${displayUrl(inputs.url)} (start nats-server with -js)`, err, secrets, false);
    }
    return await fn(jsm);
  } catch (err) {
    throwIfAborted(ID, signal);
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await nc.close().catch(() => undefined);
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

async function streamInfo(jsm: JetStreamManager, name: string, secrets: (string | undefined)[]): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw wrapError(ID, `reading stream ${name}`, err, secrets);
  }
}

function apiFailure(what: string, err: unknown, desired: Desired, secrets: (string | undefined)[]): DriverError {
  const msg = describeError(err, secrets);
  if (/overlap/i.test(msg)) {
    return new DriverError(ID, `${what}: subjects ${desired.subjects.join(', ')} overlap with another stream's subjects; choose other subjects in params.subjects`, { retryable: false });
  }
  return wrapError(ID, what, err, secrets, !(err instanceof JetStreamApiError));
}

function configDifferences(config: StreamConfig, desired: Desired) {
  const diffs: { field: string; expected: unknown; actual: unknown }[] = [];
  const actualSubjects = [...(config.subjects ?? [])].sort();
  if (JSON.stringify(actualSubjects) !== JSON.stringify([...desired.subjects].sort())) diffs.push({ field: 'subjects', expected: desired.subjects, actual: config.subjects ?? [] });
  if (config.storage !== desired.storage) diffs.push({ field: 'storage', expected: desired.storage, actual: config.storage });
  if ((config.max_age ?? 0) !== desired.max_age) diffs.push({ field: 'maxAge', expected: desired.max_age / 1e9, actual: (config.max_age ?? 0) / 1e9 });
  if ((config.max_bytes ?? -1) !== desired.max_bytes) diffs.push({ field: 'maxBytes', expected: desired.max_bytes, actual: config.max_bytes ?? -1 });
  return diffs;
}

async function provision(req: ProvisionRequest<NatsStreamInputs>): Promise<ProvisionResult> {
  const { inputs, resource, params, signal, log } = req;
  const name = streamName(resource.uid);
  const desired = desiredOf(name, inputs, params);
  const secrets = secretsOf(inputs);
  await withJetStream(inputs, signal, async (jsm) => {
    const info = await streamInfo(jsm, name, secrets);
    if (!info) {
      try {
        await jsm.streams.add({ name, subjects: desired.subjects, storage: desired.storage, max_age: desired.max_age, max_bytes: desired.max_bytes });
      } catch (err) {
        throw apiFailure(`creating stream ${name}`, err, desired, secrets);
      }
      log.info('created stream', { stream: name, subjects: desired.subjects });
      return;
    }
    const diffs = configDifferences(info.config, desired);
    if (diffs.some((d) => d.field === 'storage')) {
      throw new DriverError(ID, `stream ${name} uses ${info.config.storage} storage and JetStream cannot change it to ${desired.storage}; set storage back to ${info.config.storage}, or delete the resource and provision it again (its messages are lost)`, { retryable: false });
    }
    if (diffs.length > 0) {
      try {
        await jsm.streams.update(name, { ...info.config, subjects: desired.subjects, max_age: desired.max_age, max_bytes: desired.max_bytes });
      } catch (err) {
        throw apiFailure(`updating stream ${name}`, err, desired, secrets);
      }
      log.info('updated stream', { stream: name, changed: diffs.map((d) => d.field) });
    }
  });
  return {
    outputs: { url: inputs.url, stream: name, subjects: desired.subjects },
    secretOutputs: hasCredentials(inputs.url) ? ['url'] : [],
    state: { stream: name },
  };
}

async function check(req: CheckRequest<NatsStreamInputs>): Promise<DriftReport> {
  const { inputs, resource, params, signal } = req;
  const name = streamName(resource.uid);
  const desired = desiredOf(name, inputs, params);
  const secrets = secretsOf(inputs);
  return withJetStream(inputs, signal, async (jsm): Promise<DriftReport> => {
    const info = await streamInfo(jsm, name, secrets);
    if (!info) return { status: 'missing', detail: `stream ${name} does not exist` };
    const diffs = configDifferences(info.config, desired);
    if (diffs.length > 0) return { status: 'changed', detail: `stream ${name} differs: ${diffs.map((d) => d.field).join(', ')}`, differences: diffs };
    return { status: 'in-sync' };
  });
}

async function remove(req: DeleteRequest<NatsStreamInputs>): Promise<void> {
  const { inputs, resource, signal, log } = req;
  const name = streamName(resource.uid);
  const secrets = secretsOf(inputs);
  await withJetStream(inputs, signal, async (jsm) => {
    try {
      await jsm.streams.delete(name);
      log.info('deleted stream', { stream: name });
    } catch (err) {
      if (!isNotFound(err)) throw wrapError(ID, `deleting stream ${name}`, err, secrets);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Day-2 operation: purge the resource's own stream (the purge API names the stream, so no other
// stream can be touched), optionally only the messages of one subject, optionally keeping the
// newest ones.
// ---------------------------------------------------------------------------------------------

/** Whether the stream subject `pattern` matches every subject the filter `subject` can match. */
export function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || s[i] === '>') return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

const purgeArgs = z.strictObject({
  subject: z
    .string()
    .min(1)
    .max(255)
    .regex(SUBJECT, 'a NATS subject: dot-separated tokens, * for one token, > only at the end')
    .optional()
    .describe("Only the messages of this subject (wildcards allowed), which must be within the stream's subjects; default all messages."),
  keep: z.number().int().min(0).optional().describe('Keep this many of the newest (matching) messages; default none.'),
});

const purgeStream = defineOperation<NatsStreamInputs, z.infer<typeof purgeArgs>>(ID, 'purge-stream', {
  title: 'Purge stream',
  description:
    "Deletes the messages of the resource's own JetStream stream (never another stream's), or only those of one subject within it, optionally keeping the newest ones. Consumers stay; their pending counts drop.",
  args: purgeArgs,
  secrets: (req) => secretsOf(req.inputs),
  async run(req, { args, secrets }) {
    const name = streamName(req.resource.uid);
    return withJetStream(req.inputs, req.signal, async (jsm) => {
      const info = await streamInfo(jsm, name, secrets);
      if (!info) throw new DriverError(ID, `stream ${name} does not exist; provision the resource first`, { retryable: false });
      const subjects = info.config.subjects ?? [];
      if (args.subject !== undefined && !subjects.some((p) => subjectCovers(p, args.subject!))) {
        throw badArgs(ID, 'purge-stream', `subject ${args.subject} is not within the subjects of stream ${name} (${subjects.join(', ')})`);
      }
      const before = info.state.messages;
      req.output(`stream ${name}: ${plural(before, 'message')}; purging ${args.subject === undefined ? 'all of them' : `subject ${args.subject}`}${args.keep ? `, keeping the newest ${args.keep}` : ''}`);
      throwIfAborted(ID, req.signal);
      const filter = args.subject === undefined ? {} : { filter: args.subject };
      const opts = args.keep !== undefined ? { ...filter, keep: args.keep } : args.subject !== undefined ? { filter: args.subject } : undefined;
      let purged: number;
      try {
        const r = await jsm.streams.purge(name, opts);
        purged = r.purged;
      } catch (err) {
        throwIfAborted(ID, req.signal);
        throw wrapError(ID, `purging stream ${name}`, err, secrets, !(err instanceof JetStreamApiError));
      }
      const after = (await streamInfo(jsm, name, secrets))?.state.messages ?? 0;
      req.output(`purged ${plural(purged, 'message')}; ${plural(after, 'message')} left`);
      req.log.info('purged stream', { stream: name, subject: args.subject, purged });
      return {
        summary: `purged ${plural(purged, 'message')} from stream ${name}${args.subject === undefined ? '' : ` (subject ${args.subject})`}`,
        data: { stream: name, purgedMessages: purged, messagesBefore: before, messagesAfter: after, ...(args.subject === undefined ? {} : { subject: args.subject }) },
      };
    });
  },
});

const natsOperations: Record<string, DriverOperation<NatsStreamInputs>> = { 'purge-stream': purgeStream };

export const natsStreamDriver: Driver<NatsStreamInputs> = {
  id: ID,
  description: 'A NATS JetStream stream (streams only: NATS cannot create users at runtime without operator/JWT mode)',
  inputs: natsStreamInputs,
  secretInputs: ['url'],
  provision,
  check,
  delete: remove,
  operations: natsOperations,
};
