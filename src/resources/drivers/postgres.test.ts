import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { driverCalls, driverConformance, twoTenants } from '../../../test/drivers/conformance.ts';
import { identity, num, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type ProvisionResult } from './driver.ts';
import { postgresDriver, postgresName, scramVerifier, type PostgresInputs } from './postgres.ts';

const ADMIN_URL = process.env.PAVE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new URL(ADMIN_URL);
const skip = await serviceGate('postgres', admin.hostname, Number(admin.port || 5432));
const inputs: PostgresInputs = { adminUrl: ADMIN_URL };

async function asAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function appClient(o: Record<string, unknown>, database = str(o.database)): pg.Client {
  return new pg.Client({ host: str(o.host), port: num(o.port), user: str(o.username), password: str(o.password), database, connectionTimeoutMillis: 5000 });
}

/** Connects with the outputs, creates a table in the app's database, writes and reads it. */
async function canUseOwnDatabase(o: Record<string, unknown>): Promise<void> {
  const c = appClient(o);
  await c.connect();
  try {
    await c.query('CREATE TABLE IF NOT EXISTS conformance (id int PRIMARY KEY, note text)');
    await c.query(`INSERT INTO conformance VALUES (1, 'ok') ON CONFLICT (id) DO NOTHING`);
    assert.equal((await c.query<{ note: string }>('SELECT note FROM conformance WHERE id = 1')).rows[0]?.note, 'ok');
  } finally {
    await c.end();
  }
}

/** The SCRAM verifier the server keeps for `role` matches `password` (the local server trusts 127.0.0.1, so logging in alone would not prove it). */
async function assertPasswordMatches(role: string, password: string): Promise<void> {
  const stored = await asAdmin(async (c) => (await c.query<{ p: string | null }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [role])).rows[0]?.p);
  assert.ok(stored, 'the role has a password');
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored);
  assert.ok(m, 'stored as a SCRAM-SHA-256 verifier');
  assert.equal(await scramVerifier(password, Number(m[1]), Buffer.from(m[2]!, 'base64')), stored);
}

driverConformance(postgresDriver, {
  skip,
  inputs,
  outputs: ['host', 'port', 'name', 'database', 'username', 'password'],
  secretOutputs: ['password'],
  accessCheck: async (o) => {
    await canUseOwnDatabase(o);
    await assertPasswordMatches(str(o.username), str(o.password));
  },
  inventory: (r) =>
    asAdmin(async (c) => {
      const name = postgresName(r.uid);
      const roles = await c.query<{ n: string }>(`SELECT 'role:' || rolname AS n FROM pg_roles WHERE rolname = $1`, [name]);
      const dbs = await c.query<{ n: string }>(`SELECT 'database:' || datname AS n FROM pg_database WHERE datname = $1`, [name]);
      return [...roles.rows, ...dbs.rows].map((x) => x.n).sort();
    }),
});

describe('postgres driver: least privilege and drift', { skip: skip ?? false, timeout: 30_000 }, () => {
  const t = twoTenants(postgresDriver, 'postgres', inputs);
  const { a, b } = t;

  test('names derive from the uid: lower case, ≤ 63 characters, output as name, database and username', () => {
    const name = str(t.ra.outputs.name);
    assert.match(name, /^pv_[a-z0-9_]+_[0-9a-f]{8}$/);
    assert.ok(name.length <= 63);
    assert.equal(t.ra.outputs.database, name);
    assert.equal(t.ra.outputs.username, name);
    assert.equal(postgresName('x'.repeat(200)).length, 63);
    assert.notEqual(postgresName('shop.dev.db'), postgresName('shop-dev-db'));
    assert.ok(str(t.ra.outputs.password).length >= 32, 'password from 24+ random bytes');
  });

  test("an application's credentials create tables in its database, and cannot connect to another application's database", async () => {
    await canUseOwnDatabase(t.ra.outputs);
    const c = appClient(t.ra.outputs, str(t.rb.outputs.database));
    await assert.rejects(c.connect(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, '42501');
      assert.match(err.message, /permission denied for database/);
      return true;
    });
  });

  test('PUBLIC has no CONNECT on the database and no CREATE on its public schema, which the role owns', async () => {
    const name = str(t.ra.outputs.name);
    const publicConnect = await asAdmin(async (c) => (await c.query<{ ok: boolean }>(`SELECT has_database_privilege('public', $1, 'CONNECT') AS ok`, [name])).rows[0]?.ok);
    assert.equal(publicConnect, false);
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    try {
      const r = await c.query<{ owner: string; create: boolean }>(
        `SELECT pg_get_userbyid(nspowner) AS owner, has_schema_privilege('public', 'public', 'CREATE') AS create FROM pg_namespace WHERE nspname = 'public'`,
      );
      assert.deepEqual(r.rows[0], { owner: name, create: false });
    } finally {
      await c.end();
    }
  });

  test('re-provision after a crash (role exists, no state) sets a new password that works', async () => {
    const recovered = await a.provision(null);
    assert.notEqual(recovered.outputs.password, t.ra.outputs.password);
    await assertPasswordMatches(str(recovered.outputs.username), str(recovered.outputs.password));
    t.ra = recovered;
  });

  test('check reports a changed owner, and provision converges it back', async () => {
    const name = str(t.ra.outputs.name);
    await asAdmin((c) => c.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} OWNER TO postgres`));
    const report = await a.check(t.ra.state, t.ra.outputs);
    assert.equal(report.status, 'changed');
    assert.ok(report.status === 'changed' && report.differences.some((d) => d.field === 'owner' && d.actual === 'postgres'));
    await a.provision(t.ra.state);
    assert.deepEqual(await a.check(t.ra.state, t.ra.outputs), { status: 'in-sync' });
  });

  test('host and port inputs are what applications get', async () => {
    const r = await a.provision(t.ra.state, { inputs: { ...inputs, host: 'db.internal', port: 6432 } });
    assert.equal(r.outputs.host, 'db.internal');
    assert.equal(r.outputs.port, 6432);
    assert.equal(t.ra.outputs.host, admin.hostname);
    assert.equal(t.ra.outputs.port, Number(admin.port || 5432));
  });

  test('an unreachable server is a retryable DriverError that names the server but never the password', async () => {
    const bad = 'postgres://postgres:S3cr3t-admin-pw@127.0.0.1:1/postgres';
    const c = driverCalls(postgresDriver, identity('postgres', 'unreachable'), { inputs: { adminUrl: bad }, dataDir: '/nonexistent' });
    await assert.rejects(c.provision(null), (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /cannot connect to PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/postgres/);
      assert.ok(!err.message.includes('S3cr3t-admin-pw'));
      assert.equal(err.retryable, true);
      return true;
    });
  });

  test('a cancelled request does not run', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(a.provision(t.ra.state, { signal: ac.signal }), /cancelled/);
  });
});
