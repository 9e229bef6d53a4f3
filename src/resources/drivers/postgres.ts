import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type DriverOperation, type OperationRequest, type ProvisionRequest, type ProvisionResult } from './driver.ts';
import { badArgs, defineOperation, plural, whileAbortable } from './operations.ts';
import { displayUrl, generatePassword, nameFromUid, parseUrl, stateString, throwIfAborted, urlPort, wrapError } from './util.ts';

/**
 * `postgres`: a database and a login role that owns it, on a PostgreSQL server reached with an admin
 * URL (a superuser, or a role with CREATEROLE and CREATEDB that may SET the roles it creates).
 *
 * Both are named `pv_<sanitised uid>_<hash>` (≤ 63 characters). The role's password is random and
 * kept in state; it is sent to the server as a SCRAM-SHA-256 verifier computed here, so the clear
 * password never reaches the server (nor its statement log). `PUBLIC` loses CONNECT on the database
 * and CREATE on its `public` schema, which the role owns: the credentials reach this database only.
 * Outputs are Score's `postgres` outputs: host, port, name, database, username, password.
 */
const ID = 'postgres';
const pbkdf2Async = promisify(pbkdf2);

export const postgresInputs = z.strictObject({
  adminUrl: z.string().min(1, 'adminUrl is required, e.g. postgres://postgres@127.0.0.1:5432/postgres'),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
});
export type PostgresInputs = z.infer<typeof postgresInputs>;

/** The database and role name for a resource uid: lower case, ≤ 63 characters. */
export function postgresName(uid: string): string {
  return nameFromUid(uid, { max: 63 });
}

/** A SCRAM-SHA-256 verifier for `password`, as `CREATE ROLE … PASSWORD` accepts it (RFC 5802/7677). */
export async function scramVerifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): Promise<string> {
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function adminUrlOf(inputs: PostgresInputs): URL {
  return parseUrl(ID, 'adminUrl', inputs.adminUrl, ['postgres:', 'postgresql:']);
}

function hostAndPort(inputs: PostgresInputs, admin: URL): { host: string; port: number } {
  const host = inputs.host ?? admin.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new DriverError(ID, 'adminUrl has no host name; set input host to the address applications should use', { retryable: false });
  return { host, port: inputs.port ?? urlPort(admin, 5432) };
}

function secretsOf(inputs: PostgresInputs, password?: string): (string | undefined)[] {
  let adminPassword: string | undefined;
  try {
    adminPassword = decodeURIComponent(new URL(inputs.adminUrl).password) || undefined;
  } catch {
    adminPassword = undefined;
  }
  return [inputs.adminUrl, adminPassword, password];
}

const HINTS: Record<string, string> = {
  '42501': ' — the user in adminUrl needs CREATEROLE and CREATEDB (or superuser)',
  '28P01': ' — check the credentials in adminUrl',
  '28000': ' — check the user in adminUrl and the server\'s pg_hba.conf',
  '3D000': ' — the database named in adminUrl does not exist',
};

async function step<T>(what: string, secrets: (string | undefined)[], signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throwIfAborted(ID, signal);
    const code = (err as { code?: unknown }).code;
    const e = wrapError(ID, what, err, secrets);
    const hint = typeof code === 'string' ? HINTS[code] : undefined;
    if (hint) throw new DriverError(ID, e.message + hint, { retryable: false });
    throw e;
  }
}

/** Opens a client on `url`, runs `fn`, and always closes it; the signal closes it early. */
async function withClient<T>(url: string, signal: AbortSignal, secrets: (string | undefined)[], fn: (c: pg.Client) => Promise<T>): Promise<T> {
  throwIfAborted(ID, signal);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'pave-driver' });
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await step(`cannot connect to PostgreSQL at ${displayUrl(url)}`, secrets, signal, () => client.connect());
    return await fn(client);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

