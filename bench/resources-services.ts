/**
 * Direct access to the local PostgreSQL and Redis for the resources benchmark, beside the API:
 * - what exists (databases, roles, ACL users, the drivers' connections) for the checks before and after,
 * - a sweep that removes whatever a run left (only names of this run), for failures and interrupts,
 * - a step profile: the statements of the postgres and redis drivers run one at a time and timed, with
 *   the wait events PostgreSQL reports while each runs, WAL written and checkpoints requested; this is
 *   the evidence of which statement or step the driver time goes to.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgresName, scramVerifier } from '../src/resources/drivers/postgres.ts';
import { redisName } from '../src/resources/drivers/redis.ts';
import { generatePassword } from '../src/resources/drivers/util.ts';
import { round, stats, type LatencyStats } from './resources-lib.ts';

/** Resource uid as the engine builds it (default namespace): `<app>.<environment>.<resource>`. */
export const uidOf = (app: string, env: string, resource: string): string => `${app}.${env}.${resource}`;
export const pgNameOf = (app: string, resource = 'db'): string => postgresName(uidOf(app, 'development', resource));
export const redisNameOf = (app: string, resource = 'cache'): string => redisName(uidOf(app, 'development', resource));

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'pave-bench' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
  r.on('error', () => undefined);
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const aclUsers = async (r: Redis): Promise<string[]> => {
  const lines = (await r.call('ACL', 'LIST')) as unknown;
  return Array.isArray(lines) ? lines.map((l) => String(l).split(' ')[1] ?? '') : [];
};

export interface ServicesSnapshot {
  at: string;
  postgres: {
    /** Of the names this run's applications get (or got), those that exist. */
    expectedDatabasesPresent: number;
    expectedRolesPresent: number;
    /** Databases owned by a role of the same name, among the expected present. */
    ownedBySameRole: number;
    /** Every database / role of this run (`pv_bench_<run>_*`), whether expected or not. */
    runDatabases: string[];
    runRoles: string[];
    /** Every `pv_bench*` database and role on the server (other runs included). */
    allPvBenchDatabases: string[];
    allPvBenchRoles: string[];
    /** Open connections of the drivers (application_name pave-driver): each call should close its own. */
    driverConnections: number;
  };
  redis: {
    expectedUsersPresent: number;
    runUsers: string[];
    /** `ACL LIST` entries named pv_bench* (other runs included). */
    allPvBenchUsers: string[];
    aclUsersTotal: number;
    connectedClients: number;
  };
}

export interface Expected {
  pg: string[];
  redis: string[];
}

/** What exists on PostgreSQL and Redis now, for this run (`runPrefix` = `pv_bench_<run>_`) and expected names. */
export async function snapshot(pgUrl: string, redisUrl: string, runPrefix: string, expected: Expected): Promise<ServicesSnapshot> {
  const postgres = await withPg(pgUrl, async (c) => {
    const dbs = await c.query<{ datname: string; owner: string }>(`SELECT datname, pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database WHERE datname LIKE 'pv\\_bench%' ORDER BY 1`);
    const roles = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE 'pv\\_bench%' ORDER BY 1`);
    const conns = await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_catalog.pg_stat_activity WHERE application_name = 'pave-driver'`);
    const wanted = new Set(expected.pg);
    const run = (n: string) => n.startsWith(runPrefix);
    return {
      expectedDatabasesPresent: dbs.rows.filter((d) => wanted.has(d.datname)).length,
      expectedRolesPresent: roles.rows.filter((r) => wanted.has(r.rolname)).length,
      ownedBySameRole: dbs.rows.filter((d) => wanted.has(d.datname) && d.owner === d.datname).length,
      runDatabases: dbs.rows.map((d) => d.datname).filter(run),
      runRoles: roles.rows.map((r) => r.rolname).filter(run),
      allPvBenchDatabases: dbs.rows.map((d) => d.datname),
      allPvBenchRoles: roles.rows.map((r) => r.rolname),
      driverConnections: Number(conns.rows[0]?.n ?? 0),
    };
  });
  const redis = await withRedis(redisUrl, async (r) => {
    const users = await aclUsers(r);
    const wanted = new Set(expected.redis);
    const info = await r.info('clients');
    return {
      expectedUsersPresent: users.filter((u) => wanted.has(u)).length,
      runUsers: users.filter((u) => u.startsWith(runPrefix)),
      allPvBenchUsers: users.filter((u) => u.startsWith('pv_bench')),
      aclUsersTotal: users.length,
      connectedClients: Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? 0),
    };
  });
  return { at: new Date().toISOString(), postgres, redis };
}

