import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { driverCalls, driverConformance } from '../../../test/drivers/conformance.ts';
import { identity, num, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type ProvisionResult } from './driver.ts';
import { mysqlDriver, mysqlName, type MysqlInputs } from './mysql.ts';

const ADMIN_URL = process.env.PAVE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const admin = new URL(ADMIN_URL);
const skip = await serviceGate('mariadb', admin.hostname, Number(admin.port || 3306));
const inputs: MysqlInputs = { adminUrl: ADMIN_URL };

async function asAdmin<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ host: admin.hostname, port: Number(admin.port || 3306), user: decodeURIComponent(admin.username) || 'root', password: decodeURIComponent(admin.password) });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function adminRows(sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  return asAdmin(async (c) => (await c.query(sql, values))[0] as Record<string, unknown>[]);
}

/** Logs in over TCP (127.0.0.1) with the outputs; the database defaults to the app's own. */
function appConnection(o: Record<string, unknown>, database: string | undefined = str(o.database), password = str(o.password)): Promise<mysql.Connection> {
  return mysql.createConnection({ host: str(o.host), port: num(o.port), user: str(o.username), password, database, connectTimeout: 5000 });
}

async function canUseOwnDatabase(o: Record<string, unknown>): Promise<void> {
  const c = await appConnection(o);
  try {
    await c.query('CREATE TABLE IF NOT EXISTS conformance (id INT PRIMARY KEY, note VARCHAR(20))');
    await c.query(`INSERT IGNORE INTO conformance VALUES (1, 'ok')`);
    const [r] = await c.query('SELECT note FROM conformance WHERE id = 1');
    assert.deepEqual(r, [{ note: 'ok' }]);
  } finally {
    await c.end();
  }
}

driverConformance(mysqlDriver, {
  skip,
  inputs,
  outputs: ['host', 'port', 'name', 'database', 'username', 'password'],
  secretOutputs: ['password'],
  accessCheck: canUseOwnDatabase,
  inventory: async (r) => {
    const name = mysqlName(r.uid);
    const users = await adminRows(`SELECT CONCAT('user:', User, '@', Host) AS n FROM mysql.user WHERE User = ?`, [name]);
    const dbs = await adminRows(`SELECT CONCAT('database:', SCHEMA_NAME) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?`, [name]);
    return [...users, ...dbs].map((x) => String(x.n)).sort();
  },
});

function rejectsWith(code: string) {
  return (err: { code?: string }) => {
    assert.equal(err.code, code);
    return true;
  };
}

describe('mysql driver: least privilege and drift', { skip: skip ?? false, timeout: 30_000 }, () => {
  const a = driverCalls(mysqlDriver, identity('mysql', 'a'), { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(mysqlDriver, identity('mysql', 'b'), { inputs, dataDir: '/nonexistent' });
  let ra: ProvisionResult;
  let rb: ProvisionResult;
  let lookalike = '';

  before(async () => {
    [ra, rb] = await Promise.all([a.provision(null), b.provision(null)]);
  });
  after(async () => {
    await Promise.all([a.delete(ra?.state ?? null), b.delete(rb?.state ?? null)]);
    if (lookalike) await asAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(lookalike)}`));
  });

  test('names derive from the uid and fit in 32 characters', () => {
    const name = str(ra.outputs.name);
    assert.match(name, /^pv_[a-z0-9_]+_[0-9a-f]{8}$/);
    assert.ok(name.length <= 32);
    assert.equal(mysqlName('y'.repeat(300)).length, 32);
    assert.equal(ra.outputs.username, name);
    assert.equal(ra.outputs.database, name);
  });

  test('the user logs in over 127.0.0.1 with its password, and a wrong password is refused', async () => {
    await canUseOwnDatabase(ra.outputs);
    await assert.rejects(appConnection(ra.outputs, undefined, 'not-the-password'), rejectsWith('ER_ACCESS_DENIED_ERROR'));
  });

  test("the user cannot use another application's database", async () => {
    await assert.rejects(appConnection(ra.outputs, str(rb.outputs.database)), rejectsWith('ER_DBACCESS_DENIED_ERROR'));
    const c = await appConnection(ra.outputs);
    try {
      await assert.rejects(c.query(`SELECT * FROM ${mysql.escapeId(str(rb.outputs.database))}.conformance`), /denied/);
      await assert.rejects(c.query('CREATE DATABASE pv_should_not_exist'), rejectsWith('ER_DBACCESS_DENIED_ERROR'));
    } finally {
      await c.end();
    }
  });

  test("the grant's _ is not a wildcard: a look-alike database stays out of reach", async () => {
    const name = str(ra.outputs.name);
    lookalike = name.replace('_', 'x');
    await asAdmin((c) => c.query(`CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(lookalike)}`));
    await assert.rejects(appConnection(ra.outputs, lookalike), rejectsWith('ER_DBACCESS_DENIED_ERROR'));
    const grants = await adminRows(`SHOW GRANTS FOR ?@'%'`, [name]);
    const lines = grants.flatMap((g) => Object.values(g).map(String));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('GRANT USAGE ON *.*')));
    assert.ok(lines.some((l) => l.startsWith(`GRANT ALL PRIVILEGES ON \`${name.replace(/_/g, '\\_')}\`.*`)));
  });

  test('re-provision after a crash (user exists, no state) sets a new password; the old one stops working', async () => {
    const recovered = await a.provision(null);
    assert.notEqual(recovered.outputs.password, ra.outputs.password);
    await canUseOwnDatabase(recovered.outputs);
    await assert.rejects(appConnection(ra.outputs), rejectsWith('ER_ACCESS_DENIED_ERROR'));
    ra = recovered;
  });

  test('check reports a revoked grant and a changed password; provision converges both', async () => {
    const name = str(ra.outputs.name);
    await asAdmin(async (c) => {
      await c.query(`REVOKE ALL PRIVILEGES ON ${mysql.escapeId(name.replace(/_/g, '\\_'))}.* FROM ?@'%'`, [name]);
      await c.query(`ALTER USER ?@'%' IDENTIFIED BY 'someone-else'`, [name]);
    });
    const report = await a.check(ra.state, ra.outputs);
    assert.equal(report.status, 'changed');
    assert.deepEqual(report.status === 'changed' && report.differences.map((d) => d.field), ['grant', 'password']);
    await a.provision(ra.state);
    assert.deepEqual(await a.check(ra.state, ra.outputs), { status: 'in-sync' });
    await canUseOwnDatabase(ra.outputs);
  });

  test('an unreachable server is a DriverError without the admin password', async () => {
    const c = driverCalls(mysqlDriver, identity('mysql', 'unreachable'), { inputs: { adminUrl: 'mysql://root:Adm1n-S3cret@127.0.0.1:1' }, dataDir: '/nonexistent' });
    await assert.rejects(c.provision(null), (err: unknown) => {
      assert.ok(err instanceof DriverError);
      assert.match(err.message, /cannot connect to MariaDB at mysql:\/\/127\.0\.0\.1:1/);
      assert.ok(!err.message.includes('Adm1n-S3cret'));
      return true;
    });
  });
});
