import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type DriverOperation, type ProvisionRequest, type ProvisionResult } from './driver.ts';
import { badArgs, defineOperation, plural, whileAbortable } from './operations.ts';
import { displayUrl, generatePassword, nameFromUid, parseUrl, stateString, throwIfAborted, urlPort, wrapError } from './util.ts';

/**
 * `mysql`: a database and a user with ALL privileges on it only, on MariaDB (or MySQL 5.7-style
 * servers that accept `IDENTIFIED BY PASSWORD`), reached with an admin URL.
 *
 * Both are named `pv_<sanitised uid>_<hash>` (≤ 32 characters, the portable limit for user names).
 * The user is `'<name>'@'%'`. How MariaDB matches: the account with the most specific host that
 * matches the client wins, and anonymous users count. So `'<name>'@'%'` is enough for TCP clients,
 * but where an anonymous `''@'localhost'` exists (old default installs), a client that connects as
 * `localhost` would match the anonymous account first; only then the driver also creates
 * `'<name>'@'localhost'` with the same password and grant.
 *
 * The password is random, kept in state, and sent as its `mysql_native_password` hash, so the clear
 * password never reaches the server or its logs. The grant names the database with `_` and `%`
 * escaped: in GRANT they are wildcards, and `pv_a_b` would otherwise also match `pvXaXb`.
 */
const ID = 'mysql';

export const mysqlInputs = z.strictObject({
  adminUrl: z.string().min(1, 'adminUrl is required, e.g. mysql://root@127.0.0.1:3306'),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
});
export type MysqlInputs = z.infer<typeof mysqlInputs>;

/** The database and user name for a resource uid: lower case, ≤ 32 characters. */
export function mysqlName(uid: string): string {
  return nameFromUid(uid, { max: 32 });
}