/** Removes every database, role, ACL user and key of this run (`runPrefix*`). Returns what it removed. */
export async function sweep(pgUrl: string, redisUrl: string, runPrefix: string): Promise<{ databases: string[]; roles: string[]; redisUsers: string[]; errors: string[] }> {
  const out = { databases: [] as string[], roles: [] as string[], redisUsers: [] as string[], errors: [] as string[] };
  if (!/^pv_bench_[a-z0-9]+_$/.test(runPrefix)) throw new Error(`refusing to sweep with prefix ${runPrefix}`);
  const like = `${likeEscape(runPrefix)}%`;
  await withPg(pgUrl, async (c) => {
    for (const { datname } of (await c.query<{ datname: string }>('SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE $1', [like])).rows) {
      try {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
        out.databases.push(datname);
      } catch (err) {
        out.errors.push(`drop database ${datname}: ${(err as Error).message}`);
      }
    }
    for (const { rolname } of (await c.query<{ rolname: string }>('SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE $1', [like])).rows) {
      try {
        await c.query(`DROP OWNED BY ${pg.escapeIdentifier(rolname)}`);
        await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`);
        out.roles.push(rolname);
      } catch (err) {
        out.errors.push(`drop role ${rolname}: ${(err as Error).message}`);
      }
    }
  }).catch((err: unknown) => out.errors.push(`postgres: ${(err as Error).message}`));
  await withRedis(redisUrl, async (r) => {
    for (const u of (await aclUsers(r)).filter((x) => x.startsWith(runPrefix))) {
      await r.call('ACL', 'DELUSER', u);
      out.redisUsers.push(u);
    }
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
  }).catch((err: unknown) => out.errors.push(`redis: ${(err as Error).message}`));
  return out;
}

// ---- step profile ----------------------------------------------------------------------------------

export interface StepProfile {
  step: string;
  latency: LatencyStats;
  /** Share of the step's total time (sum over iterations) in the whole operation's. */
  share: number;
  /** Wait events PostgreSQL reported for the backend while the step ran (samples every ~5 ms after the first 2 ms). */
  waits?: Record<string, number>;
}

export interface OperationProfile {
  iterations: number;
  total: LatencyStats;
  steps: StepProfile[];
}

export interface PostgresProfile {
  provision: OperationProfile;
  delete: OperationProfile;
  /** WAL written by one CREATE DATABASE (mean bytes), and checkpoints requested per DROP DATABASE. */
  createDatabaseWalBytes: number;
  dropDatabaseCheckpointsRequested: number;
  /** The same copy of template1 both ways, paired: WAL_LOG (PostgreSQL 15's default, what the driver gets) and FILE_COPY. */
  createStrategies?: { iterations: number; walLog: LatencyStats; fileCopy: LatencyStats; fileCopyCheckpointsRequested: number };
  settings: Record<string, string>;
  note: string;
}

export interface RedisProfile {
  provision: OperationProfile;
  delete: OperationProfile;
  note: string;
}

class StepTimer {
  readonly times = new Map<string, number[]>();
  readonly waits = new Map<string, Map<string, number>>();
  readonly totals: number[] = [];
  private current = 0;
  private readonly probe: pg.Client | undefined;
  private readonly pid: number | undefined;
  constructor(probe?: pg.Client, pid?: number) {
    this.probe = probe;
    this.pid = pid;
  }
  begin() {
    this.current = 0;
  }
  end() {
    this.totals.push(this.current);
  }
  /** Times `fn` as `name`; with a probe, samples the wait events of the watched backend meanwhile. */
  async step<T>(name: string, fn: () => Promise<T>, watchPid?: number): Promise<T> {
    let done = false;
    const pid = watchPid ?? this.pid;
    const sampling = this.probe && pid !== undefined ? this.sample(name, pid, () => done) : Promise.resolve();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - t0;
      done = true;
      await sampling;
      this.current += ms;
      const list = this.times.get(name) ?? [];
      list.push(ms);
      this.times.set(name, list);
    }
  }
  private async sample(name: string, pid: number, isDone: () => boolean): Promise<void> {
    await new Promise((r) => setTimeout(r, 2));
    const tally = this.waits.get(name) ?? new Map<string, number>();
    this.waits.set(name, tally);
    while (!isDone()) {
      const r = await this.probe!.query<{ w: string | null; state: string | null }>(
        `SELECT CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS w, state FROM pg_catalog.pg_stat_activity WHERE pid = $1`,
        [pid],
      );
      if (isDone()) break;
      const row = r.rows[0];
      const key = !row ? 'gone' : row.state !== 'active' ? `not active (${row.state ?? '?'})` : (row.w ?? 'CPU (no wait event)');
      tally.set(key, (tally.get(key) ?? 0) + 1);
      await new Promise((res) => setTimeout(res, 5));
    }
  }
  report(): OperationProfile {
    const sum = this.totals.reduce((a, b) => a + b, 0) || 1;
    return {
      iterations: this.totals.length,
      total: stats(this.totals),
      steps: [...this.times.entries()].map(([step, list]) => {
        const w = this.waits.get(step);
        return { step, latency: stats(list), share: round(list.reduce((a, b) => a + b, 0) / sum, 3), ...(w && w.size ? { waits: Object.fromEntries([...w.entries()].sort((a, b) => b[1] - a[1])) } : {}) };
      }),
    };
  }
}

function databaseUrl(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * Runs the postgres driver's statements (src/resources/drivers/postgres.ts, provision then delete)
 * for `names`, one name at a time, each statement timed on its own, on fresh connections as the driver
 * opens them. A probe connection samples the wait events of the working backend.
 */
export async function profilePostgres(adminUrl: string, names: string[]): Promise<PostgresProfile> {
  const probe = new pg.Client({ connectionString: adminUrl, application_name: 'pave-bench-probe' });
  probe.on('error', () => undefined);
  await probe.connect();
  const settings: Record<string, string> = {};
  for (const s of ['server_version', 'fsync', 'synchronous_commit', 'wal_level', 'full_page_writes', 'shared_buffers', 'checkpoint_timeout', 'max_wal_size']) {
    settings[s] = (await probe.query<Record<string, string>>(`SHOW ${s}`)).rows[0]?.[s] ?? '';
  }
  settings.template1Size = (await probe.query<{ s: string }>(`SELECT pg_catalog.pg_size_pretty(pg_catalog.pg_database_size('template1')) AS s`)).rows[0]?.s ?? '';
  const lsn = async () => (await probe.query<{ l: string }>('SELECT pg_catalog.pg_current_wal_lsn()::text AS l')).rows[0]!.l;
  const walDiff = async (from: string) => Number((await probe.query<{ d: string }>('SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), $1::pg_lsn) AS d', [from])).rows[0]!.d);
  const checkpoints = async () => Number((await probe.query<{ n: string }>('SELECT checkpoints_req AS n FROM pg_catalog.pg_stat_bgwriter')).rows[0]!.n);

  const prov = new StepTimer(probe);
  const del = new StepTimer(probe);
  const wal: number[] = [];
  let ckptDrop = 0;
  let strategies: PostgresProfile['createStrategies'];
  try {
    for (const name of names) {
      const ident = pg.escapeIdentifier(name);
      const password = generatePassword();
      // provision, as the driver does it
      prov.begin();
      const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000, application_name: 'pave-bench-profile' });
      c.on('error', () => undefined);
      await prov.step('connect (admin database)', () => c.connect());
      const pid = (await c.query<{ p: number }>('SELECT pg_catalog.pg_backend_pid() AS p')).rows[0]!.p;
      await prov.step('SELECT role', () => c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name]), pid);
      const verifier = pg.escapeLiteral(await prov.step('SCRAM verifier (pbkdf2 4096, in Node)', () => scramVerifier(password)));
      await prov.step('CREATE ROLE', () => c.query(`CREATE ROLE ${ident} LOGIN PASSWORD ${verifier}`), pid);
      await prov.step('SELECT database', () => c.query('SELECT pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database WHERE datname = $1', [name]), pid);
      const before = await lsn();
      await prov.step('CREATE DATABASE … OWNER', () => c.query(`CREATE DATABASE ${ident} OWNER ${ident}`), pid);
      wal.push(await walDiff(before));
      await prov.step('REVOKE ALL ON DATABASE FROM PUBLIC', () => c.query(`REVOKE ALL ON DATABASE ${ident} FROM PUBLIC`), pid);
      await prov.step('disconnect (admin)', () => c.end());
      const d = new pg.Client({ connectionString: databaseUrl(adminUrl, name), connectionTimeoutMillis: 10_000, application_name: 'pave-bench-profile' });
      d.on('error', () => undefined);
      await prov.step('connect (new database)', () => d.connect());
      const pid2 = (await d.query<{ p: number }>('SELECT pg_catalog.pg_backend_pid() AS p')).rows[0]!.p;
      await prov.step('SELECT schema public', () => d.query(`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public'`), pid2);
      await prov.step('ALTER SCHEMA public OWNER', () => d.query(`ALTER SCHEMA public OWNER TO ${ident}`), pid2);
      await prov.step('REVOKE ALL ON SCHEMA public', () => d.query('REVOKE ALL ON SCHEMA public FROM PUBLIC'), pid2);
      await prov.step('disconnect (new database)', () => d.end());
      prov.end();

      // delete, as the driver does it
      del.begin();
      const e = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000, application_name: 'pave-bench-profile' });
      e.on('error', () => undefined);
      await del.step('connect (admin database)', () => e.connect());
      const pid3 = (await e.query<{ p: number }>('SELECT pg_catalog.pg_backend_pid() AS p')).rows[0]!.p;
      await del.step('SHOW server_version_num', () => e.query('SHOW server_version_num'), pid3);
      await del.step('SELECT database', () => e.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [name]), pid3);
      await del.step('ALTER DATABASE ALLOW_CONNECTIONS false', () => e.query(`ALTER DATABASE ${ident} WITH ALLOW_CONNECTIONS false`), pid3);
      await del.step('pg_terminate_backend (datname)', () => e.query('SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()', [name]), pid3);
      const ck = await checkpoints();
      await del.step('DROP DATABASE … WITH (FORCE)', () => e.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`), pid3);
      ckptDrop += (await checkpoints()) - ck;
      await del.step('SELECT role', () => e.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name]), pid3);
      await del.step('pg_terminate_backend (usename)', () => e.query('SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()', [name]), pid3);
      await del.step('DROP OWNED BY', () => e.query(`DROP OWNED BY ${ident}`), pid3);
      await del.step('DROP ROLE', () => e.query(`DROP ROLE IF EXISTS ${ident}`), pid3);
      await del.step('disconnect (admin)', () => e.end());
      del.end();
    }
    // CREATE DATABASE strategies (PostgreSQL 15+), paired on the same server state.
    const version = Number((await probe.query<{ v: string }>(`SELECT pg_catalog.current_setting('server_version_num') AS v`)).rows[0]?.v ?? 0);
    if (version >= 150000) {
      const n = Math.min(5, names.length);
      const walLog: number[] = [];
      const fileCopy: number[] = [];
      let ck = 0;
      for (const name of names.slice(0, n)) {
        const a = pg.escapeIdentifier(`${name}_wl`);
        const b = pg.escapeIdentifier(`${name}_fc`);
        let t = performance.now();
        await probe.query(`CREATE DATABASE ${a} STRATEGY WAL_LOG`);
        walLog.push(performance.now() - t);
        const before = await checkpoints();
        t = performance.now();
        await probe.query(`CREATE DATABASE ${b} STRATEGY FILE_COPY`);
        fileCopy.push(performance.now() - t);
        ck += (await checkpoints()) - before;
        await probe.query(`DROP DATABASE ${a} WITH (FORCE)`);
        await probe.query(`DROP DATABASE ${b} WITH (FORCE)`);
      }
      strategies = { iterations: n, walLog: stats(walLog), fileCopy: stats(fileCopy), fileCopyCheckpointsRequested: round(ck / (n || 1), 2) };
    }
  } finally {
    await probe.end().catch(() => undefined);
  }
  return {
    ...(strategies ? { createStrategies: strategies } : {}),
    provision: prov.report(),
    delete: del.report(),
    createDatabaseWalBytes: Math.round(wal.reduce((a, b) => a + b, 0) / (wal.length || 1)),
    dropDatabaseCheckpointsRequested: round(ckptDrop / (names.length || 1), 2),
    settings,
    note: 'the postgres driver\'s statements replayed one at a time outside Pave (same server, same order, fresh connections as the driver opens them); wait events are sampled every ~5 ms from a second connection (steps under 2 ms get no sample); the sampling itself costs a little CPU',
  };
}

/** Runs the redis driver's commands (provision then delete) for `names`, one at a time, each timed. */
export async function profileRedis(adminUrl: string, names: string[]): Promise<RedisProfile> {
  const prov = new StepTimer();
  const del = new StepTimer();
  const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  const opts = { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false, disconnectTimeout: 500 } as const;
  for (const name of names) {
    const prefix = `${name}:`;
    prov.begin();
    const r = new Redis(adminUrl, opts);
    r.on('error', () => undefined);
    await prov.step('connect', () => r.connect());
    await prov.step('ACL GETUSER', () => r.call('ACL', 'GETUSER', name));
    const info = await prov.step('INFO server', () => r.info('server'));
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    const rules = ['on', 'resetpass', `#${sha256(generatePassword())}`, 'resetkeys', `~${prefix}*`, 'resetchannels', `&${prefix}*`, ...(major >= 7 ? ['clearselectors'] : []), '+@all', '-@admin', '-@dangerous', ...(major >= 7 ? ['-function|load', '-function|delete', '-function|flush', '-function|restore', '-script|flush'] : [])];
    await prov.step('ACL SETUSER', () => r.call('ACL', 'SETUSER', name, ...rules));
    await prov.step('ACL SAVE (error without aclfile)', () => r.call('ACL', 'SAVE').catch(() => undefined));
    await prov.step('disconnect', async () => r.disconnect());
    prov.end();

    del.begin();
    const d = new Redis(adminUrl, opts);
    d.on('error', () => undefined);
    await del.step('connect', () => d.connect());
    await del.step('ACL GETUSER', () => d.call('ACL', 'GETUSER', name));
    await del.step('ACL SETUSER off', () => d.call('ACL', 'SETUSER', name, 'off'));
    await del.step('CLIENT KILL USER', () => d.call('CLIENT', 'KILL', 'USER', name));
    const ks = await del.step('INFO keyspace', () => d.info('keyspace'));
    await del.step('SELECT + SCAN MATCH prefix (every database with keys)', async () => {
      for (const m of ks.matchAll(/^db(\d+):keys=/gm)) {
        await d.select(Number(m[1]));
        let cursor = '0';
        do {
          const [next, keys] = await d.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await d.unlink(...keys);
        } while (cursor !== '0');
      }
    });
    await del.step('ACL DELUSER', () => d.call('ACL', 'DELUSER', name));
    await del.step('ACL SAVE (error without aclfile)', () => d.call('ACL', 'SAVE').catch(() => undefined));
    await del.step('disconnect', async () => d.disconnect());
    del.end();
  }
  return { provision: prov.report(), delete: del.report(), note: 'the redis driver\'s commands replayed one at a time outside Pave (same server, same order, a fresh connection per operation as the driver opens it)' };
}

// ---- what PostgreSQL is doing during a phase ----------------------------------------------------------

export interface ActivityLine {
  who: 'driver' | 'pave' | 'checkpointer';
  /** Normalised statement (pv_… names and string literals elided). */
  statement: string;
  wait: string;
  samples: number;
  /** Share of `who`'s backend-samples (each busy backend in each sample counts once). */
  share: number;
}

export interface ActivityReport {
  intervalMs: number;
  samples: number;
  /** Samples in which at least one of this run's driver backends was running a statement. */
  driverBusy: number;
  /** Samples in which a backend of the Pave server's own database was running a statement. */
  paveBusy: number;
  checkpointerBusy: number;
  /** Driver samples left out because the statement names another run's objects (other work on the server). */
  foreignDriverSamples: number;
  top: ActivityLine[];
  /** Server-wide counters over the phase (pg_stat_bgwriter, pg_stat_wal): checkpoints and WAL. */
  counters: { checkpointsRequested: number; checkpointsTimed: number; checkpointWriteMs: number; checkpointSyncMs: number; buffersCheckpoint: number; walMb: number; walSyncs: number };
}

const normalise = (q: string) =>
  q.replace(/\s+/g, ' ').replace(/'(?:[^']|'')*'/g, "'…'").replace(/"?pv_[a-z0-9_]+"?/g, 'pv_…').trim().slice(0, 90);

