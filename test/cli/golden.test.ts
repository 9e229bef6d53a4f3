import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Entity } from '../../src/contracts/catalog.ts';
import type { Resource } from '../../src/contracts/golden.ts';
import { LOCAL_SERVICE_SECRETS } from '../../src/services.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, type Cli } from './helpers.ts';

/**
 * The golden-path commands, spawned for real against a real server with the sample platform and this
 * machine's real services: init, create from a source folder, add-ons, plan, apply with progress,
 * drift, environments. Every application made here is deleted at the end, with its databases and users.
 */

const PG_ADMIN = LOCAL_SERVICE_SECRETS['local-postgres-admin']!;
const REDIS_ADMIN = LOCAL_SERVICE_SECRETS['local-redis-admin']!;

async function pgQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
const databaseExists = async (name: string) => (await pgQuery('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [name])).length > 0;

describe('pave golden paths', { concurrency: false }, () => {
  let server: TestServer;
  let cli: Cli;
  let work: string;
  const suffix = randomBytes(3).toString('hex');
  const app = `shop-${suffix}`; // the source folder's name, so also the application's
  const team = 'shop-team';
  let folder: string;
  const created = new Set<string>();

  const resources = async (env: string) => {
    const res = await server.api(`/api/v1/applications/${app}/environments/${env}/resources?reveal=true`);
    return { status: res.status, items: res.ok ? ((await res.json()) as { items: Resource[] }).items : [] };
  };

  before(async () => {
    server = await startTestServer();
    cli = cliSandbox();
    work = mkdtempSync(path.join(os.tmpdir(), 'pave-golden-'));
    folder = path.join(work, app);
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0' }));
    execFileSync('git', ['init', '-q'], { cwd: folder });
    execFileSync('git', ['remote', 'add', 'origin', 'git@github.com:acme/shop.git'], { cwd: folder });
  });

  after(async () => {
    try {
      for (const name of created) {
        const res = await server.api(`/api/v1/applications/${name}`, { method: 'DELETE' });
        assert.ok(res.status === 204 || res.status === 404, `deleting ${name}: ${res.status} ${await res.text()}`);
      }
    } finally {
      cli.cleanup();
      rmSync(work, { recursive: true, force: true });
      await server.close();
    }
  });

  test('init signs in; without a team it says how to join or create one; with one it shows the profile', async () => {
    let r = await cli.run(['init', '--url', server.url, '--token', server.token, '--context', 'local']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Signed in to .* as user:default\/admin .*context "local" is now current/);
    assert.match(r.stdout, /Teams:\s+\(none\)/);
    assert.match(r.stdout, /not a member of any team/);
    assert.match(r.stdout, /pave teams create my-team --member admin/);
    assert.ok(!r.stdout.includes(server.token));

    const res = await server.api('/api/v1/teams', { method: 'POST', json: { name: team, members: ['admin'] } });
    assert.equal(res.status, 201);
    r = await cli.run(['init']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Teams:\s+shop-team/);
    assert.match(r.stdout, /Team shop-team \(profile default@r1\)/);
    assert.match(r.stdout, /Default template: node-service/);
    assert.match(r.stdout, /ENVIRONMENT TYPE\s+RUNTIME\s+REPLICAS\s+CPU\s+MEMORY\s+HEALTH PATH/);
    assert.match(r.stdout, /development\s+local\s+1\s+500m\s+256Mi\s+\/healthz/);
    assert.match(r.stdout, /production\s+local\s+2\s+1\s+512Mi\s+\/healthz/);
    assert.match(r.stdout, /run "pave create"/);
  });

  test('platform sync, status and templates show', async () => {
    let r = await cli.run(['platform', 'sync']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Synced .*platform: \d+ loaded, 0 published, \d+ unchanged, 0 retired, 0 rejected/);

    r = await cli.run(['platform', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Source:\s+.*platform/);
    assert.match(r.stdout, /Errors:\s+0/);

    r = await cli.run(['platform', 'templates', 'show', 'node-service', '--version', '1.0.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Version:\s+1\.0\.0/);
    assert.match(r.stdout, /NAME\s+TYPE\s+DEFAULT\s+ALLOWED\s+EDITABLE\s+DESCRIPTION/);
    assert.match(r.stdout, /port\s+integer\s+8080\s+1024\.\.65535\s+yes/);
    assert.match(r.stdout, /size\s+string\s+small\s+small\|medium\|large\s+yes\s+How much CPU/);
    assert.match(r.stdout, /nodeVersion\s+string\s+24\s+22\|24\s+no/);
    assert.match(r.stdout, /^# Node\.js service$/m, 'then the readme');
  });

  test('platform sync reports each rejected file as file:line: path: message and exits 1', async () => {
    const dir = path.join(work, 'platform');
    mkdirSync(dir);
    const type = (name: string, extra = '') => `apiVersion: pave.dev/v1\nkind: ResourceType\nmetadata:\n  name: ${name}\nspec:\n  outputs:\n    host: { type: string }\n${extra}`;
    writeFileSync(path.join(dir, 'types.yaml'), `${type('thing')}---\n${type('other', '  colour: blue\n')}`);
    const other = await startTestServer({ platform: dir });
    try {
      const r = await cli.run(['platform', 'sync'], { env: { PAVE_URL: other.url, PAVE_TOKEN: other.token } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /1 loaded, 0 published, 1 unchanged, 0 retired, 1 rejected/);
      assert.match(r.stdout, /^ {2}types\.yaml:16: spec\.colour: unknown field "colour"$/m);
    } finally {
      await other.close();
    }
  });

  test('platform secrets: set from stdin, list names only', async () => {
    const value = `hunter2-${suffix}`;
    let r = await cli.run(['platform', 'secrets', 'set', 'cli-test-secret'], { input: `${value}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Set platform secret cli-test-secret/);
    r = await cli.run(['platform', 'secrets', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^cli-test-secret\s+\S+\s+user:default\/admin$/m);
    assert.match(r.stdout, /^local-postgres-admin\s/m);
    assert.ok(!r.stdout.includes(value) && !r.stdout.includes(PG_ADMIN), 'values are never printed');
  });

  test('create: a bad input exits 1 with the field path and the allowed values; nothing is registered', async () => {
    const r = await cli.run(['create', '--size', 'huge'], { cwd: folder });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: invalid inputs/m);
    assert.match(r.stderr, /^ {2}body\.inputs\.size: must be one of small, medium, large$/m);
    assert.equal((await server.api(`/api/v1/applications/${app}`)).status, 404);
  });

  test('create in a source folder: detects the stack and repository, registers the app and provisions development', async () => {
    created.add(app);
    const r = await cli.run(['create', '--addon', 'postgres:db', '--memory', '1Gi'], { cwd: folder });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Detected node \(package\.json\)/);
    assert.match(r.stderr, /Repository: https:\/\/github\.com\/acme\/shop \(git remote origin\)/);
    assert.doesNotMatch(r.stderr, /--memory is not recorded/, 'the template declares a memory input');
    assert.match(r.stderr, new RegExp(`Registered application:default/${app} from node-service 1\\.0\\.0, owned by shop-team`));
    assert.match(r.stderr, /^ {2}db \(postgres\) provisioning…/m, 'live progress, one line per event');
    assert.match(r.stderr, /^ {2}db \(postgres\) ready in \d/m);
    assert.match(r.stdout, new RegExp(`^Created ${app} \\(node-service 1\\.0\\.0, team shop-team\\)`));
    assert.match(r.stdout, /^db\s+postgres\s+small\s+ready\s+local-postgres r1\s+host=127\.0\.0\.1, .*password=\*{8}$/m);

    const entity = (await (await server.api(`/api/v1/applications/${app}`)).json()) as Entity;
    assert.deepEqual(entity.links, [{ url: 'https://github.com/acme/shop', title: 'Repository' }]);
    const golden = (await (await server.api(`/api/v1/applications/${app}/golden-path`)).json()) as { inputs: Record<string, unknown>; workload: { containers: Record<string, { resources?: { limits?: { memory?: string } } }> } };
    assert.equal(golden.inputs.memory, '1Gi');
    assert.equal(golden.workload.containers.web!.resources?.limits?.memory, '1Gi', '--memory became the container memory limit');
    assert.equal(entity.owner, 'team:default/shop-team');
    const { items } = await resources('development');
    assert.deepEqual(items.map((x) => [x.name, x.type, x.status]), [['db', 'postgres', 'ready']]);
    const password = String(items[0]!.outputs.password);
    assert.ok(password.length >= 16 && !r.stdout.includes(password) && !r.stderr.includes(password), 'the password is masked');
    assert.ok(await databaseExists(String(items[0]!.outputs.database)), 'the database really exists');
  });

  test('apps addons add, then plan shows the creation and apply streams it', async () => {
    let r = await cli.run(['apps', 'addons', 'add', app, 'redis']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Attached redis \(redis 1\.0\.0\) to /);

    r = await cli.run(['resources', 'plan', app, '--env', 'development']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\+ create redis \(redis, small\) via local-redis r1$/m);
    assert.match(r.stdout, /^ {2}db \(postgres, small\): no change$/m);
    assert.match(r.stdout, /1 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged/);

    r = await cli.run(['resources', 'apply', app, '--env', 'development']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^ {2}db \(postgres\) unchanged$/m);
    assert.match(r.stderr, /^ {2}redis \(redis\) provisioning… \(redis via local-redis r1\)$/m);
    assert.match(r.stderr, /^ {2}redis \(redis\) ready in \d/m);
    assert.match(r.stdout, /^Applied development of .*: 1 unchanged, 1 ready\./);
    assert.match(r.stdout, /^redis\s+redis\s+small\s+ready\s.*password=\*{8}/m);
  });

  test('resources check reports in-sync (exit 0), and a database dropped behind Pave\'s back as missing (exit 2)', async () => {
    let r = await cli.run(['resources', 'check', '--app', app]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /All 2 resources are in sync\./);

    const db = (await resources('development')).items.find((x) => x.name === 'db')!;
    await pgQuery(`DROP DATABASE ${pg.escapeIdentifier(String(db.outputs.database))} WITH (FORCE)`);
    r = await cli.run(['resources', 'check', '--app', app, '--env', 'development']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, new RegExp(`^${app}\\s+development\\s+db\\s+postgres\\s+missing\\s`, 'm'));
    assert.match(r.stdout, /1 of 2 resources are not in sync\./);

    r = await cli.run(['resources', 'apply', app, '--env', 'development', '--refresh']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /db \(postgres\) provisioning/);
    r = await cli.run(['resources', 'check', '--app', app]);
    assert.equal(r.code, 0, 'the refresh re-provisioned the dropped database');
  });

  test('resources vars: the wired environment variables, secrets masked', async () => {
    const r = await cli.run(['resources', 'vars', app, '--env', 'development', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const vars = JSON.parse(r.stdout) as { containers: Record<string, Record<string, string>> };
    const web = Object.values(vars.containers)[0]!;
    assert.equal(web.DATABASE_URL, '********');
    assert.equal(web.PGHOST, '127.0.0.1');
  });

  test('envs: create and apply a preview; a failed delete exits 1 with the failures; then delete removes everything', async () => {
    let r = await cli.run(['envs', 'create', app, 'preview', '--type', 'preview', '--ttl-hours', '2', '--apply']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Created environment preview \(preview, expires /);
    assert.match(r.stdout, /^db\s+postgres\s+small\s+ready/m);
    const before = (await resources('preview')).items;
    assert.deepEqual(before.map((x) => [x.name, x.status]).sort(), [['db', 'ready'], ['redis', 'ready']]);
    const database = String(before.find((x) => x.name === 'db')!.outputs.database);
    assert.ok(await databaseExists(database));

    // Redis unreachable: the redis resource cannot be deleted, so the environment stays.
    const setRedis = (value: string) => server.api('/api/v1/platform/secrets/local-redis-admin', { method: 'PUT', json: { value } });
    assert.equal((await setRedis('redis://127.0.0.1:1')).status, 204);
    try {
      r = await cli.run(['envs', 'delete', app, 'preview', '--yes']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^error: environment preview of .* was not deleted: 1 resource\(s\) could not be deleted$/m);
      assert.match(r.stderr, /^ {2}redis \(redis\): .*127\.0\.0\.1:1/m);
    } finally {
      assert.equal((await setRedis(REDIS_ADMIN)).status, 204);
    }

    r = await cli.run(['envs', 'delete', app, 'preview', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^ {2}redis \(redis\) deleted/m);
    assert.match(r.stdout, /^Deleted environment preview of .* \(1 deleted\)\.$/m);
    assert.equal((await resources('preview')).status, 404, 'the environment is gone');
    const envs = (await (await server.api(`/api/v1/applications/${app}/environments`)).json()) as { items: { name: string }[] };
    assert.deepEqual(envs.items.map((e) => e.name), ['development']);
    assert.equal(await databaseExists(database), false, 'its database is gone from PostgreSQL');
  });

  test('apps addons remove: the next plan deletes its resources', async () => {
    let r = await cli.run(['apps', 'addons', 'remove', app, 'redis']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pave resources apply ${app} --env development`));
    r = await cli.run(['resources', 'plan', app, '--env', 'development', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { items: { resource: string; action: string }[] };
    assert.deepEqual(plan.items.find((i) => i.resource === 'redis')?.action, 'delete');
  });
});
