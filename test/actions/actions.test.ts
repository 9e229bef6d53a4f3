/**
 * Golden actions end to end, with real processes, real HTTP and a real Redis: what an application
 * offers (template and add-ons), command, HTTP, lifecycle and resource-operation actions, parameters,
 * environment types, roles, confirmation, timeouts, cancellation, serialisation, masking and the audit
 * log.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import YAML from 'yaml';
import type { ActionRun, ActionView } from '../../src/contracts/actions.ts';
import type { CreatedTokenSchema } from '../../src/contracts/access.ts';
import type { Resource } from '../../src/contracts/golden.ts';
import { LOCAL_SERVICE_SECRETS, SAMPLE_PLATFORM } from '../../src/services.ts';
import type { z } from 'zod';
import { HELLO, createApp, deploy, envBase, json, viaRouter } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('golden actions', { timeout: 180_000 }, () => {
  let s: TestServer;
  let platform: string;
  const app = 'shop';
  const run = async (env: string, action: string, body: Record<string, unknown> = {}, opts: { wait?: boolean; token?: string; status?: number } = {}) => {
    const res = await s.api(`${envBase(app, env)}/actions/${action}/runs${opts.wait === false ? '' : '?wait=true'}`, {
      method: 'POST', json: body, ...(opts.token ? { headers: { authorization: `Bearer ${opts.token}` } } : {}),
    });
    return json<ActionRun & { detail?: string; errors?: { path: string }[] }>(res, opts.status ?? 201);
  };

  before(async () => {
    // the sample platform, plus a template whose actions have short timeouts and a secret parameter
    platform = mkdtempSync(path.join(os.tmpdir(), 'pave-actions-platform-'));
    cpSync(SAMPLE_PLATFORM, platform, { recursive: true });
    const t = YAML.parse(readFileSync(path.join(platform, 'templates/node-service.yaml'), 'utf8')) as { metadata: Record<string, unknown>; spec: { actions: unknown[] } };
    t.metadata.name = 'quick-service';
    t.spec.actions.push(
      { id: 'slow-request', title: 'A slow request', confirm: 'never', timeout: '1s', parameters: { type: 'object', properties: { ms: { type: 'integer', default: 3000 } } }, run: { http: { method: 'GET', url: '${env.url}/slow?ms=${params.ms}' } } },
      { id: 'wait', title: 'A request that takes its time', confirm: 'never', timeout: '30s', parameters: { type: 'object', properties: { ms: { type: 'integer', default: 800 } } }, run: { http: { method: 'GET', url: '${env.url}/slow?ms=${params.ms}' } } },
      { id: 'steps', title: 'Migrate in steps', confirm: 'never', parameters: { type: 'object', properties: { steps: { type: 'integer', default: 1 }, token: { type: 'string', writeOnly: true, default: '' } } }, run: { command: 'npm run migrate -- --token=${params.token}' } },
    );
    writeFileSync(path.join(platform, 'templates/quick-service.yaml'), YAML.stringify(t));
    s = await startTestServer({ platform });
    for (const [k, v] of Object.entries(LOCAL_SERVICE_SECRETS)) await s.services.secrets.seed(k, v);
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    await createApp(s, app, { template: 'quick-service', addons: [{ addon: 'redis', name: 'cache' }], environments: [{ name: 'development', type: 'development' }, { name: 'production', type: 'production' }] });
    await json(await s.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { path: HELLO } }), 201);
    for (const env of ['development', 'production']) assert.equal((await deploy(s, app, env, { release: true })).released, true);
  });
  after(async () => {
    if (s) {
      await s.api(`/api/v1/applications/${app}`, { method: 'DELETE' }).catch(() => undefined);
      await s.api('/api/v1/applications/other', { method: 'DELETE' }).catch(() => undefined);
      await s.api('/api/v1/applications/pgapp', { method: 'DELETE' }).catch(() => undefined);
      await s.close();
    }
    rmSync(platform, { recursive: true, force: true });
  });

  test('an application offers its template\'s actions and those of its add-ons, and says where each may run', async () => {
    const { items } = await json<{ items: ActionView[] }>(await s.api(`/api/v1/applications/${app}/actions?environment=production`));
    const byKey = new Map(items.map((a) => [a.key, a]));
    for (const k of ['migrate', 'seed', 'smoke-test', 'restart', 'scale', 'rollback', 'purge-cache', 'stats']) assert.ok(byKey.has(k), `${k} in ${[...byKey.keys()].join(', ')}`);
    assert.equal(byKey.get('purge-cache')!.source, 'add-on redis@1.0.0 as cache');
    assert.equal(byKey.get('purge-cache')!.kind, 'operation');
    assert.equal(byKey.get('reindex'), undefined, 'postgres is not attached, so its actions are not offered');
    assert.equal(byKey.get('seed')!.allowedHere, false);
    assert.equal(byKey.get('migrate')!.allowedHere, true);
  });

  test('a command action runs with the released build and environment; secrets are masked in its output', async () => {
    const r = await run('development', 'migrate');
    assert.equal(r.status, 'succeeded', r.error ?? '');
    assert.ok(r.output.some((l) => l.includes('migrate: done')), r.output.join('\n'));
    // migrate.js prints REDIS_URL, which holds the cache's password: the output masks it
    const cache = (await json<{ items: Resource[] }>(await s.api(`${envBase(app, 'development')}/resources?reveal=true`))).items.find((x) => x.name === 'cache')!;
    const password = String(cache.outputs.password);
    assert.ok(password.length > 8);
    assert.ok(r.output.some((l) => /REDIS_URL=\S*\*{8}/.test(l)), r.output.join('\n'));
    assert.doesNotMatch(JSON.stringify(r), new RegExp(password));
    const withToken = await run('development', 'steps', { params: { steps: 3, token: 'tok-secret-123456' } });
    assert.equal(withToken.status, 'succeeded', withToken.error ?? '');
    assert.equal(withToken.params.token, '********', 'a secret parameter is masked in the record');
    assert.ok(withToken.output.some((l) => l.includes('3 step(s)')));
    assert.doesNotMatch(JSON.stringify(withToken), /tok-secret-123456/);
    await json(await s.api(`${envBase(app, 'development')}/config`, { method: 'PATCH', json: { set: { MIGRATE_FAIL: '1' } } }), 200);
    await deploy(s, app, 'development', { release: true });
    const bad = await run('development', 'migrate');
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!, /exited with code/);
    assert.ok(bad.output.some((l) => l.includes('failed on purpose')));
    await json(await s.api(`${envBase(app, 'development')}/config`, { method: 'PATCH', json: { unset: ['MIGRATE_FAIL'] } }), 200);
    await deploy(s, app, 'development', { release: true });
  });

  test('an HTTP action: a 2xx succeeds, a 5xx fails with the status', async () => {
    const ok = await run('development', 'smoke-test');
    assert.equal(ok.status, 'succeeded', ok.error ?? '');
    assert.match(ok.summary!, /answered 200/);
    const bad = await run('development', 'smoke-test', { params: { path: '/status/503' } });
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!, /503/);
  });

  test('bad parameters, a forbidden environment type and a missing confirmation are refused before anything runs', async () => {
    const before = (await json<{ items: ActionRun[] }>(await s.api(`/api/v1/applications/${app}/runs`))).items.length;
    const bad = await run('development', 'scale', { params: { replicas: 0 } }, { status: 400 });
    assert.ok(bad.errors!.some((e) => e.path === 'body.params.replicas'), JSON.stringify(bad.errors));
    const missing = await run('development', 'scale', {}, { status: 400 });
    assert.ok(missing.errors!.some((e) => e.path.startsWith('body.params')));
    const unknown = await run('development', 'smoke-test', { params: { nope: 1 } }, { status: 400 });
    assert.ok(unknown.errors!.some((e) => e.path.includes('nope')));
    const forbidden = await run('production', 'seed', {}, { status: 403 });
    assert.match(forbidden.detail!, /development, preview/);
    const unconfirmed = await run('production', 'purge-cache', {}, { status: 428 });
    assert.match(unconfirmed.detail!, /"production"/);
    await run('production', 'purge-cache', { confirm: 'staging' }, { status: 428 });
    assert.equal((await s.api(`${envBase(app, 'development')}/actions/no-such-action/runs`, { method: 'POST', json: {} })).status, 404);
    const after = (await json<{ items: ActionRun[] }>(await s.api(`/api/v1/applications/${app}/runs`))).items.length;
    assert.equal(after, before, 'nothing was recorded as a run');
  });

  test('a resource operation touches only the application\'s own data: purge-cache leaves another application\'s keys', async () => {
    await createApp(s, 'other', { template: 'quick-service', addons: [{ addon: 'redis', name: 'cache' }] });
    assert.equal((await json<{ ok: boolean }>(await s.api('/api/v1/applications/other/environments/development/apply', { method: 'POST' }))).ok, true);
    const urlOf = async (a: string, env: string) => {
      const vars = await json<{ containers: Record<string, Record<string, string>> }>(await s.api(`/api/v1/applications/${a}/environments/${env}/variables?reveal=true`));
      return vars.containers.web!.REDIS_URL!;
    };
    const mine = await resourcePrefix(s, app, 'production');
    const theirs = await resourcePrefix(s, 'other', 'development');
    const r1 = new Redis(await urlOf(app, 'production'), { lazyConnect: true });
    const r2 = new Redis(await urlOf('other', 'development'), { lazyConnect: true });
    try {
      for (let i = 0; i < 30; i++) await r1.set(`${mine}k${i}`, 'v');
      await r1.set(`${mine}session:1`, 'v');
      for (let i = 0; i < 10; i++) await r2.set(`${theirs}k${i}`, 'v');
      const stats = await run('production', 'stats');
      assert.equal(stats.status, 'succeeded', stats.error ?? '');
      const partial = await run('production', 'purge-cache', { confirm: 'production', params: { pattern: 'session:*' } });
      assert.equal(partial.status, 'succeeded', partial.error ?? '');
      assert.equal(await r1.exists(`${mine}session:1`), 0);
      assert.equal(await r1.exists(`${mine}k0`), 1, 'outside the pattern');
      const all = await run('production', 'purge-cache', { confirm: 'production' });
      assert.equal(all.status, 'succeeded', all.error ?? '');
      for (let i = 0; i < 30; i++) assert.equal(await r1.exists(`${mine}k${i}`), 0);
      for (let i = 0; i < 10; i++) assert.equal(await r2.exists(`${theirs}k${i}`), 1, 'the other application\'s keys survive');
    } finally {
      r1.disconnect();
      r2.disconnect();
    }
  });

  test('the sample add-ons\' operations run through actions: postgres vacuum-analyze and reindex, and a purge-queue that names no queue is refused', async () => {
    await createApp(s, 'pgapp', { template: 'quick-service', addons: [{ addon: 'postgres', name: 'db' }, { addon: 'amqp', name: 'events' }] });
    assert.equal((await json<{ ok: boolean }>(await s.api('/api/v1/applications/pgapp/environments/development/apply', { method: 'POST' }))).ok, true);
    const runOn = async (action: string, params: Record<string, unknown> = {}) =>
      json<ActionRun>(await s.api(`/api/v1/applications/pgapp/environments/development/actions/${action}/runs?wait=true`, { method: 'POST', json: { params } }), 201);
    const vacuum = await runOn('vacuum-analyze');
    assert.equal(vacuum.status, 'succeeded', vacuum.error ?? '');
    const reindex = await runOn('reindex');
    assert.equal(reindex.status, 'succeeded', reindex.error ?? '');
    const purge = await runOn('purge-queue');
    assert.equal(purge.status, 'failed');
    assert.match(purge.error!, /queue|all/);
    const purgeAll = await runOn('purge-queue', { all: true });
    assert.equal(purgeAll.status, 'succeeded', purgeAll.error ?? '');
  });

  test('timeouts are enforced, runs can be cancelled, and two runs of one action wait for each other', async () => {
    const timedOut = await run('development', 'slow-request');
    assert.equal(timedOut.status, 'timed-out');
    assert.match(timedOut.error!, /timed out after 1 s/);

    const long = await run('development', 'wait', { params: { ms: 5000 } }, { wait: false });
    await new Promise((r) => setTimeout(r, 300));
    const cancelled = await json<ActionRun>(await s.api(`/api/v1/runs/${long.id}/cancel`, { method: 'POST' }), 200);
    assert.equal(cancelled.status, 'cancelled');
    assert.match(cancelled.error!, /cancelled by user:default\/admin/);
    assert.ok(cancelled.durationMs! < 3000);
    assert.equal((await s.api(`/api/v1/runs/${long.id}/cancel`, { method: 'POST' })).status, 409, 'an ended run cannot be cancelled');

    const first = await run('development', 'wait', { params: { ms: 600 } }, { wait: false });
    const second = await run('development', 'wait', { params: { ms: 100 } }, { wait: false });
    assert.equal(second.status, 'queued');
    const done2 = await s.services.actions.wait(second.id);
    const done1 = await s.services.actions.wait(first.id);
    assert.equal(done1.status, 'succeeded');
    assert.equal(done2.status, 'succeeded');
    assert.ok(new Date(done2.started_at!).getTime() >= new Date(done1.finished_at!).getTime(), 'the second started after the first ended');

    // a queued run is cancelled at once, without waiting for the one ahead of it
    const ahead = await run('development', 'wait', { params: { ms: 1500 } }, { wait: false });
    const queued = await run('development', 'wait', { params: { ms: 100 } }, { wait: false });
    const t0 = Date.now();
    const dropped = await json<ActionRun>(await s.api(`/api/v1/runs/${queued.id}/cancel`, { method: 'POST' }), 200);
    assert.equal(dropped.status, 'cancelled');
    assert.ok(Date.now() - t0 < 1000, `cancelled in ${Date.now() - t0} ms`);
    assert.equal((await s.services.actions.wait(ahead.id)).status, 'succeeded');
    assert.equal((await s.services.actions.wait(queued.id)).status, 'cancelled', 'and it never ran');
    assert.equal((await s.services.actions.wait(queued.id)).started_at, null);
  });

  test('lifecycle actions: scale and restart deploy again; rollback releases the previous deployment', async () => {
    const scaled = await run('development', 'scale', { params: { replicas: 2 } });
    assert.equal(scaled.status, 'succeeded', scaled.error ?? '');
    const st = await json<{ released: { number: number; processes: unknown[] } }>(await s.api(`${envBase(app, 'development')}/status`));
    assert.equal(st.released.processes.length, 2);
    const restarted = await run('development', 'restart');
    assert.equal(restarted.status, 'succeeded', restarted.error ?? '');
    const after = await json<{ released: { number: number; processes: unknown[] } }>(await s.api(`${envBase(app, 'development')}/status`));
    assert.equal(after.released.number, st.released.number + 1);
    assert.equal(after.released.processes.length, 2, 'the scale is kept');
    const rolled = await run('development', 'rollback');
    assert.equal(rolled.status, 'succeeded', rolled.error ?? '');
    assert.equal((await json<{ released: { number: number } }>(await s.api(`${envBase(app, 'development')}/status`))).released.number, st.released.number);
    assert.equal((await viaRouter(s.routerUrl, `${app}-development.localhost`)).status, 200);
  });

  test('a lifecycle action never runs during a deployment of its environment: it waits for it', async () => {
    await json(await s.api(`${envBase(app, 'development')}/config`, { method: 'PATCH', json: { set: { SLOW_START: '1200' } } }), 200);
    const slow = s.api(`${envBase(app, 'development')}/deployments`, { method: 'POST', json: { release: true } });
    await new Promise((r) => setTimeout(r, 200));
    const restarted = await run('development', 'restart');
    assert.equal(restarted.status, 'succeeded', restarted.error ?? '');
    const deployed = await json<{ number: number; finishedAt: string }>(await slow, 201);
    const list = await json<{ items: { number: number; createdAt: string; finishedAt: string }[] }>(await s.api(`${envBase(app, 'development')}/deployments`));
    const byRestart = list.items.find((d) => d.number === deployed.number + 1)!;
    assert.ok(byRestart, 'the restart deployed after the slow deployment');
    assert.ok(Date.parse(byRestart.createdAt) >= Date.parse(deployed.finishedAt), `${byRestart.createdAt} >= ${deployed.finishedAt}`);
    await json(await s.api(`${envBase(app, 'development')}/config`, { method: 'PATCH', json: { unset: ['SLOW_START'] } }), 200);
  });

  test('roles: a member of the owning team may run developer actions; others may not; admin actions need an admin', async () => {
    await json(await s.api('/api/v1/users', { method: 'POST', json: { name: 'dana' } }), 201);
    await json(await s.api('/api/v1/users', { method: 'POST', json: { name: 'eve' } }), 201);
    const team = await s.api('/api/v1/teams/team-a');
    await json(await s.api('/api/v1/teams/team-a', { method: 'PATCH', headers: { 'if-match': team.headers.get('etag')! }, json: { members: ['dana'] } }), 200);
    const tokenOf = async (user: string) => (await json<z.infer<typeof CreatedTokenSchema>>(await s.api(`/api/v1/users/${user}/tokens`, { method: 'POST', json: { name: 'actions' } }), 201)).token;
    const dana = await tokenOf('dana');
    const eve = await tokenOf('eve');
    const ok = await run('development', 'smoke-test', {}, { token: dana });
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.createdBy, 'user:default/dana');
    const no = await run('development', 'smoke-test', {}, { token: eve, status: 403 });
    assert.match(no.detail!, /"action\.run" is needed for team:default\/team-a in development environments/);
    // eve may not touch dana's run at all (no action.run for team-a); dana may, but it has ended
    assert.equal((await s.api(`/api/v1/runs/${ok.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${eve}` } })).status, 403);
    assert.equal((await s.api(`/api/v1/runs/${ok.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${dana}` } })).status, 409, 'ended');
    // a member of the owning team is a developer in development, staging and preview only: production needs a deployer binding
    assert.match((await run('production', 'smoke-test', { }, { token: dana, status: 403 })).detail!, /"action\.run" is needed for team:default\/team-a in production environments/);
    assert.equal((await s.api('/api/v1/audit', { headers: { authorization: `Bearer ${dana}` } })).status, 403);
  });

  test('every run, and every refusal, lands in the audit log, whose hash chain detects tampering', async () => {
    const { items } = await json<{ items: { actor: string; action: string; target: string; outcome: string; details: Record<string, unknown> }[] }>(await s.api(`/api/v1/audit?targetPrefix=${encodeURIComponent(`application:default/${app}/`)}&limit=1000`));
    const outcomes = new Set(items.map((e) => `${e.target.split('/').slice(-1)[0]}:${e.outcome}`));
    for (const o of ['migrate:started', 'migrate:succeeded', 'migrate:failed', 'seed:denied', 'purge-cache:denied', 'slow-request:timed-out', 'wait:cancelled', 'smoke-test:denied']) assert.ok(outcomes.has(o), `${o} in ${[...outcomes].join(', ')}`);
    assert.doesNotMatch(JSON.stringify(items), /tok-secret-123456/);
    const count = Number((await s.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    assert.ok(count > 10);
    assert.deepEqual(await json(await s.api('/api/v1/audit/verify')), { ok: true, checked: count, brokenAt: null });
    const victim = await s.store.db.selectFrom('audit_events').select('id').orderBy('id').offset(2).limit(1).executeTakeFirstOrThrow();
    await s.store.db.updateTable('audit_events').set({ outcome: 'succeeded', actor: 'user:default/someone-else' }).where('id', '=', victim.id).execute();
    const broken = await json<{ ok: boolean; brokenAt: number }>(await s.api('/api/v1/audit/verify'));
    assert.equal(broken.ok, false);
    assert.equal(broken.brokenAt, Number(victim.id));
  });
});

/** The key prefix of an application's Redis resource (its ACL user may only use keys under it). */
async function resourcePrefix(s: TestServer, app: string, env: string): Promise<string> {
  const cache = (await json<{ items: Resource[] }>(await s.api(`/api/v1/applications/${app}/environments/${env}/resources?reveal=true`))).items.find((x) => x.name === 'cache')!;
  return String(cache.outputs.prefix);
}
