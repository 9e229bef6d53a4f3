import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import type { ApplyResultView, GoldenPath, PlanView, Resource } from '../../src/contracts/golden.ts';
import { LOCAL_SERVICE_SECRETS } from '../../src/services.ts';
import { LOCAL_PG_URL } from '../support/postgres.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// The resource lifecycle through the API, against this machine's real PostgreSQL and Redis.
let s: TestServer;
const json = async <T>(res: Response, status = 200): Promise<T> => {
  const body = await res.text();
  assert.equal(res.status, status, body);
  return (body ? JSON.parse(body) : undefined) as T;
};
const base = (app: string, env = 'development') => `/api/v1/applications/${app}/environments/${env}`;
const apply = (app: string, env?: string) => s.api(`${base(app, env)}/apply`, { method: 'POST' }).then((r) => json<ApplyResultView>(r));
const resources = async (app: string, env?: string, reveal = false) => (await json<{ items: Resource[] }>(await s.api(`${base(app, env)}/resources${reveal ? '?reveal=true' : ''}`))).items;
const setSecret = (name: string, value: string) => s.api(`/api/v1/platform/secrets/${name}`, { method: 'PUT', json: { value } }).then((r) => assert.equal(r.status, 204));

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: LOCAL_PG_URL });
  await c.connect();
  try {
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

before(async () => {
  s = await startTestServer();
  await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'payments' } }), 201);
});
after(async () => {
  await setSecret('local-postgres-admin', LOCAL_SERVICE_SECRETS['local-postgres-admin']!);
  for (const app of ['shop', 'waits', 'keeps']) await s.api(`/api/v1/applications/${app}`, { method: 'DELETE' });
  await s.close();
});

