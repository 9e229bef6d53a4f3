import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { ServerList } from '../../src/contracts/jobs.ts';
import { MIGRATIONS } from '../../src/store/migrate.ts';
import { call, cli, createApp, json, startCluster, type Cluster } from './helpers.ts';

// Three real Pave servers started at the same moment on one fresh PostgreSQL database: migrations
// are applied once (under the migrator's lock), one admin is bootstrapped, every server registers,
// and the installation, having several servers, refuses production deployments on the local runtime.

let c: Cluster;
let remote = '';
before(async () => {
  c = await startCluster(3, { PAVE_LOG_LEVEL: 'info', PAVE_JOB_LEASE: '5' }, (platform) => {
    // team gitops deploys production through a GitOps repository (a bare one on disk), not the local runtime
    remote = path.join(platform, '..', 'deploy.git');
    execFileSync('git', ['init', '--quiet', '--bare', '-b', 'main', remote]);
    writeFileSync(path.join(platform, 'ha-gitops-profile.yaml'), `apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: gitops }
spec:
  team: gitops
  environments:
    production:
      runtime: gitops
      cluster:
        name: eu-west-1
        domain: apps.example.com
        gitops: { remote: "${remote}", branch: main }
`);
  });
});
after(() => c?.close());

/** The JSON log lines of a server's output with this msg. */
const logLines = (out: string, msg: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; applied?: string[] })
    .filter((l) => l.msg === msg);

test('three servers starting together on a fresh database apply each migration exactly once and bootstrap one admin', async () => {
  const applied = c.servers.map((s) => {
    const ready = logLines(s.output(), 'store ready');
    assert.equal(ready.length, 1, s.output());
    return ready[0]!.applied ?? [];
  });
  // each migration was applied by exactly one of them; the others found it done
  assert.deepEqual(applied.flat().sort(), Object.keys(MIGRATIONS).sort(), `applied per server: ${JSON.stringify(applied)}`);
  assert.equal(applied.filter((a) => a.length > 0).length, 1, 'one server migrated everything, while the others waited for its lock');
  const client = new pg.Client({ connectionString: c.db.url });
  await client.connect();
  try {
    const rows = await client.query<{ name: string }>('SELECT name FROM pave_migrations ORDER BY name');
    assert.deepEqual(rows.rows.map((r) => r.name), Object.keys(MIGRATIONS).sort());
    const admins = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_accounts WHERE 'admin' = ANY(roles)`);
    assert.equal(admins.rows[0]!.n, 1);
  } finally {
    await client.end();
  }
  for (const s of c.servers) assert.equal((await call(s, '/api/v1/me')).status, 200, 'each serves with the one admin token');
});

test('every server registers with its host, pid and heartbeat; the installation is multi-server', async () => {
  const list = await json<ServerList>(await call(c.servers[1]!, '/api/v1/servers'), 200);
  assert.equal(list.items.length, 3);
  assert.ok(list.items.every((s) => s.live));
  assert.deepEqual(list.items.map((s) => s.pid).sort(), c.servers.map((s) => s.child.pid!).sort());
  assert.equal(list.items.filter((s) => s.self).length, 1);
  assert.equal(list.multiServer, true);
  assert.match(list.reason, /3 servers are running/);
  assert.equal(list.leaseSeconds, 5);
  // not for everyone: the registry is for admins
  const dev = await json<{ token: string }>(await call(c.servers[0]!, '/api/v1/tokens', { method: 'POST', json: { name: 'scoped', permissions: ['catalog.read'] } }), 201);
  assert.equal((await fetch(`${c.servers[0]!.url}/api/v1/servers`, { headers: { authorization: `Bearer ${dev.token}` } })).status, 403);

  const out = await cli(c.servers[2]!, ['servers']);
  assert.equal(out.code, 0, out.stderr);
  for (const s of c.servers) assert.match(out.stdout, new RegExp(`\\b${s.child.pid}\\b`));
  assert.match(out.stdout, /\(this one\)/);
  assert.match(out.stdout, /A multi-server installation: 3 servers are running/);
});

test('a multi-server installation refuses to deploy a production environment on the single-host local runtime (409), and writes nothing', async () => {
  const s = c.servers[0]!;
  assert.equal((await call(s, '/api/v1/teams', { method: 'POST', json: { name: 'ops' } })).status, 201);
  await createApp(s, 'shop', {}, [{ name: 'development', type: 'development' }, { name: 'prod', type: 'production' }]);
  const build = await json<{ number: number; status: string }>(await call(s, '/api/v1/applications/shop/builds', { method: 'POST', json: { path: path.join(import.meta.dirname, '../deployments/fixtures/hello') } }), 201);
  assert.equal(build.status, 'succeeded');
  const res = await call(s, '/api/v1/applications/shop/environments/prod/deployments', { method: 'POST', json: { build: build.number } });
  assert.equal(res.status, 409);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  const problem = await json<{ type: string; title: string; detail: string }>(res);
  assert.equal(problem.type, 'https://pave.dev/problems/single-host-runtime');
  assert.match(problem.detail, /Deploying to prod \(production\) of application:default\/shop on the local process runtime is refused: this Pave installation has several servers \(3 servers are running/);
  assert.match(problem.detail, /single-host/);
  const deployments = await json<{ items: unknown[] }>(await call(s, '/api/v1/applications/shop/environments/prod/deployments'), 200);
  assert.deepEqual(deployments.items, [], 'nothing was deployed');
});

test('the refusal is the local runtime\'s only: a production environment on GitOps deploys in a multi-server installation', async () => {
  const s = c.servers[1]!;
  assert.equal((await call(s, '/api/v1/teams', { method: 'POST', json: { name: 'gitops' } })).status, 201);
  await json(await call(s, '/api/v1/applications', { method: 'POST', json: { name: 'web', owner: 'gitops', template: 'node-service', environments: [{ name: 'prod', type: 'production' }] } }), 201);
  await json(await call(s, '/api/v1/applications/web/artifacts', { method: 'POST', json: { image: `registry.example.com/web@sha256:${'1'.repeat(64)}` } }), 201);
  const d = await json<{ status: string; runtime: string; error: string | null }>(await call(s, '/api/v1/applications/web/environments/prod/deployments', { method: 'POST', json: {} }), 201);
  assert.equal(d.runtime, 'gitops');
  assert.equal(d.status, 'healthy', d.error ?? '');
});
