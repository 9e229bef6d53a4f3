import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type DriverOperation, type OperationRequest, type ProvisionRequest, type ProvisionResult } from './driver.ts';
import { defineOperation, plural } from './operations.ts';
import { displayUrl, generatePassword, nameFromUid, parseUrl, stateString, throwIfAborted, urlPort, wrapError } from './util.ts';

/**
 * `redis`: an ACL user on a shared Redis (6.2+; standalone, not cluster) that reaches only its own
 * key prefix and channel prefix.
 *
 * The user is `pv_<sanitised uid>_<hash>` with a random password (kept in state, sent to Redis as
 * its SHA-256 `#hash`, so the clear password never crosses the wire), `on`, keys `~<name>:*`,
 * channels `&<name>:*`, commands `+@all -@admin -@dangerous` (GET, SET, DEL, UNLINK, SCAN, EXPIRE,
 * TTL, EVAL… stay allowed; FLUSHALL, CONFIG, KEYS, INFO, DEBUG… are refused) and, on Redis 7, no
 * FUNCTION LOAD/DELETE/FLUSH/RESTORE or SCRIPT FLUSH (server-wide state shared by every
 * application). Applications must prefix every key with the `prefix` output.
 *
 * Limits of Redis ACLs: SCAN has no key argument, so it is allowed and lists key *names* of every
 * prefix (values stay unreadable); SELECT is allowed, and the key pattern applies in every logical
 * database. Delete therefore removes the prefix's keys in every database. ACL changes are saved with
 * `ACL SAVE` when the server uses an ACL file; otherwise they live in memory only, a restart loses
 * them, and check reports the user missing so that provision recreates it.
 */
const ID = 'redis';
const COMMANDS = ['+@all', '-@admin', '-@dangerous'];
/**
 * Redis 7 leaves server-wide scripting state writable under `-@dangerous`: one application could
 * flush or replace another's functions, or flush the script cache. Those subcommands are denied too
 * (EVAL, EVALSHA, FCALL and SCRIPT LOAD stay allowed). Subcommand rules need Redis 7.
 */
const COMMANDS_7 = ['-function|load', '-function|delete', '-function|flush', '-function|restore', '-script|flush'];

export const redisInputs = z.strictObject({
  adminUrl: z.string().min(1, 'adminUrl is required, e.g. redis://127.0.0.1:6379'),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
});
export type RedisInputs = z.infer<typeof redisInputs>;

/** The ACL user name for a resource uid; the key prefix is `<name>:`. */
export function redisName(uid: string): string {
  return nameFromUid(uid, { max: 63 });
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

interface Admin {
  url: URL;
  secrets: (string | undefined)[];
}

function adminOf(inputs: RedisInputs, password?: string): Admin {
  const url = parseUrl(ID, 'adminUrl', inputs.adminUrl, ['redis:', 'rediss:']);
  return { url, secrets: [inputs.adminUrl, url.password ? decodeURIComponent(url.password) : undefined, password] };
}

function hint(err: unknown): string {
  const msg = err instanceof Error ? err.message : '';
  if (/^(WRONGPASS|NOAUTH)/.test(msg)) return ' — check the credentials in adminUrl';
  if (/^NOPERM/.test(msg)) return ' — the user in adminUrl needs the @admin and @dangerous commands (ACL, INFO, CLIENT)';
  return '';
}

async function step<T>(what: string, admin: Admin, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throwIfAborted(ID, signal);
    const h = hint(err);
    const e = wrapError(ID, what, err, admin.secrets);
    if (h) throw new DriverError(ID, e.message + h, { retryable: false });
    throw e;
  }
}

