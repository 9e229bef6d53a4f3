import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { driverCalls } from '../../../test/drivers/conformance.ts';
import { assertNoSecrets, assertOperationShapes, identity, num, runOperation, serviceGate, str } from '../../../test/drivers/support.ts';
import { DriverError, type Driver, type ProvisionResult } from './driver.ts';
import { mysqlDriver, type MysqlInputs } from './mysql.ts';

const ADMIN_URL = process.env.PAVE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const admin = new URL(ADMIN_URL);
const skip = await serviceGate('mariadb', admin.hostname, Number(admin.port || 3306));
const inputs: MysqlInputs = { adminUrl: ADMIN_URL };

function adminConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: admin.hostname, port: Number(admin.port || 3306), user: decodeURIComponent(admin.username) || 'root', password: decodeURIComponent(admin.password) });
}

async function adminRows(sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = await adminConnection();
  try {
    return (await c.query(sql, values))[0] as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

/** InnoDB table ids of a database: OPTIMIZE recreates an InnoDB table, which gives it a new id. */
async function innodbIds(db: string): Promise<Record<string, string>> {
  const r = await adminRows(`SELECT NAME AS n, TABLE_ID AS id FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE ? ORDER BY NAME`, [`${db}/%`]);
  return Object.fromEntries(r.map((x) => [String(x.n), String(x.id)]));
}

async function dataFree(db: string, table: string): Promise<number> {
  const r = await adminRows('SELECT DATA_FREE AS f FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  return Number(r[0]?.f);
}

async function count(db: string, table: string): Promise<number> {
  return Number((await adminRows(`SELECT COUNT(*) AS n FROM ${mysql.escapeId(db)}.${mysql.escapeId(table)}`))[0]?.n);
}

test('mysql operations: optimize-tables, with a JSON Schema Pave can compile', async () => {
  await assertOperationShapes(mysqlDriver as unknown as Driver<never>, ['optimize-tables']);
});

describe('mysql operations against a real MariaDB', { skip: skip ?? false, timeout: 60_000 }, () => {
  const ida = identity('mysql', 'op-a');
  const a = driverCalls(mysqlDriver, ida, { inputs, dataDir: '/nonexistent' });
  const b = driverCalls(mysqlDriver, identity('mysql', 'op-b'), { inputs, dataDir: '/nonexistent' });
  let ra: ProvisionResult;
  let rb: ProvisionResult;
  let dba = '';
  let dbb = '';

  const run = (args: Record<string, unknown> = {}, extra: { signal?: AbortSignal } = {}) =>
    runOperation(mysqlDriver, 'optimize-tables', { resource: ida, inputs, state: ra.state, outputs: ra.outputs, args, ...extra });

  before(async () => {
    [ra, rb] = await Promise.all([a.provision(null), b.provision(null)]);
    dba = str(ra.outputs.database);
    dbb = str(rb.outputs.database);
    // The same tables in both, as the application: two InnoDB, one MyISAM whose deleted rows leave
    // DATA_FREE that only OPTIMIZE returns.
    for (const o of [ra.outputs, rb.outputs]) {
      const c = await mysql.createConnection({ host: str(o.host), port: num(o.port), user: str(o.username), password: str(o.password), database: str(o.database) });
      try {
        await c.query('CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(200), KEY (note)) ENGINE=InnoDB');
        await c.query('CREATE TABLE customers (id INT PRIMARY KEY) ENGINE=InnoDB');
        await c.query('CREATE TABLE logbook (id INT PRIMARY KEY, line VARCHAR(200)) ENGINE=MyISAM');
        const values = Array.from({ length: 500 }, (_, i) => [i, `line ${i} ${'x'.repeat(100)}`]);
        await c.query('INSERT INTO orders VALUES ?', [values]);
        await c.query('INSERT INTO logbook VALUES ?', [values]);
        await c.query('INSERT INTO customers VALUES (1), (2), (3)');
        await c.query('DELETE FROM logbook WHERE id % 2 = 0');
        await c.query('DELETE FROM orders WHERE id % 2 = 0');
      } finally {
        await c.end();
      }
    }
  });
  after(async () => {
    await Promise.all([a.delete(ra?.state ?? null), b.delete(rb?.state ?? null)]);
  });

  test("optimize-tables optimizes every table of A's database and none of B's", async () => {
    const [a0, b0] = [await innodbIds(dba), await innodbIds(dbb)];
    assert.equal(Object.keys(a0).length, 2);
    assert.ok((await dataFree(dba, 'logbook')) > 0);
    const bFree = await dataFree(dbb, 'logbook');
    assert.ok(bFree > 0);

    const r = await run();
    assert.equal(r.result.data?.tables, 3);
    assert.equal(r.result.data?.failed, 0);
    assert.match(r.result.summary, /^optimized 3 tables in database pv_/);
    assert.ok(num(r.result.data?.dataFreeBefore) > 0);
    assert.deepEqual(
      (r.result.data?.results as { table: string; status: string }[]).map((x) => [x.table, x.status]),
      [['customers', 'OK'], ['logbook', 'OK'], ['orders', 'OK']],
    );
    const a1 = await innodbIds(dba);
    for (const k of Object.keys(a0)) assert.notEqual(a1[k], a0[k], `${k} recreated`);
    assert.equal(await dataFree(dba, 'logbook'), 0, 'MyISAM free space returned');
    assert.deepEqual(await innodbIds(dbb), b0, "B's tables not recreated");
    assert.equal(await dataFree(dbb, 'logbook'), bFree, "B's free space still there");
    for (const db of [dba, dbb]) {
      assert.equal(await count(db, 'orders'), 250);
      assert.equal(await count(db, 'logbook'), 250);
    }
    assertNoSecrets(r, [str(ra.outputs.password), str(rb.outputs.password)]);

    const one = await run({ table: 'customers' });
    assert.equal(one.result.data?.tables, 1);
    const a2 = await innodbIds(dba);
    assert.equal(a2[`${dba}/orders`], a1[`${dba}/orders`]);
    assert.notEqual(a2[`${dba}/customers`], a1[`${dba}/customers`]);
  });

  test('bad arguments: a table of another database, an unknown table, a wrong type', async () => {
    for (const [args, pattern] of [
      [{ table: `${dbb}.orders` }, /no table pv_\w+\.orders in database pv_\w+; its tables: customers, logbook, orders/],
      [{ table: 'user' }, /no table user in database/],
      [{ table: 3 }, /table/],
      [{ tables: ['orders'] }, /Unrecognized key/],
    ] as const) {
      await assert.rejects(run(args), (err: unknown) => {
        assert.ok(err instanceof DriverError, String(err));
        assert.match(err.message, pattern);
        assert.equal(err.retryable, false);
        return true;
      });
    }
  });

  test('an abort kills an OPTIMIZE that waits for a lock, on the server too', async () => {
    const locker = await adminConnection();
    try {
      await locker.query(`LOCK TABLES ${mysql.escapeId(dba)}.orders WRITE`);
      const ac = new AbortController();
      const running = run({ table: 'orders' }, { signal: ac.signal });
      const optimizing = async () => (await adminRows(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB IS NULL AND INFO LIKE 'OPTIMIZE TABLE%' AND INFO LIKE ?`, [`%${dba}%`])).length;
      for (let i = 0; (await optimizing()) === 0; i++) {
        assert.ok(i < 100, 'the OPTIMIZE waits for the lock');
        await sleep(30);
      }
      ac.abort();
      await assert.rejects(running, (err: unknown) => {
        assert.ok(err instanceof DriverError);
        assert.match(err.message, /^optimize-tables was cancelled/);
        assert.equal(err.retryable, false);
        return true;
      });
      // KILL QUERY ends it at once; a closed socket alone would leave it there about a second longer.
      const killedBy = Date.now() + 500;
      while ((await optimizing()) > 0) {
        assert.ok(Date.now() < killedBy, 'the OPTIMIZE is gone from the server');
        await sleep(20);
      }
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
    assert.equal(await count(dba, 'orders'), 250);
  });
});