function databaseUrl(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function provision(req: ProvisionRequest<PostgresInputs>): Promise<ProvisionResult> {
  const { inputs, resource, signal, log } = req;
  const admin = adminUrlOf(inputs);
  const { host, port } = hostAndPort(inputs, admin);
  const name = postgresName(resource.uid);
  let password = stateString(req.state, 'password');
  const secrets = () => secretsOf(inputs, password);
  const ident = pg.escapeIdentifier(name);

  await withClient(inputs.adminUrl, signal, secrets(), async (c) => {
    const role = await step(`looking up role ${name}`, secrets(), signal, () => c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name]));
    if (!password) {
      // First provision, or a crash before state was saved: a new password either way.
      password = generatePassword();
    }
    const verifier = pg.escapeLiteral(await scramVerifier(password));
    if (role.rowCount === 0) {
      await step(`creating role ${name}`, secrets(), signal, async () => {
        try {
          await c.query(`CREATE ROLE ${ident} LOGIN PASSWORD ${verifier}`);
        } catch (err) {
          // Created concurrently since the look-up: converge on it.
          if ((err as { code?: unknown }).code !== '42710') throw err;
          await c.query(`ALTER ROLE ${ident} WITH LOGIN PASSWORD ${verifier}`);
        }
      });
      log.info('created role', { role: name });
    } else {
      await step(`updating role ${name}`, secrets(), signal, () => c.query(`ALTER ROLE ${ident} WITH LOGIN PASSWORD ${verifier}`));
    }

    const db = await step(`looking up database ${name}`, secrets(), signal, () =>
      c.query<{ owner: string }>('SELECT pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database WHERE datname = $1', [name]),
    );
    const owner = db.rows[0]?.owner;
    if (owner === undefined) {
      await step(`creating database ${name}`, secrets(), signal, async () => {
        try {
          await c.query(`CREATE DATABASE ${ident} OWNER ${ident}`);
        } catch (err) {
          if ((err as { code?: unknown }).code !== '42P04') throw err;
          await c.query(`ALTER DATABASE ${ident} OWNER TO ${ident}`);
        }
      });
      log.info('created database', { database: name });
    } else if (owner !== name) {
      await step(`changing the owner of database ${name}`, secrets(), signal, () => c.query(`ALTER DATABASE ${ident} OWNER TO ${ident}`));
      log.warn('database had another owner; changed it back', { database: name, owner });
    }
    await step(`revoking PUBLIC's privileges on database ${name}`, secrets(), signal, () => c.query(`REVOKE ALL ON DATABASE ${ident} FROM PUBLIC`));
  });

  await withClient(databaseUrl(inputs.adminUrl, name), signal, secrets(), async (c) => {
    const schema = await c.query(`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public'`);
    if (schema.rowCount === 0) return;
    await step(`securing schema public in database ${name}`, secrets(), signal, async () => {
      await c.query(`ALTER SCHEMA public OWNER TO ${ident}`);
      await c.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    });
  });

  if (!password) throw new DriverError(ID, 'internal error: no password after provision', { retryable: false });
  return {
    outputs: { host, port, name, database: name, username: name, password },
    secretOutputs: ['password'],
    state: { name, password },
  };
}

async function check(req: CheckRequest<PostgresInputs>): Promise<DriftReport> {
  const { inputs, resource, signal } = req;
  adminUrlOf(inputs);
  const name = postgresName(resource.uid);
  const secrets = secretsOf(inputs, stateString(req.state, 'password'));
  return withClient(inputs.adminUrl, signal, secrets, async (c): Promise<DriftReport> => {
    const r = await step(`checking role and database ${name}`, secrets, signal, () =>
      c.query<{ role: boolean | null; owner: string | null }>(
        `SELECT (SELECT true FROM pg_catalog.pg_roles WHERE rolname = $1) AS role,
                (SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = $1) AS owner`,
        [name],
      ),
    );
    const row = r.rows[0];
    if (!row?.role) return { status: 'missing', detail: `role ${name} does not exist` };
    if (row.owner === null) return { status: 'missing', detail: `database ${name} does not exist` };
    if (row.owner !== name) {
      return { status: 'changed', detail: `database ${name} is owned by ${row.owner}, not by ${name}`, differences: [{ field: 'owner', expected: name, actual: row.owner }] };
    }
    return { status: 'in-sync' };
  });
}