async function withRedis<T>(admin: Admin, signal: AbortSignal, fn: (r: Redis) => Promise<T>): Promise<T> {
  throwIfAborted(ID, signal);
  const r = new Redis(admin.url.toString(), { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false, disconnectTimeout: 500 });
  // A failed AUTH surfaces as an 'error' event, and connect() only says "Connection is closed".
  let lastError: unknown;
  r.on('error', (err: unknown) => void (lastError = err));
  const onAbort = () => r.disconnect();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await step(`cannot connect to Redis at ${displayUrl(admin.url.toString())}`, admin, signal, () =>
      r.connect().catch((err: unknown) => {
        throw lastError ?? err;
      }),
    );
    return await fn(r);
  } finally {
    signal.removeEventListener('abort', onAbort);
    r.disconnect();
  }
}

type AclUser = Map<string, unknown>;

/** ACL GETUSER as a map (flags, passwords, commands, keys, channels, selectors), or null. */
async function getUser(r: Redis, name: string): Promise<AclUser | null> {
  const reply = await r.call('ACL', 'GETUSER', name);
  if (!Array.isArray(reply)) return null;
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) m.set(String(reply[i]), reply[i + 1]);
  return m;
}

/** A pattern field (keys, channels) as one string: Redis 7 returns a string, 6.2 an array of patterns. */
function patterns(v: unknown): string {
  if (Array.isArray(v)) return v.map((p) => String(p)).map((p) => (p.startsWith('~') || p.startsWith('&') ? p : `~${p}`)).join(' ');
  return typeof v === 'string' ? v : '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : [];
}

