import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { DriverError, type CheckRequest, type DeleteRequest, type DriftReport, type Driver, type ProvisionRequest, type ProvisionResult } from './driver.ts';
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

export const postgresDriver: Driver<PostgresInputs> = {
  id: ID,
  description: 'A PostgreSQL database and a login role that owns it (Score postgres outputs)',
  inputs: postgresInputs,
  secretInputs: ['adminUrl'],
  provision,
  check,
  delete: remove,
};
