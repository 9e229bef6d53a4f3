/**
 * Fleet upgrades on a real server with real applications on the local runtime, behind the router:
 * waves (canary first; applications on development only before those with staging, before those
 * with production; each application's environments in that order), redeployments of the released
 * build with the new workload, a failure that stops the rollout and leaves the failed application
 * serving its previous version, the failure budget, pause, resume and cancel, the audit log and
 * each application's history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApplicationUpgrade, Upgrade } from '../../src/contracts/fleet.ts';
import type { Deployment } from '../../src/contracts/deployments.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { json, viaRouter } from '../deployments/helpers.ts';
import { fleetPlatform, V2, V3, type FleetPlatform } from './platform.ts';
import { createApp, deployEverywhere, FINAL, follow, plan, short, startUpgrade, waitUpgrade } from './support.ts';

describe('fleet upgrades in waves', { timeout: 240_000 }, () => {
  let s: TestServer;
  let platform: FleetPlatform;
  const APPS: [string, string[], Record<string, unknown>?][] = [
    ['a-dev', ['development']],
    ['b-stg', ['development', 'staging']],
    ['c-prod', ['development', 'production']],
    ['d-fail', ['development'], { inputs: { failOnUpgrade: '1' } }],
  ];
  const templateVersion = async (app: string) => (await json<{ template: { version: string } }>(await s.api(`/api/v1/applications/${app}/golden-path`), 200)).template.version;
  const served = async (app: string, env: string) => viaRouter(s.routerUrl, `${app}-${env}.localhost`);

  before(async () => {
    platform = fleetPlatform();
    s = await startTestServer({ platform: platform.dir, deployments: { keepWarm: 1, healthTimeout: 5 } });
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    for (const [name, envs, extra] of APPS) {
      await createApp(s, name, envs, extra);
      await deployEverywhere(s, name, envs);
    }
    platform.write('svc-2.0.0.yaml', V2);
    platform.write('svc-3.0.0.yaml', V3);
    assert.equal((await s.api('/api/v1/platform/sync', { method: 'POST' })).status, 200);
  });
  after(async () => {
    await s?.services.fleet.idle();
    await s?.close();
    platform?.remove();
  });

  let first: Upgrade;

  test('canary first, then waves by environment type; a failure stops the rollout and the failed application keeps serving its old version', async () => {
    const before_ = (await served('d-fail', 'development')).body;
    assert.match(before_, /^v1 from /);
    const p = await plan(s, { name: 'svc', version: '2.0.0' });
    assert.deepEqual(p.applications.map((a) => short(a.application)), ['a-dev', 'b-stg', 'c-prod', 'd-fail']);
    const started = await startUpgrade(s, { plan: p.id, canarySize: 1, waveSize: 2, concurrency: 2, failureBudget: 0 });
    assert.deepEqual(started.waves.map((w) => [w.canary, w.applications.map(short)]), [[true, ['a-dev']], [false, ['d-fail', 'b-stg']], [false, ['c-prod']]]);
    const again = await s.api('/api/v1/fleet/upgrades', { method: 'POST', json: { plan: p.id } });
    assert.equal(again.status, 409, 'a plan is applied once');

    const { events, result } = await follow(s, started.id);
    first = result;
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /d-fail/);
    const state = Object.fromEntries(result.applications.map((a) => [short(a.application), a.state]));
    assert.deepEqual(state, { 'a-dev': 'upgraded', 'd-fail': 'failed', 'b-stg': 'upgraded', 'c-prod': 'cancelled' });
    assert.deepEqual(result.counts, { total: 4, pending: 0, running: 0, upgraded: 2, failed: 1, skipped: 0, cancelled: 1 });

    // the canary went alone, before anything else started
    const startedOrder = events.filter((e) => e.type === 'application.started').map((e) => short(e.application!));
    assert.equal(startedOrder[0], 'a-dev');
    assert.deepEqual(new Set(startedOrder.slice(1)), new Set(['d-fail', 'b-stg']));
    const canaryDone = events.findIndex((e) => e.type === 'application.upgraded' && short(e.application!) === 'a-dev');
    const secondStart = events.findIndex((e) => e.type === 'application.started' && short(e.application!) !== 'a-dev');
    assert.ok(canaryDone >= 0 && canaryDone < secondStart, 'the canary wave finished before the next wave started');
    assert.ok(!events.some((e) => e.type === 'application.started' && short(e.application!) === 'c-prod'), 'the production wave never started');
    // b-stg: development redeployed before staging
    const bSteps = events.filter((e) => e.type === 'application.step' && short(e.application ?? '') === 'b-stg' && /deploying/.test(e.message)).map((e) => e.environment);
    assert.deepEqual(bSteps, ['development', 'staging']);

    // the failed application: back on 1.0.0, its previous deployment still serving, no volume left
    const d = result.applications.find((a) => short(a.application) === 'd-fail')!;
    assert.match(d.error ?? '', /development: deployment \d+ failed its health check/);
    assert.equal(d.environments[0]!.state, 'failed');
    assert.equal(await templateVersion('d-fail'), '1.0.0');
    const after_ = await served('d-fail', 'development');
    assert.equal(after_.status, 200);
    assert.equal(after_.body, before_, 'the same deployment serves, as before');
    const resources = await json<{ items: { name: string }[] }>(await s.api('/api/v1/applications/d-fail/environments/development/resources'), 200);
    assert.ok(!resources.items.some((r) => r.name === 'data'), 'the volume the upgrade made was deleted again');
    assert.equal(await templateVersion('c-prod'), '1.0.0', 'not started: still on 1.0.0');

    // the upgraded ones serve the new workload, with the same build
    assert.equal(await templateVersion('a-dev'), '2.0.0');
    assert.match((await served('a-dev', 'development')).body, /^v1 on 2\.0 from /);
    assert.match((await served('b-stg', 'staging')).body, /^v1 on 2\.0 from /);
    const bRes = await json<{ items: { name: string; status: string }[] }>(await s.api('/api/v1/applications/b-stg/environments/staging/resources'), 200);
    assert.equal(bRes.items.find((r) => r.name === 'data')?.status, 'ready');
    // the deployment records name the upgrade
    const deployments = await json<Deployment[] | { items: Deployment[] }>(await s.api('/api/v1/applications/a-dev/environments/development/deployments'), 200);
    const list = Array.isArray(deployments) ? deployments : deployments.items;
    assert.match(list[0]!.createdBy, new RegExp(`fleet upgrade ${started.id.slice(0, 8)}: svc 1\\.0\\.0 → 2\\.0\\.0`));
    assert.equal(list[0]!.released, true);
  });

  test('each application\'s history shows the upgrade; every step is audited', async () => {
    const a = await json<{ items: ApplicationUpgrade[] }>(await s.api('/api/v1/applications/a-dev/upgrades'), 200);
    assert.deepEqual(a.items.map((i) => [i.upgrade, i.from, i.to, i.state]), [[first.id, '1.0.0', '2.0.0', 'upgraded']]);
    const d = await json<{ items: ApplicationUpgrade[] }>(await s.api('/api/v1/applications/d-fail/upgrades'), 200);
    assert.equal(d.items[0]!.state, 'failed');
    const audit = await json<{ items: { action: string; target: string; outcome: string; details: Record<string, unknown> }[] }>(await s.api('/api/v1/audit?action=fleet.upgrade.application'), 200);
    const outcomes = Object.fromEntries(audit.items.map((e) => [short(e.target), e.outcome]));
    assert.deepEqual(outcomes, { 'a-dev': 'succeeded', 'b-stg': 'succeeded', 'd-fail': 'failed' });
    const started = await json<{ items: { outcome: string }[] }>(await s.api('/api/v1/audit?action=startFleetUpgrade'), 200);
    assert.deepEqual(started.items.map((e) => e.outcome), ['failed', 'succeeded'], 'the start, and the refused second start of the same plan');
    const finished = await json<{ items: { target: string; outcome: string }[] }>(await s.api('/api/v1/audit?action=fleet.upgrade.finished'), 200);
    assert.equal(finished.items[0]!.target, `fleet-upgrade:${first.id}`);
  });

  test('failure budget: one failure is tolerated, the rollout completes; production after development', async () => {
    const p = await plan(s, { name: 'svc', version: '2.0.0' });
    assert.deepEqual(p.applications.map((a) => short(a.application)), ['c-prod', 'd-fail']);
    const u = await startUpgrade(s, { plan: p.id, canarySize: 0, waveSize: 5, concurrency: 1, failureBudget: 1 });
    assert.deepEqual(u.waves.map((w) => w.applications.map(short)), [['d-fail', 'c-prod']]);
    const done = await waitUpgrade(s, u.id, (x) => FINAL.includes(x.status), 'the upgrade ends');
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.applications.map((a) => [short(a.application), a.state]), [['d-fail', 'failed'], ['c-prod', 'upgraded']]);
    const c = done.applications.find((a) => short(a.application) === 'c-prod')!;
    assert.deepEqual(c.environments.map((e) => [e.name, e.state]), [['development', 'done'], ['production', 'done']]);
    assert.match((await served('c-prod', 'production')).body, /^v1 on 2\.0 from /);
    assert.equal((await served('d-fail', 'development')).status, 200);
  });

  test('pause, resume and cancel: applications in flight finish, no other starts; none is left half-upgraded', async () => {
    const p = await plan(s, { name: 'svc', version: '3.0.0', inputs: { region: 'eu' }, selector: { applications: ['a-dev', 'b-stg', 'c-prod'] } });
    assert.equal(p.applications.length, 3);
    const u = await startUpgrade(s, { plan: p.id, canarySize: 0, waveSize: 1, concurrency: 1 });
    const pausing = await json<Upgrade>(await s.api(`/api/v1/fleet/upgrades/${u.id}/pause`, { method: 'POST' }), 200);
    assert.ok(['pausing', 'paused'].includes(pausing.status), pausing.status);
    const paused = await waitUpgrade(s, u.id, (x) => x.status === 'paused', 'it is paused');
    assert.equal(paused.counts.running, 0);
    assert.ok(paused.counts.pending >= 2, JSON.stringify(paused.counts));
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual((await waitUpgrade(s, u.id, () => true, 'read')).counts, paused.counts, 'nothing moves while paused');
    assert.equal((await s.api(`/api/v1/fleet/upgrades/${u.id}/pause`, { method: 'POST' })).status, 200, 'pausing again changes nothing');

    await json<Upgrade>(await s.api(`/api/v1/fleet/upgrades/${u.id}/resume`, { method: 'POST' }), 200);
    await waitUpgrade(s, u.id, (x) => x.counts.running > 0 || x.counts.upgraded > paused.counts.upgraded, 'an application is started again');
    await json<Upgrade>(await s.api(`/api/v1/fleet/upgrades/${u.id}/cancel`, { method: 'POST' }), 200);
    const done = await waitUpgrade(s, u.id, (x) => FINAL.includes(x.status), 'it ends');
    assert.equal(done.status, 'cancelled');
    assert.equal(done.counts.running, 0);
    assert.ok(done.counts.cancelled >= 1, JSON.stringify(done.counts));
    assert.ok(done.counts.upgraded >= paused.counts.upgraded + 1, JSON.stringify(done.counts));
    for (const a of done.applications) {
      const version = await templateVersion(short(a.application));
      assert.equal(version, a.state === 'upgraded' ? '3.0.0' : '2.0.0', `${a.application} is ${a.state} and on ${version}`);
      const envs = a.environments.map((e) => e.name);
      for (const env of envs.length ? envs : ['development']) assert.equal((await served(short(a.application), env)).status, 200);
    }
    assert.equal((await s.api(`/api/v1/fleet/upgrades/${u.id}/resume`, { method: 'POST' })).status, 409, 'a cancelled upgrade does not resume');
    const list = await json<{ items: { id: string; status: string }[] }>(await s.api('/api/v1/fleet/upgrades'), 200);
    assert.deepEqual(list.items.slice(0, 3).map((i) => i.status), ['cancelled', 'completed', 'failed']);
  });
});