interface Counters { ckReq: number; ckTimed: number; writeMs: number; syncMs: number; buffers: number; walBytes: number; walSync: number }

/**
 * Samples pg_stat_activity every `intervalMs` while a phase runs: what the drivers' backends
 * (application_name pave-driver, on the admin database or this run's databases), the Pave server's
 * backends (its own database) and the checkpointer are doing, with their wait events. One query per
 * sample, from a separate connection.
 */
export class ActivitySampler {
  private readonly client: pg.Client;
  private readonly paveDb: string;
  private readonly runPrefix: string;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy: Promise<void> = Promise.resolve();
  private samples = 0;
  private driverBusy = 0;
  private paveBusy = 0;
  private ckBusy = 0;
  private foreign = 0;
  private readonly tally = new Map<string, number>();
  private start0: Counters | undefined;
  private intervalMs = 20;
  private readonly connected: Promise<unknown>;

  constructor(pgUrl: string, paveDb: string, runPrefix: string) {
    this.client = new pg.Client({ connectionString: pgUrl, application_name: 'pave-bench-activity' });
    this.client.on('error', () => undefined);
    this.connected = this.client.connect();
    this.paveDb = paveDb;
    this.runPrefix = runPrefix;
  }

  private async counters(): Promise<Counters> {
    const b = (await this.client.query<{ r: string; t: string; w: string; s: string; b: string }>(
      'SELECT checkpoints_req AS r, checkpoints_timed AS t, checkpoint_write_time AS w, checkpoint_sync_time AS s, buffers_checkpoint AS b FROM pg_catalog.pg_stat_bgwriter',
    )).rows[0]!;
    const w = (await this.client.query<{ bytes: string; syncs: string }>('SELECT wal_bytes AS bytes, wal_sync AS syncs FROM pg_catalog.pg_stat_wal')).rows[0]!;
    return { ckReq: Number(b.r), ckTimed: Number(b.t), writeMs: Number(b.w), syncMs: Number(b.s), buffers: Number(b.b), walBytes: Number(w.bytes), walSync: Number(w.syncs) };
  }