async function remove(req: DeleteRequest<PostgresInputs>): Promise<void> {
  const { inputs, resource, signal, log } = req;
  adminUrlOf(inputs);
  const name = postgresName(resource.uid);
  const ident = pg.escapeIdentifier(name);
  const secrets = secretsOf(inputs, stateString(req.state, 'password'));
  await withClient(inputs.adminUrl, signal, secrets, async (c) => {
    const version = Number((await c.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
    const db = await c.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [name]);
    if (db.rowCount !== 0) {
      await step(`dropping database ${name}`, secrets, signal, async () => {
        // No new sessions, then end the existing ones, then drop.
        await c.query(`ALTER DATABASE ${ident} WITH ALLOW_CONNECTIONS false`).catch(() => undefined);
        await c.query('SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${ident}${version >= 130000 ? ' WITH (FORCE)' : ''}`);
      });
      log.info('dropped database', { database: name });
    }
    const role = await c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name]);
    if (role.rowCount !== 0) {
      await step(`dropping role ${name}`, secrets, signal, async () => {
        await c.query('SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()', [name]);
        // Privileges and objects the role holds in the admin database (other databases are the operator's).
        await c.query(`DROP OWNED BY ${ident}`).catch((err: unknown) => log.warn('DROP OWNED BY failed; dropping the role anyway', { role: name, code: (err as { code?: unknown }).code }));
        try {
          await c.query(`DROP ROLE IF EXISTS ${ident}`);
        } catch (err) {
          if ((err as { code?: unknown }).code === '2BP01') {
            throw new DriverError(ID, `cannot drop role ${name}: it still owns objects or holds privileges in another database; run DROP OWNED BY ${ident} there and retry`, { retryable: false });
          }
          throw err;
        }
      });
      log.info('dropped role', { role: name });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Day-2 operations. They act in the resource's own database (`postgresName(uid)`), connected to it
// with the admin URL (only the database in the path changes), one table at a time so that progress
// is visible and a cancellation stops between tables. An abort also cancels the statement running
// on the server (pg_cancel_backend from a second admin connection): closing the socket alone would
// leave a REINDEX or a VACUUM waiting for a lock running there.
// ---------------------------------------------------------------------------------------------

function operationSecrets(req: OperationRequest<PostgresInputs>): (string | undefined)[] {
  return secretsOf(req.inputs, stateString(req.state, 'password'));
}

/** Cancels the statement of backend `pid` (best effort, never throws, never waits on the aborted signal). */
async function cancelBackend(adminUrl: string, pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000, application_name: 'pave-driver' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT pg_catalog.pg_cancel_backend($1)', [pid]);
  } catch {
    // The session ends anyway when its socket closes.
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Throws a non-retryable error when the resource's database does not exist (not provisioned, or deleted). */
async function requireDatabase(c: pg.Client, name: string, secrets: (string | undefined)[], signal: AbortSignal): Promise<void> {
  const db = await step(`looking up database ${name}`, secrets, signal, () => c.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [name]));
  if (db.rowCount === 0) throw new DriverError(ID, `database ${name} does not exist; provision the resource first`, { retryable: false });
}

/**
 * Connects to the resource's own database as the admin and runs `fn`; an abort cancels the running
 * statement on the server and closes the connection.
 */
async function withOwnDatabase<T>(req: OperationRequest<PostgresInputs>, fn: (c: pg.Client, name: string) => Promise<T>): Promise<T> {
  const { inputs, signal } = req;
  adminUrlOf(inputs);
  const name = postgresName(req.resource.uid);
  const secrets = operationSecrets(req);
  await withClient(inputs.adminUrl, signal, secrets, (c) => requireDatabase(c, name, secrets, signal));
  return withClient(databaseUrl(inputs.adminUrl, name), signal, secrets, async (c) => {
    const pid = (await c.query<{ pid: number }>('SELECT pg_catalog.pg_backend_pid() AS pid')).rows[0]?.pid;
    return whileAbortable(signal, () => void (pid === undefined ? undefined : cancelBackend(inputs.adminUrl, pid)), () => fn(c, name));
  });
}

interface TableRow {
  schema: string;
  table: string;
  indexes: number;
}

/** The application's tables and materialized views (not the system schemas, not other sessions' temporary tables). */
async function ownTables(c: pg.Client, secrets: (string | undefined)[], signal: AbortSignal): Promise<TableRow[]> {
  const r = await step('listing tables', secrets, signal, () =>
    c.query<TableRow>(
      `SELECT n.nspname AS schema, c.relname AS table, (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)::int AS indexes
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
        ORDER BY 1, 2`,
    ),
  );
  return r.rows;
}

const qualified = (t: { schema: string; table: string }) => `${pg.escapeIdentifier(t.schema)}.${pg.escapeIdentifier(t.table)}`;
const display = (t: { schema: string; table: string }) => `${t.schema}.${t.table}`;

/** The tables a `table` argument (`name` or `schema.name`) designates, or a non-retryable error listing what exists. */
function pickTable(operation: string, tables: TableRow[], arg: string, database: string): TableRow[] {
  const dot = arg.indexOf('.');
  const found = dot > 0 ? tables.filter((t) => t.schema === arg.slice(0, dot) && t.table === arg.slice(dot + 1)) : tables.filter((t) => t.table === arg);
  if (found.length === 1) return found;
  if (found.length > 1) throw badArgs(ID, operation, `table ${arg} exists in several schemas (${found.map(display).join(', ')}); name it as schema.table`);
  const known = tables.slice(0, 20).map(display).join(', ');
  throw badArgs(ID, operation, `no table ${arg} in database ${database}${tables.length > 0 ? `; its tables: ${known}${tables.length > 20 ? ', …' : ''}` : ' (it has no tables)'}`);
}

const reindexArgs = z.strictObject({
  schema: z.string().min(1).max(63).optional().describe('Only the tables of this schema (e.g. `public`); default every schema of the database.'),
  concurrently: z.boolean().default(false).describe('REINDEX CONCURRENTLY: slower, but does not block writes to each table while it runs.'),
});

const reindex = defineOperation<PostgresInputs, z.infer<typeof reindexArgs>>(ID, 'reindex', {
  title: 'Reindex',
  description:
    "Rebuilds the indexes of every table (or of one schema's tables) of the resource's own database, table by table: REINDEX TABLE, or REINDEX TABLE CONCURRENTLY. Each table's writes wait while its indexes rebuild unless concurrently is set (a concurrent rebuild that is cancelled may leave an invalid `*_ccnew` index to drop). System catalogs and other databases are not touched.",
  args: reindexArgs,
  secrets: operationSecrets,
  async run(req, { args, secrets, progress }) {
    const started = Date.now();
    return withOwnDatabase(req, async (c, name) => {
      let tables = await ownTables(c, secrets, req.signal);
      if (args.schema !== undefined) {
        const schemas = [...new Set(tables.map((t) => t.schema))];
        const exists = (await c.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [args.schema])).rowCount !== 0;
        if (!exists || /^(pg_|information_schema$)/.test(args.schema)) {
          throw badArgs(ID, 'reindex', `no schema ${args.schema} in database ${name}${schemas.length > 0 ? `; schemas with tables: ${schemas.join(', ')}` : ''}`);
        }
        tables = tables.filter((t) => t.schema === args.schema);
      }
      tables = tables.filter((t) => t.indexes > 0);
      req.output(`reindexing ${plural(tables.length, 'table')} with indexes in database ${name}${args.concurrently ? ' (concurrently)' : ''}`);
      let indexes = 0;
      let done = 0;
      for (const t of tables) {
        throwIfAborted(ID, req.signal);
        const t0 = Date.now();
        await step(`reindexing ${display(t)}`, secrets, req.signal, () => c.query(`REINDEX TABLE ${args.concurrently ? 'CONCURRENTLY ' : ''}${qualified(t)}`));
        done++;
        indexes += t.indexes;
        progress(`reindexing ${plural(done, 'table')} (${plural(indexes, 'index', 'indexes')})`);
        req.output(`reindexed ${display(t)}: ${plural(t.indexes, 'index', 'indexes')} in ${Date.now() - t0} ms`);
      }
      req.log.info('reindexed', { database: name, tables: done, indexes });
      return { summary: `reindexed ${plural(indexes, 'index', 'indexes')} of ${plural(done, 'table')} in database ${name}`, data: { database: name, tables: done, indexes, durationMs: Date.now() - started } };
    });
  },
});

const terminateArgs = z.strictObject({
  idleSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86400)
    .default(300)
    .describe('Terminate connections idle for longer than this many seconds.'),
  includeIdleInTransaction: z.boolean().default(false).describe('Also terminate connections idle inside an open transaction (it is rolled back).'),
});

interface IdleRow {
  pid: number;
  user: string | null;
  application: string | null;
  state: string;
  idle: number;
}

const terminateIdle = defineOperation<PostgresInputs, z.infer<typeof terminateArgs>>(ID, 'terminate-idle-connections', {
  title: 'Terminate idle connections',
  description:
    "Ends (pg_terminate_backend) the client connections to the resource's own database that have been idle longer than idleSeconds. Never touches other databases' connections, the admin role's sessions (Pave's own included), or connections that are running a query.",
  args: terminateArgs,
  secrets: operationSecrets,
  async run(req, { args, secrets, progress }) {
    const { inputs, signal } = req;
    adminUrlOf(inputs);
    const name = postgresName(req.resource.uid);
    const states = args.includeIdleInTransaction ? ['idle', 'idle in transaction', 'idle in transaction (aborted)'] : ['idle'];
    // The same conditions, checked again for each pid at the moment it is terminated: a connection
    // that ran a query since the listing is left alone.
    const where = `datname = $1 AND pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend'
      AND usename IS DISTINCT FROM current_user AND state = ANY($2::text[])
      AND state_change < pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => $3)`;
    return withClient(inputs.adminUrl, signal, secrets, async (c) => {
      await requireDatabase(c, name, secrets, signal);
      const found = await step(`listing idle connections to database ${name}`, secrets, signal, () =>
        c.query<IdleRow>(
          `SELECT pid, usename AS user, application_name AS application, state,
                  floor(extract(epoch FROM pg_catalog.clock_timestamp() - state_change))::int AS idle
             FROM pg_catalog.pg_stat_activity WHERE ${where} ORDER BY state_change`,
          [name, states, args.idleSeconds],
        ),
      );
      req.output(`${plural(found.rows.length, 'connection')} to database ${name} idle for more than ${args.idleSeconds} s`);
      const terminated: IdleRow[] = [];
      const failed: (IdleRow & { reason: string })[] = [];
      for (const row of found.rows) {
        throwIfAborted(ID, signal);
        try {
          const r = await c.query<{ ok: boolean }>(`SELECT pg_catalog.pg_terminate_backend(pid) AS ok FROM pg_catalog.pg_stat_activity WHERE pid = $4 AND ${where}`, [name, states, args.idleSeconds, row.pid]);
          if (r.rows[0]?.ok) {
            terminated.push(row);
            progress(`terminating ${plural(terminated.length, 'connection')}`);
            req.output(`terminated pid ${row.pid} (user ${row.user ?? '?'}, application ${row.application || '-'}, ${row.state} for ${row.idle} s)`);
          } else {
            req.output(`left pid ${row.pid}: no longer idle, or gone`);
          }
        } catch (err) {
          throwIfAborted(ID, signal);
          const reason = wrapError(ID, 'pg_terminate_backend', err, secrets).message;
          failed.push({ ...row, reason });
          req.output(`could not terminate pid ${row.pid}: ${reason}`);
        }
      }
      if (terminated.length > 0) req.log.info('terminated idle connections', { database: name, count: terminated.length });
      return {
        summary: `terminated ${plural(terminated.length, 'idle connection')} to database ${name}${failed.length > 0 ? `; ${failed.length} could not be terminated` : ''}`,
        data: { database: name, terminated: terminated.length, connections: terminated, failed },
      };
    });
  },
});

const vacuumArgs = z.strictObject({
  table: z.string().min(1).max(127).optional().describe('Only this table (`name` or `schema.name`); default every table of the database.'),
});

interface DeadRow {
  dead: string | null;
}

async function deadTuples(c: pg.Client, t: TableRow): Promise<number> {
  // A fresh statistics snapshot: each autocommit statement is its own transaction.
  const r = await c.query<DeadRow>('SELECT n_dead_tup::text AS dead FROM pg_catalog.pg_stat_all_tables WHERE relid = $1::regclass', [qualified(t)]);
  return Number(r.rows[0]?.dead ?? 0);
}

const vacuumAnalyze = defineOperation<PostgresInputs, z.infer<typeof vacuumArgs>>(ID, 'vacuum-analyze', {
  title: 'VACUUM ANALYZE',
  description:
    "Runs VACUUM (ANALYZE) on every table of the resource's own database, or on one table, table by table: reclaims dead tuples for reuse and refreshes the planner's statistics. Not VACUUM FULL: reads and writes go on while it runs.",
  args: vacuumArgs,
  secrets: operationSecrets,
  async run(req, { args, secrets, progress }) {
    const started = Date.now();
    return withOwnDatabase(req, async (c, name) => {
      const all = await ownTables(c, secrets, req.signal);
      const tables = args.table === undefined ? all : pickTable('vacuum-analyze', all, args.table, name);
      req.output(`VACUUM ANALYZE of ${plural(tables.length, 'table')} in database ${name}`);
      let before = 0;
      let after = 0;
      let done = 0;
      for (const t of tables) {
        throwIfAborted(ID, req.signal);
        const t0 = Date.now();
        const deadBefore = await deadTuples(c, t);
        await step(`VACUUM ANALYZE ${display(t)}`, secrets, req.signal, () => c.query(`VACUUM (ANALYZE) ${qualified(t)}`));
        const deadAfter = await deadTuples(c, t);
        before += deadBefore;
        after += deadAfter;
        done++;
        progress(`vacuuming ${plural(done, 'table')}`);
        req.output(`vacuumed ${display(t)}: ${deadBefore} dead tuples before, ${deadAfter} after (${Date.now() - t0} ms)`);
      }
      req.log.info('vacuumed', { database: name, tables: done });
      return {
        summary: `vacuumed and analyzed ${plural(done, 'table')} in database ${name}: ${before - after} dead tuples removed`,
        data: { database: name, tables: done, deadTuplesBefore: before, deadTuplesAfter: after, durationMs: Date.now() - started },
      };
    });
  },
});

const postgresOperations: Record<string, DriverOperation<PostgresInputs>> = {
  reindex,
  'terminate-idle-connections': terminateIdle,
  'vacuum-analyze': vacuumAnalyze,
};

export const postgresDriver: Driver<PostgresInputs> = {
  id: ID,
  description: 'A PostgreSQL database and a login role that owns it (Score postgres outputs)',
  inputs: postgresInputs,
  secretInputs: ['adminUrl'],
  provision,
  check,
  delete: remove,
  operations: postgresOperations,
};
