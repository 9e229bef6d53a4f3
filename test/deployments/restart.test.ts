/**
 * Runs survive the server: a real `pave` server process is killed (SIGKILL) in the middle of a
 * deployment and stopped normally (SIGTERM); released applications keep answering, and each start
 * re-adopts what runs, restarts a released deployment whose processes died meanwhile, and fails the
 * deployment that was in progress.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Deployment, EnvironmentStatus } from '../../src/contracts/deployments.ts';
import { LocalRuntime } from '../../src/runtime/local.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { HELLO, viaRouter } from './helpers.ts';

const TOKEN = 'pave_restart-test-token-0123456789abcdef';

describe('deployments survive the server', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let dataDir: string;
  let server: ServerProcess | undefined;
  let routerUrl = '';
  const env = () => ({ PAVE_DATABASE_URL: db.url, PAVE_DATA_DIR: dataDir, PAVE_BOOTSTRAP_TOKEN: TOKEN, PAVE_PLATFORM_SYNC_INTERVAL: '0', PAVE_HEALTH_TIMEOUT: '20', PAVE_STOP_GRACE: '1' });
  const api = async <T>(p: string, init: { method?: string; json?: unknown } = {}, expect?: number): Promise<T> => {
    const res = await fetch(server!.url + p, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.json !== undefined ? JSON.stringify(init.json) : null,
    });
    const text = await res.text();
    if (expect !== undefined) assert.equal(res.status, expect, text);
    return JSON.parse(text) as T;
  };
  const start = async () => {
    server = await startServerProcess(env());
    const m = /Router:\s+http:\/\/<app>-<env>\.localhost:(\d+)/.exec(server.output());
    assert.ok(m, server.output());
    routerUrl = `http://127.0.0.1:${m[1]}`;
  };
  const envStatus = () => api<EnvironmentStatus>('/api/v1/applications/hello/environments/development/status', {}, 200);
  const direct = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`)).text();

  before(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pave-restart-'));
    await start();
    await api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }, 201);
    await api('/api/v1/applications', { method: 'POST', json: { name: 'hello', owner: 'team-a', template: 'node-service' } }, 201);
    await api('/api/v1/applications/hello/builds', { method: 'POST', json: { path: HELLO } }, 201);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    const runtime = new LocalRuntime({ dir: path.join(dataDir, 'runs') });
    for (const id of await runtime.list()) await runtime.stop(id, 0);
    rmSync(dataDir, { recursive: true, force: true });
    await db?.drop();
  });

  let a: Deployment;

  test('killed during a deployment: the released application keeps serving, and the next start fails the interrupted deployment and re-adopts the rest', async () => {
    a = await api<Deployment>('/api/v1/applications/hello/environments/development/deployments', { method: 'POST', json: { release: true } }, 201);
    assert.equal(a.released, true, a.error ?? '');
    const port = a.processes[0]!.port!;
    assert.equal((await viaRouter(routerUrl, 'hello-development.localhost')).body, `hello from ${a.id}\n`);

    // a deployment that takes its time to start, and a server killed while it waits for it
    await api('/api/v1/applications/hello/environments/development/config', { method: 'PATCH', json: { set: { SLOW_START: '60000' } } }, 200);
    void fetch(`${server!.url}/api/v1/applications/hello/environments/development/deployments`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"release":true}' }).catch(() => undefined);
    let starting: Deployment | undefined;
    for (let i = 0; i < 100 && !starting; i++) {
      await new Promise((r) => setTimeout(r, 100));
      starting = (await api<{ items: Deployment[] }>('/api/v1/applications/hello/environments/development/deployments')).items.find((d) => d.status === 'starting');
    }
    assert.ok(starting, 'the second deployment is starting');
    assert.equal(await server!.stop('SIGKILL'), null);

    assert.equal(await direct(port), `hello from ${a.id}\n`, 'the application outlived the server');

    await start();
    const st = await envStatus();
    assert.equal(st.released!.id, a.id);
    assert.equal(st.status, 'running');
    assert.equal(st.released!.processes[0]!.port, port, 'adopted, not restarted');
    assert.equal((await viaRouter(routerUrl, 'hello-development.localhost')).body, `hello from ${a.id}\n`, 'routed again as soon as the server is back');
    const interrupted = await api<Deployment>(`/api/v1/applications/hello/environments/development/deployments/${starting.number}`, {}, 200);
    assert.equal(interrupted.status, 'failed');
    assert.match(interrupted.error!, /server stopped/);
    assert.equal(interrupted.running, 'stopped');
    assert.ok(interrupted.processes.every((p) => p.state === 'stopped'));
    await api('/api/v1/applications/hello/environments/development/config', { method: 'PATCH', json: { unset: ['SLOW_START'] } }, 200);
  });

  test('stopped normally, the server leaves applications running; a released deployment whose processes died meanwhile is started again', async () => {
    const port = a.processes[0]!.port!;
    assert.equal(await server!.stop('SIGTERM'), 0);
    assert.equal(await direct(port), `hello from ${a.id}\n`);
    // while the server is down, the application's processes are stopped too
    const runtime = new LocalRuntime({ dir: path.join(dataDir, 'runs') });
    await runtime.stop(a.id, 0);
    await assert.rejects(direct(port));
    await start();
    const st = await envStatus();
    assert.equal(st.released!.id, a.id, 'the same deployment, from its snapshot');
    assert.equal(st.status, 'running');
    assert.equal((await viaRouter(routerUrl, 'hello-development.localhost')).body, `hello from ${a.id}\n`);
  });
});