  async start(intervalMs: number): Promise<void> {
    await this.connected;
    this.intervalMs = intervalMs;
    this.samples = this.driverBusy = this.paveBusy = this.ckBusy = this.foreign = 0;
    this.tally.clear();
    this.start0 = await this.counters();
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.busy = this.sample().finally(() => {
        if (this.running) this.timer = setTimeout(loop, this.intervalMs);
      });
    };
    loop();
  }

  private async sample(): Promise<void> {
    const r = await this.client.query<{ app: string; datname: string | null; backend_type: string; state: string | null; w: string | null; query: string }>(
      `SELECT application_name AS app, datname, backend_type, state,
              CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS w, left(query, 300) AS query
         FROM pg_catalog.pg_stat_activity
        WHERE (application_name = 'pave-driver' AND state = 'active')
           OR (application_name = 'pave' AND state = 'active' AND datname = $1)
           OR backend_type = 'checkpointer'`,
      [this.paveDb],
    ).catch(() => undefined);
    if (!r) return;
    this.samples++;
    let driver = false;
    let pave = false;
    for (const row of r.rows) {
      if (row.backend_type === 'checkpointer') {
        if (row.w === 'Activity:CheckpointerMain') continue;
        this.ckBusy++;
        this.add('checkpointer', '(checkpoint)', row.w ?? 'CPU (no wait event)');
        continue;
      }
      if (row.app === 'pave-driver') {
        const names = row.query.match(/pv_[a-z0-9_]+/g) ?? [];
        const ours = row.datname === 'postgres' || (row.datname ?? '').startsWith(this.runPrefix);
        if (!ours || names.some((n) => !n.startsWith(this.runPrefix))) {
          this.foreign++;
          continue;
        }
        driver = true;
        this.add('driver', normalise(row.query), row.w ?? 'CPU (no wait event)');
      } else {
        pave = true;
        this.add('pave', normalise(row.query), row.w ?? 'CPU (no wait event)');
      }
    }
    if (driver) this.driverBusy++;
    if (pave) this.paveBusy++;
  }

  private add(who: string, statement: string, wait: string) {
    const key = `${who}\u0000${statement}\u0000${wait}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
  }

  async stop(top = 12): Promise<ActivityReport> {
    this.running = false;
    clearTimeout(this.timer);
    await this.busy;
    const end = await this.counters();
    const s = this.start0 ?? end;
    // Share of `who`'s backend-samples (with several backends busy at once, a sample counts once per backend).
    const busyOf = { driver: 0, pave: 0, checkpointer: 0 };
    for (const [k, n] of this.tally) busyOf[k.split('\u0000')[0] as ActivityLine['who']] += n;
    const lines = [...this.tally.entries()]
      .map(([k, n]) => {
        const [who, statement, wait] = k.split('\u0000') as [ActivityLine['who'], string, string];
        return { who, statement, wait, samples: n, share: round(n / (busyOf[who] || 1), 3) };
      })
      .sort((a, b) => b.samples - a.samples)
      .slice(0, top);
    return {
      intervalMs: this.intervalMs,
      samples: this.samples,
      driverBusy: this.driverBusy,
      paveBusy: this.paveBusy,
      checkpointerBusy: this.ckBusy,
      foreignDriverSamples: this.foreign,
      top: lines,
      counters: {
        checkpointsRequested: end.ckReq - s.ckReq,
        checkpointsTimed: end.ckTimed - s.ckTimed,
        checkpointWriteMs: round(end.writeMs - s.writeMs),
        checkpointSyncMs: round(end.syncMs - s.syncMs),
        buffersCheckpoint: end.buffers - s.buffers,
        walMb: round((end.walBytes - s.walBytes) / 1048576, 1),
        walSyncs: end.walSync - s.walSync,
      },
    };
  }

  async close(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.busy.catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
