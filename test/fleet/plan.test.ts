/**
 * Fleet view, pins and upgrade plans through the API, on a real server with real resources (volumes
 * provisioned by the volume driver): the plan's diff (inputs, workload, add-ons, resources, actions),
 * the reasons applications are left out (pinned, a new required input without default, a policy
 * that would deny), and that a plan changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FleetPlan, FleetView, Pin, FleetApplication } from '../../src/contracts/fleet.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { json } from '../deployments/helpers.ts';
import { BLOCK_POLICY, fleetPlatform, SCRATCH_11, V2, V3, type FleetPlatform } from './platform.ts';

describe('fleet view, pins and plans', { timeout: 120_000 }, () => {
  let s: TestServer;
  let platform: FleetPlatform;
  const create = async (name: string, extra: Record<string, unknown> = {}) =>
    json(await s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'team-a', template: 'svc', templateVersion: '1.0.0', ...extra } }), 201);
  const plan = async (body: Record<string, unknown>, status = 201) => json<FleetPlan>(await s.api('/api/v1/fleet/plans', { method: 'POST', json: body }), status);

  before(async () => {
    platform = fleetPlatform();
    s = await startTestServer({ platform: platform.dir });
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-b' } }), 201);
    await create('alpha', { labels: { tier: 'gold' } });
    await create('beta', { environments: [{ name: 'development', type: 'development' }, { name: 'production', type: 'production' }] });
    await create('gamma', { owner: 'team-b', addons: [{ addon: 'scratch', name: 'tmp' }] });
    await create('blocked-one');
    await create('pinned-one');
    // the environments' resources exist (gamma's scratch volume)
    for (const [app, env] of [['gamma', 'development']] as const) assert.equal((await s.api(`/api/v1/applications/${app}/environments/${env}/apply`, { method: 'POST' })).status, 200);
    platform.write('svc-2.0.0.yaml', V2);
    platform.write('svc-3.0.0.yaml', V3);
    platform.write('scratch-1.1.0.yaml', SCRATCH_11);
    platform.write('policy.yaml', BLOCK_POLICY);
    assert.equal((await s.api('/api/v1/platform/sync', { method: 'POST' })).status, 200);
  });
  after(async () => {
    await s?.close();
    platform?.remove();
  });

  test('pins: the owner pins with a reason; it shows in the fleet view and the application\'s history', async () => {
    const bad = await s.api('/api/v1/applications/pinned-one/pins', { method: 'POST', json: { name: 'svc', reason: '  ' } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errors: { path: string }[] }).errors[0]!.path, 'body.reason');
    const notUsed = await s.api('/api/v1/applications/pinned-one/pins', { method: 'POST', json: { kind: 'addon', name: 'scratch', reason: 'x' } });
    assert.equal(notUsed.status, 409);
    const p = await json<Pin>(await s.api('/api/v1/applications/pinned-one/pins', { method: 'POST', json: { name: 'svc', reason: 'waiting for the Q3 freeze' } }), 201);
    assert.deepEqual({ application: p.application, kind: p.kind, name: p.name, version: p.version, reason: p.reason }, { application: 'application:default/pinned-one', kind: 'template', name: 'svc', version: '1.0.0', reason: 'waiting for the Q3 freeze' });
    const listed = await json<{ items: Pin[] }>(await s.api('/api/v1/applications/pinned-one/pins'), 200);
    assert.equal(listed.items.length, 1);
    const history = await json<{ pins: Pin[] }>(await s.api('/api/v1/applications/pinned-one/upgrades'), 200);
    assert.equal(history.pins[0]!.reason, 'waiting for the Q3 freeze');
  });

  test('fleet view: applications and environments per version, the latest, how many are behind, the pins', async () => {
    const view = await json<FleetView>(await s.api('/api/v1/fleet'), 200);
    const svc = view.items.find((i) => i.kind === 'template' && i.name === 'svc')!;
    assert.equal(svc.latest, '3.0.0');
    assert.equal(svc.applications, 5);
    assert.equal(svc.environments, 6);
    assert.equal(svc.behind, 5);
    assert.deepEqual(svc.versions.map((v) => [v.version, v.applications, v.environments, v.pinned, v.latest]), [['3.0.0', 0, 0, 0, true], ['2.0.0', 0, 0, 0, false], ['1.0.0', 5, 6, 1, false]]);
    assert.deepEqual(svc.pins.map((p) => [p.application, p.reason]), [['application:default/pinned-one', 'waiting for the Q3 freeze']]);
    const scratch = view.items.find((i) => i.kind === 'addon' && i.name === 'scratch')!;
    assert.deepEqual([scratch.latest, scratch.applications, scratch.behind], ['1.1.0', 1, 1]);
    const apps = await json<{ items: FleetApplication[] }>(await s.api('/api/v1/fleet/applications?kind=template&name=svc&team=team-b&behind=true'), 200);
    assert.deepEqual(apps.items.map((a) => [a.name, a.version, a.latest, a.behind]), [['gamma', '1.0.0', '3.0.0', true]]);
    const labelled = await json<{ items: FleetApplication[] }>(await s.api('/api/v1/fleet/applications?name=svc&label=tier=gold'), 200);
    assert.deepEqual(labelled.items.map((a) => a.name), ['alpha']);
  });

  test('plan: per application the diff of inputs, workload, resources and actions; nothing is changed', async () => {
    const p = await plan({ name: 'svc', version: '2.0.0' });
    assert.equal(p.version, '2.0.0');
    assert.deepEqual(p.applications.map((a) => a.name), ['alpha', 'beta', 'gamma']);
    const alpha = p.applications.find((a) => a.name === 'alpha')!;
    assert.deepEqual([alpha.from, alpha.to, alpha.customWorkload], ['1.0.0', '2.0.0', false]);
    // inputs: the removed one, the new one with its default
    assert.deepEqual(alpha.inputs.map((i) => [i.name, i.change, i.from, i.to, i.required, i.why]), [
      ['legacy', 'removed', 'old', undefined, false, 'no longer an input of the new version'],
      ['tier', 'added', undefined, 'standard', false, 'new input, its default'],
    ]);
    // workload: a variable changed, two added, a resource declared
    const w = Object.fromEntries(alpha.workload.map((c) => [c.path, [c.change, c.from, c.to]]));
    assert.deepEqual(w['containers.web.variables.GREETING'], ['changed', 'v1', 'v1 on 2.0']);
    assert.deepEqual(w['containers.web.variables.FAIL_HEALTH'], ['added', undefined, '0']);
    assert.deepEqual(w['containers.web.variables.VOLUME'], ['added', undefined, '${resources.data.source}']);
    assert.deepEqual(w['resources.data'], ['added', undefined, { type: 'volume' }]);
    // resources: the volume is created in each environment
    assert.deepEqual(alpha.resources.map((r) => [r.environment, r.resource, r.type, r.action]), [['development', 'data', 'volume', 'create']]);
    const beta = p.applications.find((a) => a.name === 'beta')!;
    assert.deepEqual(beta.resources.map((r) => [r.environment, r.resource, r.action]), [['development', 'data', 'create'], ['production', 'data', 'create']]);
    // actions: smoke removed, warmup added, migrate changed (its timeout)
    assert.deepEqual(alpha.actions, { added: ['warmup'], removed: ['smoke'], changed: ['migrate'] });
    // gamma's add-on stays, its variable is still injected
    const gamma = p.applications.find((a) => a.name === 'gamma')!;
    assert.equal(gamma.workload.some((c) => c.path.startsWith('variables.')), false);
    // excluded, with the reasons
    const ex: Record<string, [string, string]> = Object.fromEntries(p.excluded.map((e) => [e.name, [e.code, e.reason]]));
    assert.deepEqual(ex['pinned-one'], ['pinned', 'pinned: waiting for the Q3 freeze']);
    assert.equal(ex['blocked-one']![0], 'policy-denied');
    assert.match(ex['blocked-one']![1], /no-volumes-for-blocked: applications named blocked-\* get no volume/);
    // nothing changed
    const stored = await s.store.db.selectFrom('applications').select('template_version').execute();
    assert.ok(stored.every((r) => r.template_version === '1.0.0'));
    assert.equal((await s.store.db.selectFrom('resources').select('id').where('type', '=', 'volume').where('name', '=', 'data').execute()).length, 0);
    const again = await json<FleetPlan>(await s.api(`/api/v1/fleet/plans/${p.id}`), 200);
    assert.deepEqual(again.applications, p.applications);
  });

  test('plan: a new required input without default leaves applications out, unless the plan gives it', async () => {
    const p = await plan({ name: 'svc', version: '3.0.0', selector: { teams: ['team-a'] } });
    assert.equal(p.applications.length, 0);
    const alpha = p.excluded.find((e) => e.name === 'alpha')!;
    assert.equal(alpha.code, 'required-input');
    assert.match(alpha.reason, /new required input region has no default/);
    const given = await plan({ name: 'svc', version: '3.0.0', selector: { applications: ['alpha'] }, inputs: { region: 'eu-west' } });
    assert.deepEqual(given.applications[0]!.inputs.find((i) => i.name === 'region'), { name: 'region', change: 'added', to: 'eu-west', required: true, why: 'new input, given in the plan' });
    const bad = await s.api('/api/v1/fleet/plans', { method: 'POST', json: { name: 'svc', version: '3.0.0', inputs: { colour: 'red' } } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errors: { path: string }[] }).errors[0]!.path, 'body.inputs.colour');
    const unknown = await s.api('/api/v1/fleet/plans', { method: 'POST', json: { name: 'svc', version: '9.9.9' } });
    assert.equal(unknown.status, 400);
  });

  test('plan: selectors narrow by team, environment type, label and version', async () => {
    assert.deepEqual((await plan({ name: 'svc', version: '2.0.0', selector: { environmentTypes: ['production'] } })).applications.map((a) => a.name), ['beta']);
    assert.deepEqual((await plan({ name: 'svc', version: '2.0.0', selector: { labels: { tier: 'gold' } } })).applications.map((a) => a.name), ['alpha']);
    assert.deepEqual((await plan({ name: 'svc', version: '2.0.0', selector: { teams: ['team-b'], versions: ['1.x'] } })).applications.map((a) => a.name), ['gamma']);
    assert.equal((await plan({ name: 'svc', version: '2.0.0', selector: { versions: ['2.x'] } })).applications.length, 0);
  });

  test('plan of an add-on: its instances move to the new version, the variable it injects changes', async () => {
    const p = await plan({ kind: 'addon', name: 'scratch' });
    assert.equal(p.version, '1.1.0');
    assert.deepEqual(p.applications.map((a) => [a.name, a.from, a.to, a.instances]), [['gamma', '1.0.0', '1.1.0', ['tmp']]]);
    const g = p.applications[0]!;
    assert.deepEqual(g.addons, [{ instance: 'tmp', addon: 'scratch', change: 'upgraded', from: '1.0.0', to: '1.1.0' }]);
    assert.deepEqual(g.workload, [{ path: 'variables.SCRATCH_KIND', change: 'added', to: 'local' }]);
    assert.deepEqual(g.resources, []);
    // applied: the instance moves, the application's template stays
    const started = await json<{ id: string }>(await s.api('/api/v1/fleet/upgrades', { method: 'POST', json: { plan: p.id } }), 201);
    await s.services.fleet.idle();
    const done = await json<{ status: string; applications: { state: string }[] }>(await s.api(`/api/v1/fleet/upgrades/${started.id}`), 200);
    assert.deepEqual([done.status, done.applications.map((a) => a.state)], ['succeeded', ['upgraded']]);
    const gp = await json<{ template: { version: string }; addons: { name: string; version: string }[] }>(await s.api('/api/v1/applications/gamma/golden-path'), 200);
    assert.deepEqual([gp.template.version, gp.addons.map((a) => [a.name, a.version])], ['1.0.0', [['tmp', '1.1.0']]]);
    const vars = await json<{ containers: Record<string, Record<string, string>> }>(await s.api('/api/v1/applications/gamma/environments/development/variables'), 200);
    assert.equal(vars.containers.web?.SCRATCH_KIND, 'local');
  });

  test('after unpinning, the application is planned again', async () => {
    const res = await s.api('/api/v1/applications/pinned-one/pins/template/svc', { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal((await s.api('/api/v1/applications/pinned-one/pins/template/svc', { method: 'DELETE' })).status, 404);
    const p = await plan({ name: 'svc', version: '2.0.0', selector: { applications: ['pinned-one'] } });
    assert.deepEqual(p.applications.map((a) => a.name), ['pinned-one']);
  });
});
