/**
 * A real server process killed (SIGKILL) in the middle of a fleet upgrade, while an application is
 * half-upgraded (its new template version written, its redeployment starting): the next start puts
 * that application back (template version, inputs, resources), tries it again, and finishes the
 * upgrade; no application is left half-upgraded, and every one serves through the router.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Upgrade, UpgradeEvent } from '../../src/contracts/fleet.ts';
import { LocalRuntime } from '../../src/runtime/local.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { viaRouter } from '../deployments/helpers.ts';
import { fleetPlatform, V2, type FleetPlatform } from './platform.ts';
import { createApp, deployEverywhere, FINAL, plan, startUpgrade, waitUpgrade, type Api } from './support.ts';

const TOKEN = 'pave_fleet-restart-token-0123456789abcdef';

describe('a server killed in the middle of an upgrade', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let dataDir: string;
  let platform: FleetPlatform;
  let server: ServerProcess | undefined;
  let routerUrl = '';
  const s: Api = {
    api: (p, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${TOKEN}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(server!.url + p, { ...init, headers, body: body ?? null });
    },
  };
  const start = async () => {
    server = await startServerProcess({
      PAVE_DATABASE_URL: db.url, PAVE_DATA_DIR: dataDir, PAVE_BOOTSTRAP_TOKEN: TOKEN, PAVE_PLATFORM: platform.dir, PAVE_PLATFORM_SYNC_INTERVAL: '0',
      PAVE_HEALTH_TIMEOUT: '20', PAVE_STOP_GRACE: '1', PAVE_KEEP_WARM: '1',
    });
    const m = /Router:\s+http:\/\/<app>-<env>\.localhost:(\d+)/.exec(server.output());
    assert.ok(m, server.output());
    routerUrl = `http://127.0.0.1:${m[1]}`;
  };
  const APPS = ['r-a', 'r-b', 'r-c'];
  /** Reads the store directly, as it is while no server runs. */
  const query = async <T>(text: string, values: unknown[]): Promise<T[]> => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  };

  before(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pave-fleet-restart-'));
    platform = fleetPlatform({ 'svc-2.0.0.yaml': V2 });
    await start();
    assert.equal((await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } })).status, 201);
    for (const app of APPS) {
      await createApp(s, app, ['development']);
      await deployEverywhere(s, app, ['development']);
    }
    // r-b's next deployment takes its time to start: the server is killed while the upgrade waits for it
    assert.equal((await s.api('/api/v1/applications/r-b/environments/development/config', { method: 'PATCH', json: { set: { SLOW_START: '2500' } } })).status, 200);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    const runtime = new LocalRuntime({ dir: path.join(dataDir, 'runs') });
    for (const id of await runtime.list()) await runtime.stop(id, 0);
    rmSync(dataDir, { recursive: true, force: true });
    platform?.remove();
    await db?.drop();
  });

  test('killed while r-b is half-upgraded: the next start puts it back, tries it again and finishes the upgrade', async () => {
    const p = await plan(s, { name: 'svc', version: '2.0.0' });
    assert.equal(p.applications.length, 3);
    const u = await startUpgrade(s, { plan: p.id, canarySize: 1, waveSize: 1, concurrency: 1 });
    await waitUpgrade(s, u.id, (x) => x.applications.some((a) => a.application.endsWith('/r-b') && a.state === 'upgrading' && a.environments[0]!.state === 'deploying'), 'r-b is being redeployed', 60_000);
    assert.equal(await server!.stop('SIGKILL'), null);

    // what the killed server left: r-b upgrading, already on 2.0.0 in the store, its new deployment starting
    const half = await query<{ ref: string; state: string; template_version: string }>(
      `SELECT a.ref, a.state, p.template_version FROM fleet_upgrade_apps a JOIN applications p ON p.entity_id = a.entity_id WHERE a.upgrade_id = $1 ORDER BY a.wave`, [u.id]);
    assert.deepEqual(half.map((r) => [r.ref.replace('application:default/', ''), r.state, r.template_version]), [['r-a', 'upgraded', '2.0.0'], ['r-b', 'upgrading', '2.0.0'], ['r-c', 'pending', '1.0.0']]);
    // the application still serves its old version meanwhile (its processes outlive the server)
    assert.match((await viaRouterDirect('r-b')).body, /^v1 from /);

    await start();
    const done = await waitUpgrade(s, u.id, (x) => FINAL.includes(x.status), 'the upgrade ends after the restart', 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.applications.map((a) => [a.application, a.state, a.error])));
    assert.deepEqual(done.applications.map((a) => [a.application.replace('application:default/', ''), a.state, a.attempts]), [['r-a', 'upgraded', 1], ['r-b', 'upgraded', 2], ['r-c', 'upgraded', 1]]);
    const events = (await (await s.api(`/api/v1/fleet/upgrades/${u.id}/events`)).json()) as { items: UpgradeEvent[] };
    const interrupted = events.items.filter((e) => e.type === 'upgrade.interrupted');
    assert.deepEqual(interrupted.map((e) => e.application), ['application:default/r-b']);
    const putBack = events.items.find((e) => e.type === 'application.reverted');
    assert.match(putBack?.message ?? '', /r-b was put back on 1\.0\.0 \(the server stopped while this application was being upgraded\); it is tried again/);
    for (const app of APPS) {
      const gp = (await (await s.api(`/api/v1/applications/${app}/golden-path`)).json()) as { template: { version: string } };
      assert.equal(gp.template.version, '2.0.0');
      const res = await viaRouter(routerUrl, `${app}-development.localhost`);
      assert.equal(res.status, 200);
      assert.match(res.body, /^v1 on 2\.0 from /, `${app} serves the new version`);
    }
    const deployments = (await (await s.api('/api/v1/applications/r-b/environments/development/deployments')).json()) as { items: { status: string; error: string | null; released: boolean }[] };
    assert.ok(deployments.items.some((d) => d.status === 'failed' && /server (running it )?stopped/.test(d.error ?? '')), 'the deployment the killed server was starting is failed');
    assert.equal(deployments.items.filter((d) => d.released).length, 1);
    const view = (await (await s.api(`/api/v1/fleet/upgrades/${u.id}`)).json()) as Upgrade;
    assert.equal(view.counts.running, 0);
  });

  /** The router is gone with the killed server: reach the released process directly. */
  async function viaRouterDirect(app: string): Promise<{ body: string }> {
    const rows = await query<{ processes: { port: number | null }[] }>(
      `SELECT d.processes FROM environments e JOIN entities a ON a.id = e.entity_id JOIN deployments d ON d.id = e.released_deployment_id WHERE a.name = $1`, [app]);
    const port = rows[0]!.processes[0]!.port!;
    return { body: await (await fetch(`http://127.0.0.1:${port}/`)).text() };
  }
});
