import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import type { Resource } from '../../src/contracts/golden.ts';
import { LOCAL_SERVICE_SECRETS, SAMPLE_PLATFORM } from '../../src/services.ts';
import { createTestDatabase, LOCAL_PG_URL } from '../support/postgres.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';

// Kill -9 of the Pave server in the middle of provisioning, then a restart: the next apply converges,
// and nothing is created twice.
const TOKEN = 'pave_crash-test-token-0123456789';
const work = mkdtempSync(path.join(os.tmpdir(), 'pave-crash-'));
const platform = path.join(work, 'platform');
const runLog = path.join(work, 'runs.log');
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

cpSync(SAMPLE_PLATFORM, platform, { recursive: true });
writeFileSync(
  path.join(platform, 'slow.yaml'),
  `apiVersion: pave.dev/v1
kind: ResourceType
metadata: { name: slow }
spec:
  outputs:
    value: { type: string }
---
apiVersion: pave.dev/v1
kind: ResourceDefinition
metadata: { name: slow-cmd }
spec:
  type: slow
  driver: cmd
  inputs:
    command: ${path.resolve(import.meta.dirname, 'fixtures/slow-provisioner.mjs')}
    log: ${runLog}
    seconds: 4
`,
);

const call = (s: ServerProcess, p: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(s.url + p, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : (init.body ?? null),
  });

test('a server killed mid-apply resumes on restart: the interrupted resource is retried, the finished one is kept', async () => {
  const db = await createTestDatabase();
  cleanup.push(db.drop);
  const env = { PAVE_DATABASE_URL: db.url, PAVE_DATA_DIR: path.join(work, 'data'), PAVE_PLATFORM: platform, PAVE_BOOTSTRAP_TOKEN: TOKEN, PAVE_SECRET_KEY: Buffer.alloc(32, 3).toString('base64') };
  let s = await startServerProcess(env);
  cleanup.push(async () => void (await s.stop()));
  assert.equal((await call(s, '/api/v1/platform/secrets/local-postgres-admin', { method: 'PUT', json: { value: LOCAL_SERVICE_SECRETS['local-postgres-admin'] } })).status, 204);
  assert.equal((await call(s, '/api/v1/teams', { method: 'POST', json: { name: 'ops' } })).status, 201);
  const workload = {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'crashy' },
    containers: { web: { image: '.' } },
    resources: { db: { type: 'postgres' }, slow: { type: 'slow', params: { after: '${resources.db.host}' } } },
  };
  assert.equal((await call(s, '/api/v1/applications', { method: 'POST', json: { name: 'crashy', owner: 'ops', template: 'node-service', workload } })).status, 201);

  // Stream the apply and kill the server once the slow resource is being provisioned.
  const res = await call(s, '/api/v1/applications/crashy/environments/development/apply', { method: 'POST', headers: { accept: 'application/x-ndjson' } });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('"resource":"slow","type":"slow","phase":"provisioning"')) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended before the slow resource started:\n${text}`);
    text += Buffer.from(value).toString();
  }
  assert.match(text, /"resource":"db","type":"postgres","phase":"ready"/);
  await s.stop('SIGKILL');
  await reader.cancel().catch(() => undefined);

  s = await startServerProcess(env);
  const list = async () => ((await (await call(s, '/api/v1/applications/crashy/environments/development/resources')).json()) as { items: Resource[] }).items;
  const interrupted = new Map((await list()).map((r) => [r.name, r]));
  assert.equal(interrupted.get('db')!.status, 'ready');
  assert.equal(interrupted.get('slow')!.status, 'provisioning', 'the interrupted resource shows where it stopped');
  const plan = (await (await call(s, '/api/v1/applications/crashy/environments/development/plan', { method: 'POST' })).json()) as { items: { resource: string; action: string }[] };
  assert.deepEqual(plan.items.map((i) => [i.resource, i.action]), [['db', 'noop'], ['slow', 'retry']]);

  const resumed = (await (await call(s, '/api/v1/applications/crashy/environments/development/apply', { method: 'POST' })).json()) as { ok: boolean; events: { resource: string; phase: string }[] };
  assert.equal(resumed.ok, true);
  assert.deepEqual(resumed.events.map((e) => [e.resource, e.phase]), [['db', 'unchanged'], ['slow', 'provisioning'], ['slow', 'ready']]);
  const final = await list();
  assert.deepEqual(final.map((r) => [r.name, r.status]), [['db', 'ready'], ['slow', 'ready']]);
  assert.equal(final.find((r) => r.name === 'slow')!.attempts, 2);

  // One database, not two: the database made before the crash is the one in use.
  const c = new pg.Client({ connectionString: LOCAL_PG_URL });
  await c.connect();
  const dbs = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'pv_crashy_development_db_%'`);
  await c.end();
  assert.deepEqual(dbs.rows.map((r: { datname: string }) => r.datname), [final.find((r) => r.name === 'db')!.outputs.database]);
  assert.equal(readFileSync(runLog, 'utf8').trim().split('\n').length, 2, 'the slow provisioner ran once before the crash and once after');

  assert.equal((await call(s, '/api/v1/applications/crashy', { method: 'DELETE' })).status, 204);
});
