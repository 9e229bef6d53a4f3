/**
 * Deployments on the local runtime, through the API, with real processes and real HTTP through the
 * router: build (and reuse), deploy, release, config versions and secrets, diff, a failing health
 * check, a crash loop, rollback (warm and cold), promotion, logs and draining.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Config, ConfigHistorySchema, Deployment, DeploymentDiff, LogLine, Release } from '../../src/contracts/deployments.ts';
import type { z } from 'zod';
import { alive } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { build, createApp, deploy, envBase, json, release, status, viaRouter } from './helpers.ts';


async function until(what: string, cond: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('deployments on the local runtime', { timeout: 180_000 }, () => {
  let s: TestServer;
  const app = 'hello';
  const host = `${app}-development.localhost`;
  const setConfig = async (body: Record<string, unknown>, env = 'development') => json<Config>(await s.api(`${envBase(app, env)}/config`, { method: 'PATCH', json: body }), 200);

  before(async () => {
    s = await startTestServer({ deployments: { keepWarm: 1 } });
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    await createApp(s, app);
  });
  after(async () => s?.close());

  let first: Deployment;

  test('build: an artifact addressed by digest; the same source again reuses it', async () => {
    const b1 = await build(s, app);
    assert.equal(b1.status, 'succeeded', b1.error ?? '');
    assert.equal(b1.reused, false);
    assert.match(b1.artifact!.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(b1.processes, { web: 'node server.js' });
    assert.ok(b1.detected.includes('procfile'), b1.detected.join(','));
    const b2 = await build(s, app);
    assert.equal(b2.number, b1.number + 1);
    assert.equal(b2.reused, true);
    assert.equal(b2.artifact!.digest, b1.artifact!.digest);
    const logs = await (await s.api(`/api/v1/applications/${app}/builds/${b2.number}/logs`)).text();
    assert.match(logs, /reusing/i, 'the build log says it reused the artifact');
    const failed = await json<{ status: string; error: string }>(await s.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { path: '/nonexistent/source' } }), 201);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.error.length > 0);
  });

  test('deploy: healthy but unrouted until released; release routes the environment to it', async () => {
    first = await deploy(s, app, 'development');
    assert.equal(first.status, 'healthy', first.error ?? '');
    assert.equal(first.released, false);
    assert.equal(first.processes.length, 1);
    assert.equal(first.processes[0]!.state, 'running');
    assert.equal((await viaRouter(s.routerUrl, host)).status, 404);
    const r = await release(s, app, 'development', first.number);
    assert.equal(r.kind, 'release');
    const res = await viaRouter(s.routerUrl, host);
    assert.equal(res.status, 200);
    assert.equal(res.body, `hello from ${first.id}\n`);
    assert.equal(res.headers['x-pave-deployment'], first.id);
    // the path form, for clients that cannot resolve *.localhost
    const viaPath = await fetch(`${s.routerUrl}/${app}-development/`);
    assert.equal(await viaPath.text(), `hello from ${first.id}\n`);
    const st = await status(s, app, 'development');
    assert.equal(st.status, 'running');
    assert.equal(st.released!.id, first.id);
  });

  test('config: variables and secrets are versioned, secrets masked everywhere, and reach the processes at the next deployment', async () => {
    const secret = 'sk-live-do-not-show-0123456789';
    let cfg = await setConfig({ set: { GREETING: 'hi' }, secrets: { API_KEY: secret } });
    assert.equal(cfg.version, 1);
    assert.deepEqual(cfg.variables, { GREETING: 'hi' });
    assert.deepEqual(Object.keys(cfg.secrets), ['API_KEY']);
    assert.notEqual(cfg.secrets.API_KEY, secret);
    const same = await setConfig({ set: { GREETING: 'hi' } });
    assert.equal(same.version, 1, 'a change that changes nothing writes no version');
    cfg = await json<Config>(await s.api(`${envBase(app, 'development')}/config`));
    assert.ok(cfg.layers.some((l) => l.source.startsWith('template')), 'the layers under the config are shown');
    const history = await json<z.infer<typeof ConfigHistorySchema>>(await s.api(`${envBase(app, 'development')}/config/history`));
    assert.equal(history.items[0]!.version, 1);
    assert.deepEqual(history.items[0]!.changes.map((c) => [c.name, c.change, c.secret]), [['API_KEY', 'added', true], ['GREETING', 'added', false]]);
    assert.doesNotMatch(JSON.stringify(history), new RegExp(secret));

    const second = await deploy(s, app, 'development', { release: true });
    assert.equal(second.released, true);
    assert.equal(second.configVersion, 1);
    assert.equal((await viaRouter(s.routerUrl, host)).body, `hi from ${second.id}\n`);
    const env = JSON.parse((await viaRouter(s.routerUrl, host, '/env')).body) as Record<string, string>;
    assert.equal(env.API_KEY, secret, 'the process gets the secret in clear');
    assert.notEqual(env.PORT, '8080', 'Pave assigns the port');

    const diff = await json<DeploymentDiff>(await s.api(`/api/v1/applications/${app}/deployments/diff?from=development/${first.number}&to=development/${second.number}`));
    assert.equal(diff.build.changed, false);
    assert.deepEqual(diff.configVersion, { from: 0, to: 1 });
    const byName = new Map(diff.variables.map((v) => [v.name, v]));
    assert.deepEqual([byName.get('GREETING')!.change, byName.get('GREETING')!.to], ['added', 'hi']);
    assert.equal(byName.get('API_KEY')!.secret, true);
    assert.doesNotMatch(JSON.stringify(diff), new RegExp(secret), 'a diff never shows a secret');
    const list = await json<{ items: Deployment[] }>(await s.api(`${envBase(app, 'development')}/deployments`));
    assert.doesNotMatch(JSON.stringify(list), new RegExp(secret));
    // at rest: not in the store in clear, not in any file of the data directory (runs, logs, builds)
    const rows = await s.store.db.selectFrom('deployments').selectAll().execute();
    assert.ok(!rows.some((r) => r.snapshot.includes(Buffer.from(secret))));
    for (const file of readdirSync(s.dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())) {
      assert.ok(!readFileSync(path.join(file.parentPath, file.name)).includes(Buffer.from(secret)), `${file.name} holds the secret`);
    }
    assert.deepEqual(list.items.map((d) => d.number), [second.number, first.number]);
    assert.equal(list.items[1]!.running, 'warm', 'the replaced deployment is kept warm');
  });

  test('a deployment that fails its health check is failed with the reason and last log lines; what was serving keeps serving', async () => {
    const before = (await status(s, app, 'development')).released!;
    await setConfig({ set: { FAIL_HEALTH: '1' } });
    const bad = await deploy(s, app, 'development', { release: true, timeoutSeconds: 3 });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.released, false);
    assert.match(bad.error!, /500/);
    assert.ok(bad.lastLogs.some((l) => /listening on/.test(l)), bad.lastLogs.join('\n'));
    assert.equal(bad.running, 'stopped');
    assert.equal((await viaRouter(s.routerUrl, host)).body, `hi from ${before.id}\n`);
    const refused = await s.api(`${envBase(app, 'development')}/release`, { method: 'POST', json: { deployment: bad.number } });
    assert.equal(refused.status, 409);
    await setConfig({ unset: ['FAIL_HEALTH'] });
  });

  test('a process that crashes at start fails the deployment with its exit code', async () => {
    await setConfig({ set: { CRASH: '1' } });
    const bad = await deploy(s, app, 'development', { timeoutSeconds: 10 });
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!, /exited with code 1/);
    assert.ok(bad.lastLogs.some((l) => /crashing on purpose/.test(l)), bad.lastLogs.join('\n'));
    await setConfig({ unset: ['CRASH'] });
  });

  test('a released process that crashes is restarted with backoff; the environment shows it', async () => {
    const cur = (await status(s, app, 'development')).released!;
    const pid = cur.processes[0]!.pid!;
    await viaRouter(s.routerUrl, host, '/crash');
    await until('the crash is seen', async () => (await status(s, app, 'development')).released!.processes[0]!.restarts >= 1);
    const st = await status(s, app, 'development');
    assert.equal(st.status, 'degraded');
    assert.equal(st.released!.processes[0]!.lastExit!.code, 3);
    await until('it answers again', async () => (await viaRouter(s.routerUrl, host).catch(() => ({ status: 0 }))).status === 200);
    assert.notEqual((await status(s, app, 'development')).released!.processes[0]!.pid, pid, 'a new process');
  });

  test('rollback: instant while the previous deployment is warm, and from its snapshot when it was stopped; never rebuilt', async () => {
    const released = (await status(s, app, 'development')).released!;
    const warm = await json<Release>(await s.api(`${envBase(app, 'development')}/rollback`, { method: 'POST', json: {} }), 200);
    assert.equal(warm.kind, 'rollback');
    assert.equal(warm.warm, true);
    assert.equal(warm.deployment.id, first.id);
    assert.equal((await viaRouter(s.routerUrl, host)).body, `hello from ${first.id}\n`, 'the old config came back with it');
    // keepWarm is 1: a third release stops the oldest warm one
    const builds = (await json<{ items: { number: number }[] }>(await s.api(`/api/v1/applications/${app}/builds`))).items.length;
    await release(s, app, 'development', released.number);
    await s.services.deployments.idle();
    const third = await deploy(s, app, 'development', { release: true });
    await s.services.deployments.idle();
    const firstNow = await json<Deployment>(await s.api(`${envBase(app, 'development')}/deployments/${first.number}`));
    assert.equal(firstNow.running, 'stopped');
    const cold = await json<Release>(await s.api(`${envBase(app, 'development')}/rollback`, { method: 'POST', json: { to: first.number } }), 200);
    assert.equal(cold.warm, false);
    assert.equal((await viaRouter(s.routerUrl, host)).body, `hello from ${first.id}\n`);
    const after = (await json<{ items: unknown[] }>(await s.api(`/api/v1/applications/${app}/builds`))).items.length;
    assert.equal(after, builds, 'no build was made');
    const history = await json<{ items: { number: number; kind: string; warm: boolean }[] }>(await s.api(`${envBase(app, 'development')}/releases`));
    assert.deepEqual(history.items.slice(0, 3).map((r) => [r.number, r.kind, r.warm]), [[first.number, 'rollback', false], [third.number, 'release', true], [released.number, 'release', true]]);
  });

  test('release drains the previous deployment: a request in flight finishes on it', async () => {
    const cur = (await status(s, app, 'development')).released!;
    const list = await json<{ items: Deployment[] }>(await s.api(`${envBase(app, 'development')}/deployments`));
    const other = list.items.find((d) => d.status === 'healthy' && d.id !== cur.id)!;
    const slow = viaRouter(s.routerUrl, host, '/slow?ms=800');
    await new Promise((r) => setTimeout(r, 150));
    await release(s, app, 'development', other.number);
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.body, `slow done by ${cur.id}`);
    assert.match((await viaRouter(s.routerUrl, host)).body, new RegExp(other.id));
  });

  test('a deployment released again while it still drains stays released (not warm, never swept)', async () => {
    const cur = (await status(s, app, 'development')).released!;
    const list = await json<{ items: Deployment[] }>(await s.api(`${envBase(app, 'development')}/deployments`));
    const other = list.items.find((d) => d.status === 'healthy' && d.id !== cur.id && d.running !== 'stopped')!;
    const slow = viaRouter(s.routerUrl, host, '/slow?ms=1000');
    await new Promise((r) => setTimeout(r, 150));
    await release(s, app, 'development', other.number);
    await release(s, app, 'development', cur.number);
    assert.equal((await slow).status, 200);
    await s.services.deployments.idle();
    const again = await json<Deployment>(await s.api(`${envBase(app, 'development')}/deployments/${cur.number}`));
    assert.equal(again.released, true);
    assert.equal(again.running, 'running');
    assert.match((await viaRouter(s.routerUrl, host)).body, new RegExp(cur.id));
  });

  test('logs: the backlog with process type and deployment, then live lines when following', async () => {
    const text = await (await s.api(`${envBase(app, 'development')}/logs?tail=50`)).text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as LogLine);
    assert.ok(lines.length > 0);
    assert.ok(lines.every((l) => l.type === 'web' && typeof l.deployment === 'string'));
    assert.ok(lines.some((l) => /listening on/.test(l.line)));
    const ctl = new AbortController();
    const res = await s.api(`${envBase(app, 'development')}/logs?tail=0&follow=true`, { signal: ctl.signal });
    const reader = res.body!.getReader();
    const marker = `/marker-${Date.now()}`;
    setTimeout(() => void viaRouter(s.routerUrl, host, marker), 300);
    let seen = '';
    const timer = setTimeout(() => ctl.abort(), 10_000);
    try {
      while (!seen.includes(marker)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString();
      }
    } catch {
      // aborted after the deadline: the assertion below says what was missing
    }
    clearTimeout(timer);
    ctl.abort();
    assert.match(seen, new RegExp(`GET ${marker}`));
  });

  test('promote: the build released in one environment, with the other environment\'s config', async () => {
    await json(await s.api(`/api/v1/applications/${app}/environments`, { method: 'POST', json: { name: 'staging', type: 'staging' } }), 201);
    await setConfig({ set: { GREETING: 'staged' } }, 'staging');
    const source = (await status(s, app, 'development')).released!;
    const promoted = await json<Deployment>(await s.api(`/api/v1/applications/${app}/promote`, { method: 'POST', json: { from: 'development', to: 'staging', release: true } }), 201);
    assert.equal(promoted.build.id, source.build.id);
    assert.equal(promoted.promotedFrom, `development/${source.number}`);
    assert.equal(promoted.released, true);
    assert.equal((await viaRouter(s.routerUrl, `${app}-staging.localhost`)).body, `staged from ${promoted.id}\n`);
    const diff = await json<DeploymentDiff>(await s.api(`/api/v1/applications/${app}/deployments/diff?from=development/${source.number}&to=staging/${promoted.number}`));
    assert.equal(diff.build.changed, false);
  });

  test('nothing is deployed, released or rolled back into an environment that is being deleted: 409, nothing recorded', async () => {
    const created = await s.api(`/api/v1/applications/${app}/environments`, { method: 'POST', json: { name: 'doomed', type: 'preview', provision: false } });
    assert.equal(created.status, 201, await created.clone().text());
    const db = s.services.store.db;
    await db.updateTable('environments').set({ status: 'deleting' }).where('name', '=', 'doomed').execute();
    try {
      for (const [what, path, body] of [['deploy', 'deployments', {}], ['release', 'release', { deployment: 1 }], ['rollback', 'rollback', {}]] as const) {
        const res = await s.api(`${envBase(app, 'doomed')}/${path}`, { method: 'POST', json: body });
        assert.equal(res.status, 409, `${what}: ${await res.clone().text()}`);
        assert.match(((await res.json()) as { detail: string }).detail, /doomed .* is being deleted/);
      }
      const list = await json<{ items: Deployment[] }>(await s.api(`${envBase(app, 'doomed')}/deployments`));
      assert.equal(list.items.length, 0);
    } finally {
      await db.updateTable('environments').set({ status: 'active' }).where('name', '=', 'doomed').execute();
      assert.equal((await s.api(`${envBase(app, 'doomed')}`, { method: 'DELETE' })).status, 200);
    }
  });

  test('a preview cloned from an environment gets its config and build, and is deleted with everything when it expires', async () => {
    const created = await s.api(`/api/v1/applications/${app}/environments`, { method: 'POST', json: { name: 'pr-7', type: 'preview', from: 'staging', ttl: '2s' } });
    assert.equal(created.status, 201, await created.clone().text());
    const st = await status(s, app, 'pr-7');
    assert.equal(st.clonedFrom, 'staging');
    assert.equal(st.status, 'running');
    assert.ok(st.expiresAt);
    const res = await viaRouter(s.routerUrl, `${app}-pr-7.localhost`);
    assert.match(res.body, /^staged from /);
    const pid = st.released!.processes[0]!.pid!;
    assert.ok(alive(pid));
    assert.deepEqual((await s.services.deployments.sweep()).expired, [], 'not expired yet');
    await new Promise((r) => setTimeout(r, 2100));
    const swept = await s.services.deployments.sweep();
    assert.deepEqual(swept.expired, [`application:default/${app}/pr-7`]);
    assert.equal((await s.api(`${envBase(app, 'pr-7')}/status`)).status, 404);
    assert.equal((await viaRouter(s.routerUrl, `${app}-pr-7.localhost`)).status, 404);
    await until('the preview\'s process is gone', async () => !alive(pid), 5000);
  });
});

void http;