async function serverMajor(r: Redis): Promise<number> {
  const info = await r.info('server');
  const m = /redis_version:(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

/** Persists ACL changes when the server has an ACL file; a no-op otherwise. */
async function aclSave(r: Redis): Promise<void> {
  await r.call('ACL', 'SAVE').catch(() => undefined);
}

function userDifferences(user: AclUser, name: string, password: string | undefined) {
  const prefix = `${name}:`;
  const diffs: { field: string; expected: unknown; actual: unknown }[] = [];
  const flags = strings(user.get('flags'));
  if (!flags.includes('on')) diffs.push({ field: 'enabled', expected: true, actual: false });
  const keys = patterns(user.get('keys'));
  if (keys !== `~${prefix}*`) diffs.push({ field: 'keys', expected: `~${prefix}*`, actual: keys });
  const channels = patterns(user.get('channels'));
  if (channels !== `&${prefix}*`) diffs.push({ field: 'channels', expected: `&${prefix}*`, actual: channels });
  const commands = String(user.get('commands') ?? '').split(' ').filter(Boolean);
  // Redis normalises the rule (in 7.x, -@admin is folded into -@dangerous); what matters is all
  // commands but the dangerous ones, and nothing added back.
  if (commands[0] !== '+@all' || !commands.includes('-@dangerous') || commands.slice(1).some((c) => c.startsWith('+'))) {
    diffs.push({ field: 'commands', expected: COMMANDS.join(' '), actual: commands.join(' ') });
  }
  const selectors = user.get('selectors');
  if (Array.isArray(selectors) && selectors.length > 0) diffs.push({ field: 'selectors', expected: [], actual: `${selectors.length} selector(s)` });
  if (password !== undefined) {
    const passwords = strings(user.get('passwords'));
    if (passwords.length !== 1 || passwords[0] !== sha256(password)) diffs.push({ field: 'password', expected: '(the password in state)', actual: '(another password)' });
  }
  return diffs;
}

async function provision(req: ProvisionRequest<RedisInputs>): Promise<ProvisionResult> {
  const { inputs, resource, signal, log } = req;
  const name = redisName(resource.uid);
  const prefix = `${name}:`;
  const password = stateString(req.state, 'password') ?? generatePassword();
  const admin = adminOf(inputs, password);
  const host = inputs.host ?? (admin.url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1');
  const port = inputs.port ?? urlPort(admin.url, 6379);

  await withRedis(admin, signal, async (r) => {
    const existing = await step(`looking up ACL user ${name}`, admin, signal, () => getUser(r, name));
    const major = await step('reading the server version', admin, signal, () => serverMajor(r));
    // Every rule is reset and set again, so a re-provision converges whatever drifted, without
    // `reset` (which would switch the user off for a moment).
    const rules = ['on', 'resetpass', `#${sha256(password)}`, 'resetkeys', `~${prefix}*`, 'resetchannels', `&${prefix}*`, ...(major >= 7 ? ['clearselectors'] : []), ...COMMANDS, ...(major >= 7 ? COMMANDS_7 : [])];
    await step(`setting ACL user ${name}`, admin, signal, () => r.call('ACL', 'SETUSER', name, ...rules));
    await aclSave(r);
    if (!existing) log.info('created ACL user', { user: name, prefix });
  });

  return {
    outputs: { host, port, username: name, password, prefix },
    secretOutputs: ['password'],
    state: { name, password },
  };
}

async function check(req: CheckRequest<RedisInputs>): Promise<DriftReport> {
  const { inputs, resource, signal } = req;
  const name = redisName(resource.uid);
  const password = stateString(req.state, 'password');
  const admin = adminOf(inputs, password);
  return withRedis(admin, signal, async (r): Promise<DriftReport> => {
    const user = await step(`checking ACL user ${name}`, admin, signal, () => getUser(r, name));
    if (!user) return { status: 'missing', detail: `ACL user ${name} does not exist` };
    const diffs = userDifferences(user, name, password);
    if (diffs.length > 0) return { status: 'changed', detail: `ACL user ${name} differs: ${diffs.map((d) => d.field).join(', ')}`, differences: diffs };
    return { status: 'in-sync' };
  });
}

/** Logical databases that hold keys, from INFO keyspace (`db0:keys=…`). */
async function databasesWithKeys(r: Redis): Promise<number[]> {
  const info = await r.info('keyspace');
  return [...info.matchAll(/^db(\d+):keys=/gm)].map((m) => Number(m[1]));
}

async function remove(req: DeleteRequest<RedisInputs>): Promise<void> {
  const { inputs, resource, signal, log } = req;
  const name = redisName(resource.uid);
  const prefix = `${name}:`;
  const admin = adminOf(inputs, stateString(req.state, 'password'));
  await withRedis(admin, signal, async (r) => {
    const user = await step(`looking up ACL user ${name}`, admin, signal, () => getUser(r, name));
    if (user) {
      // Switch the user off and end its sessions first, so no key is written while we delete.
      await step(`disabling ACL user ${name}`, admin, signal, async () => {
        await r.call('ACL', 'SETUSER', name, 'off');
        await r.call('CLIENT', 'KILL', 'USER', name);
      });
    }
    let deleted = 0;
    for (const db of await step('listing databases', admin, signal, () => databasesWithKeys(r))) {
      await step(`deleting keys ${prefix}* in database ${db}`, admin, signal, async () => {
        await r.select(db);
        let cursor = '0';
        do {
          throwIfAborted(ID, signal);
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) deleted += await r.unlink(...keys);
        } while (cursor !== '0');
      });
    }
    if (deleted > 0) log.info('deleted keys', { prefix, count: deleted });
    if (user) {
      await step(`deleting ACL user ${name}`, admin, signal, () => r.call('ACL', 'DELUSER', name));
      await aclSave(r);
      log.info('deleted ACL user', { user: name });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Day-2 operations. Both act on the resource's own prefix `<name>:` (the ACL user's key pattern) in
// every logical database that holds keys, with the admin connection, and SCAN with MATCH (never
// KEYS). Keys are handled as bytes, so binary key names are deleted too; every key SCAN returns is
// checked to start with the prefix before anything is done to it.
// ---------------------------------------------------------------------------------------------

/** Keys per SCAN call (a hint to Redis) and so at most per UNLINK. */
const SCAN_COUNT = 1000;

/**
 * Calls `batch` with each SCAN batch of keys matching `match` (all under `prefix`) in every
 * database with keys; checks the signal between batches.
 */
async function scanOwnKeys(r: Redis, admin: Admin, signal: AbortSignal, prefix: string, match: string, batch: (db: number, keys: Buffer[]) => Promise<void>): Promise<number[]> {
  const own = Buffer.from(prefix, 'utf8');
  const dbs = await step('listing databases', admin, signal, () => databasesWithKeys(r));
  for (const db of dbs) {
    await step(`scanning keys ${match} in database ${db}`, admin, signal, async () => {
      await r.select(db);
      let cursor = '0';
      do {
        throwIfAborted(ID, signal);
        const [next, keys] = await r.scanBuffer(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
        cursor = next.toString();
        const mine = keys.filter((k) => k.length >= own.length && k.subarray(0, own.length).equals(own));
        if (mine.length > 0) await batch(db, mine);
      } while (cursor !== '0');
    });
  }
  return dbs;
}

function redisSecrets(req: OperationRequest<RedisInputs>): (string | undefined)[] {
  let adminPassword: string | undefined;
  try {
    adminPassword = decodeURIComponent(new URL(req.inputs.adminUrl).password) || undefined;
  } catch {
    adminPassword = undefined;
  }
  return [req.inputs.adminUrl, adminPassword, stateString(req.state, 'password')];
}

const purgeArgs = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[^\r\n]*$/, 'one line')
    .default('*')
    .describe("Glob (Redis MATCH syntax) of the keys to delete, relative to the resource's prefix: `session:*` deletes `<prefix>session:*`. Default `*`: every key of the resource."),
});

const purgeCache = defineOperation<RedisInputs, z.infer<typeof purgeArgs>>(ID, 'purge-cache', {
  title: 'Purge cache',
  description:
    "Deletes the resource's keys (those under its own prefix, the only keys its ACL user can reach), optionally only those matching a glob within the prefix, in every logical database. Uses SCAN and UNLINK in batches of about 1000 keys; never KEYS or FLUSHDB, and never another resource's keys. Keys written while it runs may survive.",
  args: purgeArgs,
  secrets: redisSecrets,
  async run(req, { args, progress }) {
    const name = redisName(req.resource.uid);
    const prefix = `${name}:`;
    const match = `${prefix}${args.pattern}`;
    const admin = adminOf(req.inputs, stateString(req.state, 'password'));
    const byDb: Record<string, number> = {};
    let deleted = 0;
    let reported = 0;
    let lastReport = Date.now();
    req.output(`deleting keys matching ${match}`);
    const dbs = await withRedis(admin, req.signal, (r) =>
      scanOwnKeys(r, admin, req.signal, prefix, match, async (db, keys) => {
        const n = await r.unlink(...keys);
        deleted += n;
        byDb[db] = (byDb[db] ?? 0) + n;
        progress(`deleting ${plural(deleted, 'key')}`);
        if (deleted - reported >= SCAN_COUNT || Date.now() - lastReport >= 1000) {
          req.output(`database ${db}: ${plural(deleted, 'key')} deleted so far`);
          reported = deleted;
          lastReport = Date.now();
        }
      }),
    );
    for (const db of dbs) if (byDb[db]) req.output(`database ${db}: deleted ${plural(byDb[db], 'key')}`);
    req.log.info('purged cache', { prefix, pattern: args.pattern, deleted });
    return { summary: `deleted ${plural(deleted, 'key')} matching ${match}`, data: { deletedKeys: deleted, prefix, pattern: args.pattern, byDatabase: byDb } };
  },
});

const statsArgs = z.strictObject({
  sampleSize: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(100)
    .describe('How many keys (a uniform random sample) to measure with MEMORY USAGE and TYPE; 0 counts keys only.'),
});

interface Sampled {
  db: number;
  key: Buffer;
}

const stats = defineOperation<RedisInputs, z.infer<typeof statsArgs>>(ID, 'stats', {
  title: 'Key statistics',
  description:
    "Counts the resource's keys (under its prefix, in every logical database) with SCAN, and measures a random sample of them with MEMORY USAGE, TYPE and PTTL to estimate the memory they use. Hit and miss counts are not reported: Redis keeps them server-wide, not per key prefix.",
  args: statsArgs,
  secrets: redisSecrets,
  async run(req, { args, progress }) {
    const name = redisName(req.resource.uid);
    const prefix = `${name}:`;
    const admin = adminOf(req.inputs, stateString(req.state, 'password'));
    const byDb: Record<string, number> = {};
    const sample: Sampled[] = [];
    let keys = 0;
    const result = await withRedis(admin, req.signal, async (r) => {
      await scanOwnKeys(r, admin, req.signal, prefix, `${prefix}*`, async (db, batch) => {
        for (const key of batch) {
          keys++;
          // Reservoir sampling: every key has the same chance to be in the sample.
          if (sample.length < args.sampleSize) sample.push({ db, key });
          else {
            const j = Math.floor(Math.random() * keys);
            if (j < args.sampleSize) sample[j] = { db, key };
          }
        }
        byDb[db] = (byDb[db] ?? 0) + batch.length;
        progress(`counting ${plural(keys, 'key')}`);
      });
      req.output(`${plural(keys, 'key')} under ${prefix}${Object.keys(byDb).length > 1 ? ` (${Object.entries(byDb).map(([db, n]) => `database ${db}: ${n}`).join(', ')})` : ''}`);
      let sampledBytes = 0;
      let measured = 0;
      let withTtl = 0;
      const types: Record<string, number> = {};
      const dbs = [...new Set(sample.map((s) => s.db))];
      for (const db of dbs) {
        throwIfAborted(ID, req.signal);
        const inDb = sample.filter((s) => s.db === db);
        const replies = await step(`measuring sampled keys in database ${db}`, admin, req.signal, async () => {
          await r.select(db);
          const p = r.pipeline();
          for (const s of inDb) {
            p.memory('USAGE', s.key);
            p.type(s.key);
            p.pttl(s.key);
          }
          return (await p.exec()) ?? [];
        });
        for (let i = 0; i + 2 < replies.length; i += 3) {
          const [memErr, bytes] = replies[i]!;
          const [, type] = replies[i + 1]!;
          const [, ttl] = replies[i + 2]!;
          // A key that expired or was deleted since the scan: MEMORY USAGE answers nil, TYPE none.
          if (memErr || typeof bytes !== 'number' || type === 'none') continue;
          measured++;
          sampledBytes += bytes;
          types[String(type)] = (types[String(type)] ?? 0) + 1;
          if (typeof ttl === 'number' && ttl >= 0) withTtl++;
        }
      }
      const estimatedBytes = measured > 0 ? Math.round((sampledBytes / measured) * keys) : keys === 0 ? 0 : null;
      return { sampledBytes, measured, withTtl, types, estimatedBytes };
    });
    if (result.measured > 0) {
      req.output(`sampled ${plural(result.measured, 'key')}: ${result.sampledBytes} bytes, ${result.withTtl} with a TTL; types ${Object.entries(result.types).map(([t, n]) => `${t}: ${n}`).join(', ')}`);
    }
    const memory = result.estimatedBytes === null ? 'memory not measured' : result.measured >= keys ? `${result.estimatedBytes} bytes` : `about ${result.estimatedBytes} bytes (estimated from ${plural(result.measured, 'sampled key')})`;
    return {
      summary: `${plural(keys, 'key')} under ${prefix}, ${memory}`,
      data: {
        prefix,
        keys,
        byDatabase: byDb,
        sampledKeys: result.measured,
        sampledBytes: result.sampledBytes,
        estimatedBytes: result.estimatedBytes,
        sampledTypes: result.types,
        sampledKeysWithTtl: result.withTtl,
        hitsAndMisses: 'not available per prefix (Redis counts keyspace hits and misses server-wide)',
      },
    };
  },
});

const redisOperations: Record<string, DriverOperation<RedisInputs>> = { 'purge-cache': purgeCache, stats };

export const redisDriver: Driver<RedisInputs> = {
  id: ID,
  description: 'A Redis ACL user limited to its own key and channel prefix',
  inputs: redisInputs,
  secretInputs: ['adminUrl'],
  provision,
  check,
  delete: remove,
  operations: redisOperations,
};