/** The `mysql_native_password` hash of a password: `*` + upper-case hex SHA1(SHA1(password)). */
export function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(once).digest('hex').toUpperCase()}`;
}

/** A database name as a GRANT pattern that matches only itself. */
function grantDatabase(name: string): string {
  return mysql.escapeId(name.replace(/[\\_%]/g, '\\$&'));
}

function account(name: string, host: string): string {
  return `${mysql.escape(name)}@${mysql.escape(host)}`;
}

interface Admin {
  url: URL;
  secrets: (string | undefined)[];
}

function adminOf(inputs: MysqlInputs, password?: string): Admin {
  const url = parseUrl(ID, 'adminUrl', inputs.adminUrl, ['mysql:', 'mariadb:']);
  const adminPassword = url.password ? decodeURIComponent(url.password) : undefined;
  return { url, secrets: [inputs.adminUrl, adminPassword, password, password ? nativePasswordHash(password) : undefined] };
}

const HINTS: Record<string, string> = {
  ER_ACCESS_DENIED_ERROR: ' — check the credentials in adminUrl',
  ER_SPECIFIC_ACCESS_DENIED_ERROR: ' — the user in adminUrl needs CREATE, CREATE USER and GRANT OPTION (or be root)',
  ER_DBACCESS_DENIED_ERROR: ' — the user in adminUrl needs CREATE, CREATE USER and GRANT OPTION (or be root)',
  ER_PASSWORD_FORMAT: ' — the server does not accept mysql_native_password hashes (MySQL 8 is not supported by this driver)',
};

async function step<T>(what: string, admin: Admin, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throwIfAborted(ID, signal);
    const code = (err as { code?: unknown }).code;
    const e = wrapError(ID, what, err, admin.secrets);
    const hint = typeof code === 'string' ? HINTS[code] : undefined;
    if (hint) throw new DriverError(ID, e.message + hint, { retryable: false });
    throw e;
  }
}

async function withConnection<T>(admin: Admin, signal: AbortSignal, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  throwIfAborted(ID, signal);
  const u = admin.url;
  const c = await step(`cannot connect to MariaDB at ${displayUrl(u.toString())}`, admin, signal, () =>
    mysql.createConnection({
      host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: urlPort(u, 3306),
      user: decodeURIComponent(u.username) || 'root',
      password: u.password ? decodeURIComponent(u.password) : undefined,
      connectTimeout: 10_000,
      multipleStatements: false,
    }),
  );
  c.on('error', () => undefined);
  const onAbort = () => c.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(c);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await c.end().catch(() => c.destroy());
  }
}

type Row = Record<string, unknown>;
async function rows(c: mysql.Connection, sql: string, values: unknown[] = []): Promise<Row[]> {
  const [r] = await c.query(sql, values);
  return Array.isArray(r) ? (r as Row[]) : [];
}

/** The hosts the user needs: `%`, plus `localhost` where an anonymous localhost account would shadow it. */
async function hostsFor(c: mysql.Connection): Promise<string[]> {
  const anon = await rows(c, `SELECT 1 FROM mysql.user WHERE User = '' AND Host = 'localhost'`);
  return anon.length > 0 ? ['%', 'localhost'] : ['%'];
}

async function provision(req: ProvisionRequest<MysqlInputs>): Promise<ProvisionResult> {
  const { inputs, resource, signal, log } = req;
  const name = mysqlName(resource.uid);
  const password = stateString(req.state, 'password') ?? generatePassword();
  const admin = adminOf(inputs, password);
  const host = inputs.host ?? (admin.url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1');
  const port = inputs.port ?? urlPort(admin.url, 3306);
  const hash = mysql.escape(nativePasswordHash(password));

  await withConnection(admin, signal, async (c) => {
    const db = mysql.escapeId(name);
    const existed = (await step(`looking up database ${name}`, admin, signal, () => rows(c, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]))).length > 0;
    await step(`creating database ${name}`, admin, signal, () => c.query(`CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`));
    if (!existed) log.info('created database', { database: name });
    const existing = new Set((await rows(c, 'SELECT Host AS host FROM mysql.user WHERE User = ?', [name])).map((r) => String(r.host)));
    for (const h of await hostsFor(c)) {
      const who = account(name, h);
      await step(`creating user ${name}@${h}`, admin, signal, async () => {
        if (existing.has(h)) {
          // A re-provision, or a crash before state was saved: converge the password.
          await c.query(`ALTER USER ${who} IDENTIFIED BY PASSWORD ${hash}`);
        } else {
          await c.query(`CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY PASSWORD ${hash}`);
          await c.query(`ALTER USER ${who} IDENTIFIED BY PASSWORD ${hash}`);
          log.info('created user', { user: `${name}@${h}` });
        }
      });
      await step(`granting ${name}@${h} access to database ${name}`, admin, signal, () => c.query(`GRANT ALL PRIVILEGES ON ${grantDatabase(name)}.* TO ${who}`));
    }
  });

  return {
    outputs: { host, port, name, database: name, username: name, password },
    secretOutputs: ['password'],
    state: { name, password },
  };
}

async function check(req: CheckRequest<MysqlInputs>): Promise<DriftReport> {
  const { inputs, resource, signal } = req;
  const name = mysqlName(resource.uid);
  const password = stateString(req.state, 'password');
  const admin = adminOf(inputs, password);
  return withConnection(admin, signal, async (c): Promise<DriftReport> => {
    const db = await step(`checking database ${name}`, admin, signal, () => rows(c, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]));
    if (db.length === 0) return { status: 'missing', detail: `database ${name} does not exist` };
    const user = await step(`checking user ${name}`, admin, signal, () => rows(c, `SELECT authentication_string AS auth FROM mysql.user WHERE User = ? AND Host = '%'`, [name]));
    if (user.length === 0) return { status: 'missing', detail: `user ${name}@% does not exist` };
    const diffs: { field: string; expected: unknown; actual: unknown }[] = [];
    const grants = await rows(c, `SHOW GRANTS FOR ${account(name, '%')}`);
    const expected = `GRANT ALL PRIVILEGES ON ${grantDatabase(name)}.*`;
    const hasGrant = grants.some((g) => Object.values(g).some((v) => typeof v === 'string' && v.startsWith(expected)));
    if (!hasGrant) diffs.push({ field: 'grant', expected, actual: null });
    if (password && user[0]?.auth !== nativePasswordHash(password)) diffs.push({ field: 'password', expected: '(the password in state)', actual: '(another password)' });
    if (diffs.length > 0) return { status: 'changed', detail: `user ${name}@% differs: ${diffs.map((d) => d.field).join(', ')}`, differences: diffs };
    return { status: 'in-sync' };
  });
}

async function remove(req: DeleteRequest<MysqlInputs>): Promise<void> {
  const { inputs, resource, signal, log } = req;
  const name = mysqlName(resource.uid);
  const admin = adminOf(inputs, stateString(req.state, 'password'));
  await withConnection(admin, signal, async (c) => {
    const sessions = await rows(c, 'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [name]);
    for (const s of sessions) await c.query(`KILL CONNECTION ${Number(s.id)}`).catch(() => undefined);
    const [res] = await step(`dropping database ${name}`, admin, signal, () => c.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(name)}`));
    if (!(res as { warningStatus?: number }).warningStatus) log.info('dropped database', { database: name });
    await step(`dropping user ${name}`, admin, signal, () => c.query(`DROP USER IF EXISTS ${account(name, '%')}, ${account(name, 'localhost')}`));
  });
}

// ---------------------------------------------------------------------------------------------
// Day-2 operation: OPTIMIZE TABLE on the resource's own database, table by table. An abort kills
// the running statement on the server (KILL QUERY from a second admin connection), since closing
// the socket alone leaves a long OPTIMIZE (or one waiting for a lock) running there.
// ---------------------------------------------------------------------------------------------