describe('an application made from a template, with add-ons', () => {
  let dbName = '';

  test('is created with its inputs and add-ons, and planned before anything is provisioned', async () => {
    await json(await s.api('/api/v1/applications', { method: 'POST', json: { name: 'shop', owner: 'payments', template: 'node-service', inputs: { size: 'medium' }, addons: [{ addon: 'postgres', name: 'db' }] } }), 201);
    const gp = await json<GoldenPath>(await s.api('/api/v1/applications/shop/golden-path'));
    assert.deepEqual(gp.template, { name: 'node-service', version: '1.0.0' });
    assert.equal(gp.inputs.size, 'medium');
    assert.equal(gp.inputs.port, 8080, 'defaults applied');
    assert.deepEqual(gp.addons.map((a) => [a.name, a.addon]), [['db', 'postgres']]);
    assert.deepEqual(gp.environments.map((e) => [e.name, e.type]), [['development', 'development']]);
    const plan = await json<PlanView>(await s.api(`${base('shop')}/plan`, { method: 'POST' }));
    assert.deepEqual(plan.items.map((i) => [i.resource, i.type, i.action, i.definition, i.driver]), [['db', 'postgres', 'create', 'local-postgres', 'postgres']]);
    assert.deepEqual(await resources('shop'), [], 'a plan changes nothing');
  });

  test('apply provisions a real database whose credentials are masked in the API and sealed at rest', async () => {
    const res = await apply('shop');
    assert.equal(res.ok, true, JSON.stringify(res.failed));
    assert.deepEqual(res.events.map((e) => [e.resource, e.phase]), [['db', 'provisioning'], ['db', 'ready']]);
    const [db] = await resources('shop');
    assert.equal(db!.status, 'ready');
    assert.equal(db!.outputs.password, '********');
    assert.deepEqual(db!.secretOutputs, ['password']);
    assert.deepEqual(Object.keys(db!.outputs).sort(), ['database', 'host', 'name', 'password', 'port', 'username']);
    dbName = String(db!.outputs.database);
    assert.ok(await databaseExists(dbName));
    const [revealed] = await resources('shop', 'development', true);
    const password = String(revealed!.outputs.password);
    assert.ok(password.length >= 24);
    const row = await s.store.db.selectFrom('resources').select(['secret_outputs', 'state', 'outputs']).where('name', '=', 'db').executeTakeFirstOrThrow();
    for (const column of [row.secret_outputs!, row.state!]) assert.ok(!column.toString('latin1').includes(password), 'no plaintext password in the store');
    assert.ok(!JSON.stringify(row.outputs).includes(password));
  });

  test('outputs are wired into the workload as environment variables; the DATABASE_URL really connects', async () => {
    const masked = await json<{ containers: Record<string, Record<string, string>>; secretVariables: { container: string; name: string }[] }>(await s.api('/api/v1/applications/shop/environments/development/variables'));
    const web = masked.containers.web!;
    assert.equal(web.PORT, '8080');
    assert.equal(web.DATABASE_URL, '********');
    assert.ok(masked.secretVariables.some((v) => v.container === 'web' && v.name === 'DATABASE_URL'));
    assert.ok(!masked.secretVariables.some((v) => v.name === 'PGHOST'), 'non-secret outputs are not secret');
    const revealed = await json<{ containers: Record<string, Record<string, string>> }>(await s.api('/api/v1/applications/shop/environments/development/variables?reveal=true'));
    const url = revealed.containers.web!.DATABASE_URL!;
    assert.match(url, new RegExp(`/${dbName}$`));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE TABLE orders (id int primary key)');
    assert.equal((await c.query('SELECT current_user AS u')).rows[0].u, new URL(url).username);
    await c.end();
  });

  test('applying again creates nothing and calls no driver', async () => {
    const before_ = await s.store.db.selectFrom('resources').select(['attempts', 'updated_at']).where('name', '=', 'db').executeTakeFirstOrThrow();
    const res = await apply('shop');
    assert.deepEqual(res.events.map((e) => [e.resource, e.phase]), [['db', 'unchanged']]);
    const after_ = await s.store.db.selectFrom('resources').select(['attempts', 'updated_at']).where('name', '=', 'db').executeTakeFirstOrThrow();
    assert.deepEqual(after_, before_);
  });

  test('an attached add-on is planned as a create and provisioned; a detached one is deleted for real', async () => {
    await json(await s.api('/api/v1/applications/shop/addons', { method: 'POST', json: { addon: 'redis', name: 'cache' } }), 201);
    const plan = await json<PlanView>(await s.api(`${base('shop')}/plan`, { method: 'POST' }));
    assert.deepEqual(plan.items.map((i) => [i.resource, i.action]), [['cache', 'create'], ['db', 'noop']]);
    assert.equal((await apply('shop')).ok, true);
    assert.deepEqual((await resources('shop')).map((r) => [r.name, r.type, r.status]), [['cache', 'redis', 'ready'], ['db', 'postgres', 'ready']]);
    await json(await s.api('/api/v1/applications/shop/addons/cache', { method: 'DELETE' }));
    const plan2 = await json<PlanView>(await s.api(`${base('shop')}/plan`, { method: 'POST' }));
    assert.deepEqual(plan2.items.map((i) => [i.resource, i.action]), [['db', 'noop'], ['cache', 'delete']]);
    const res = await apply('shop');
    assert.deepEqual(res.events.filter((e) => e.resource === 'cache').map((e) => e.phase), ['deleting', 'deleted']);
    assert.deepEqual((await resources('shop')).map((r) => r.name), ['db']);
  });

  test('drift: a database dropped behind Pave\'s back is reported missing, and apply recreates it', async () => {
    const inSync = await json<{ items: { resource: string; status: string }[] }>(await s.api('/api/v1/resources/drift?application=shop'));
    assert.deepEqual(inSync.items.map((i) => [i.resource, i.status]), [['db', 'in-sync']]);
    const c = new pg.Client({ connectionString: LOCAL_PG_URL });
    await c.connect();
    await c.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
    await c.end();
    const drift = await json<{ items: { resource: string; status: string; detail: string | null }[] }>(await s.api('/api/v1/resources/drift?application=shop'));
    assert.deepEqual(drift.items.map((i) => [i.resource, i.status]), [['db', 'missing']]);
    const plain = await apply('shop');
    assert.deepEqual(plain.events.map((e) => e.phase), ['unchanged'], 'a plain apply trusts what it recorded');
    assert.equal(await databaseExists(dbName), false);
    const refreshed = await json<ApplyResultView>(await s.api(`${base('shop')}/apply?refresh=true`, { method: 'POST' }));
    assert.deepEqual(refreshed.events.map((e) => [e.resource, e.phase]), [['db', 'provisioning'], ['db', 'ready']]);
    assert.ok(await databaseExists(dbName), 'refresh re-provisioned the drifted database under the same name');
  });

  test('deleting the application deletes its resources first, and leaves no database behind', async () => {
    assert.equal((await s.api('/api/v1/applications/shop', { method: 'DELETE' })).status, 204);
    assert.equal(await databaseExists(dbName), false);
    assert.equal((await s.api('/api/v1/applications/shop')).status, 404);
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resources`.execute(s.store.db);
    assert.equal(left.rows[0]!.n, 0);
  });
});

describe('failures', () => {
  test('a failed resource shows the driver\'s error, its dependents wait, and a retry converges', async () => {
    const workload = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'waits' },
      containers: { web: { image: '.', variables: { DB: '${resources.db.host}' } } },
      resources: { db: { type: 'postgres' }, port: { type: 'service-port', params: { port: 5432, host: '${resources.db.host}' } } },
    };
    await json(await s.api('/api/v1/applications', { method: 'POST', json: { name: 'waits', owner: 'payments', template: 'node-service', workload } }), 201);
    await setSecret('local-postgres-admin', 'postgres://postgres@127.0.0.1:1/postgres');
    const failed = await apply('waits');
    assert.equal(failed.ok, false);
    assert.deepEqual(failed.failed.map((f) => f.resource).sort(), ['db']);
    const byName = new Map((await resources('waits')).map((r) => [r.name, r]));
    assert.equal(byName.get('db')!.status, 'failed');
    assert.match(byName.get('db')!.error!, /127\.0\.0\.1:1|ECONNREFUSED|connect/i);
    assert.doesNotMatch(byName.get('db')!.error!, /postgres:\/\/postgres@/, 'no admin URL in the error');
    assert.equal(byName.get('port')!.status, 'pending');
    assert.equal(byName.get('port')!.error, 'waiting for db, which failed');

    await setSecret('local-postgres-admin', LOCAL_SERVICE_SECRETS['local-postgres-admin']!);
    const plan = await json<PlanView>(await s.api(`${base('waits')}/plan`, { method: 'POST' }));
    assert.deepEqual(plan.items.map((i) => [i.resource, i.action]), [['db', 'retry'], ['port', 'retry']]);
    const retried = await apply('waits');
    assert.equal(retried.ok, true, JSON.stringify(retried.failed));
    const after_ = new Map((await resources('waits')).map((r) => [r.name, r]));
    assert.equal(after_.get('db')!.status, 'ready');
    assert.equal(after_.get('db')!.error, null);
    assert.equal(after_.get('port')!.outputs.host, '127.0.0.1', 'params resolved from the dependency\'s outputs');
    assert.equal(after_.get('port')!.outputs.port, 5432);
  });

  test('a delete that fails keeps the application and the resource with its error; no orphan', async () => {
    await json(await s.api('/api/v1/applications', { method: 'POST', json: { name: 'keeps', owner: 'payments', template: 'node-service', addons: [{ addon: 'postgres', name: 'db' }] } }), 201);
    assert.equal((await apply('keeps')).ok, true);
    const [db] = await resources('keeps');
    await setSecret('local-postgres-admin', 'postgres://postgres@127.0.0.1:1/postgres');
    const refused = await s.api('/api/v1/applications/keeps', { method: 'DELETE' });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { detail: string }).detail, /development\/db: delete failed/);
    assert.equal((await s.api('/api/v1/applications/keeps')).status, 200, 'the application is still there');
    const [kept] = await resources('keeps');
    assert.equal(kept!.status, 'failed');
    assert.match(kept!.error!, /^delete failed/);
    assert.ok(await databaseExists(String(db!.outputs.database)), 'the database was not forgotten');
    await setSecret('local-postgres-admin', LOCAL_SERVICE_SECRETS['local-postgres-admin']!);
    assert.equal((await s.api('/api/v1/applications/keeps', { method: 'DELETE' })).status, 204);
    assert.equal(await databaseExists(String(db!.outputs.database)), false);
  });
});