/** Kills the statement running on connection `threadId` (best effort, never throws). */
async function killQuery(admin: Admin, threadId: number): Promise<void> {
  const u = admin.url;
  let c: mysql.Connection | undefined;
  try {
    c = await mysql.createConnection({
      host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: urlPort(u, 3306),
      user: decodeURIComponent(u.username) || 'root',
      password: u.password ? decodeURIComponent(u.password) : undefined,
      connectTimeout: 5000,
    });
    c.on('error', () => undefined);
    await c.query(`KILL QUERY ${Number(threadId)}`);
  } catch {
    // The statement ends with its connection anyway, sooner or later.
  } finally {
    await c?.end().catch(() => c?.destroy());
  }
}

interface TableInfo {
  table: string;
  engine: string;
  dataFree: number;
}

async function ownTables(c: mysql.Connection, name: string): Promise<TableInfo[]> {
  const r = await rows(c, `SELECT TABLE_NAME AS t, ENGINE AS e, DATA_FREE AS f FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`, [name]);
  return r.map((x) => ({ table: String(x.t), engine: String(x.e ?? '?'), dataFree: Number(x.f ?? 0) }));
}

const optimizeArgs = z.strictObject({
  table: z.string().min(1).max(64).optional().describe('Only this table; default every table of the database.'),
});

const optimizeTables = defineOperation<MysqlInputs, z.infer<typeof optimizeArgs>>(ID, 'optimize-tables', {
  title: 'Optimize tables',
  description:
    "Runs OPTIMIZE TABLE on every table of the resource's own database (or on one), table by table: defragments the data and indexes and returns free space (InnoDB recreates the table online and analyzes it). Never touches another database.",
  args: optimizeArgs,
  secrets: (req) => adminOf(req.inputs, stateString(req.state, 'password')).secrets,
  async run(req, { args, progress }) {
    const { signal } = req;
    const name = mysqlName(req.resource.uid);
    const admin = adminOf(req.inputs, stateString(req.state, 'password'));
    const started = Date.now();
    return withConnection(admin, signal, (c) =>
      whileAbortable(signal, () => void killQuery(admin, c.threadId), async () => {
        const db = await step(`looking up database ${name}`, admin, signal, () => rows(c, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]));
        if (db.length === 0) throw new DriverError(ID, `database ${name} does not exist; provision the resource first`, { retryable: false });
        const all = await step(`listing the tables of database ${name}`, admin, signal, () => ownTables(c, name));
        let tables = all;
        if (args.table !== undefined) {
          tables = all.filter((t) => t.table === args.table);
          if (tables.length === 0) {
            throw badArgs(ID, 'optimize-tables', `no table ${args.table} in database ${name}${all.length > 0 ? `; its tables: ${all.slice(0, 20).map((t) => t.table).join(', ')}${all.length > 20 ? ', …' : ''}` : ' (it has no tables)'}`);
          }
        }
        req.output(`OPTIMIZE TABLE of ${plural(tables.length, 'table')} in database ${name}`);
        const results: { table: string; engine: string; status: string; messages: string[] }[] = [];
        let failed = 0;
        for (const t of tables) {
          throwIfAborted(ID, signal);
          const t0 = Date.now();
          const out = await step(`optimizing table ${t.table}`, admin, signal, () => rows(c, `OPTIMIZE TABLE ${mysql.escapeId(name)}.${mysql.escapeId(t.table)}`));
          const messages = out.map((m) => `${String(m.Msg_type)}: ${String(m.Msg_text)}`);
          const error = out.find((m) => String(m.Msg_type).toLowerCase() === 'error');
          const status = error ? `error: ${String(error.Msg_text)}` : String(out.findLast((m) => String(m.Msg_type).toLowerCase() === 'status')?.Msg_text ?? 'done');
          if (error) failed++;
          results.push({ table: t.table, engine: t.engine, status, messages });
          progress(`optimizing ${plural(results.length, 'table')}`);
          req.output(`optimized ${t.table} (${t.engine}) in ${Date.now() - t0} ms: ${messages.join('; ')}`);
        }
        const afterFree = new Map((await ownTables(c, name)).map((t) => [t.table, t.dataFree]));
        const freeBefore = tables.reduce((s, t) => s + t.dataFree, 0);
        const freeAfter = tables.reduce((s, t) => s + (afterFree.get(t.table) ?? 0), 0);
        req.log.info('optimized tables', { database: name, tables: results.length, failed });
        return {
          summary: `optimized ${plural(results.length - failed, 'table')} in database ${name}${failed > 0 ? `; ${failed} failed` : ''}`,
          data: { database: name, tables: results.length, failed, dataFreeBefore: freeBefore, dataFreeAfter: freeAfter, results, durationMs: Date.now() - started },
        };
      }),
    );
  },
});

const mysqlOperations: Record<string, DriverOperation<MysqlInputs>> = { 'optimize-tables': optimizeTables };

export const mysqlDriver: Driver<MysqlInputs> = {
  id: ID,
  description: 'A MariaDB database and a user with all privileges on it only',
  inputs: mysqlInputs,
  secretInputs: ['adminUrl'],
  provision,
  check,
  delete: remove,
  operations: mysqlOperations,
};
