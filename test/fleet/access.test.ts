/**
 * Who may do what with the fleet, through the API with real users and tokens: everyone reads the
 * fleet view; a developer's plan holds only their team's applications; only platform engineers and
 * admins start (pause, resume, cancel) upgrades; an application's pins are its owning team's. And the
 * fleet's operations are in the OpenAPI document, which stays valid.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FleetPlan, FleetView } from '../../src/contracts/fleet.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { json } from '../deployments/helpers.ts';
import { fleetPlatform, V2, type FleetPlatform } from './platform.ts';

describe('fleet access', { timeout: 60_000 }, () => {
  let s: TestServer;
  let platform: FleetPlatform;
  const tokens: Record<string, string> = {};
  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });

  before(async () => {
    platform = fleetPlatform({ 'svc-2.0.0.yaml': V2 });
    s = await startTestServer({ platform: platform.dir });
    for (const u of ['pe-user', 'dev-user', 'other-user']) await json(await s.api('/api/v1/users', { method: 'POST', json: { name: u } }), 201);
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'payments', members: ['dev-user'] } }), 201);
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'search', members: ['other-user'] } }), 201);
    await json(await s.api('/api/v1/role-bindings', { method: 'POST', json: { subject: 'user:pe-user', role: 'platform-engineer' } }), 201);
    for (const u of ['pe', 'dev', 'other']) tokens[u] = (await json<{ token: string }>(await s.api(`/api/v1/users/${u}-user/tokens`, { method: 'POST', json: { name: 'fleet' } }), 201)).token;
    for (const [name, owner] of [['checkout', 'payments'], ['finder', 'search']]) {
      await json(await s.api('/api/v1/applications', { method: 'POST', json: { name, owner, template: 'svc', templateVersion: '1.0.0' } }), 201);
    }
  });
  after(async () => {
    await s?.services.fleet.idle();
    await s?.close();
    platform?.remove();
  });

  test('everyone reads the fleet view; a developer plans for their own team\'s applications only', async () => {
    const view = await json<FleetView>(await s.api('/api/v1/fleet', { headers: as('other') }), 200);
    assert.equal(view.items.find((i) => i.name === 'svc')!.applications, 2);
    const mine = await json<FleetPlan>(await s.api('/api/v1/fleet/plans', { method: 'POST', json: { name: 'svc' }, headers: as('dev') }), 201);
    assert.deepEqual(mine.applications.map((a) => a.name), ['checkout']);
    const all = await json<FleetPlan>(await s.api('/api/v1/fleet/plans', { method: 'POST', json: { name: 'svc' }, headers: as('pe') }), 201);
    assert.deepEqual(all.applications.map((a) => a.name), ['checkout', 'finder']);
    // another team reads the plan: without the applications it may not read
    const seen = await json<FleetPlan>(await s.api(`/api/v1/fleet/plans/${all.id}`, { headers: as('other') }), 200);
    assert.deepEqual(seen.applications.map((a) => a.name), ['finder']);

    const refused = await s.api('/api/v1/fleet/upgrades', { method: 'POST', json: { plan: all.id }, headers: as('dev') });
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { detail: string }).detail, /platform\.write/);
    const started = await json<{ id: string; status: string }>(await s.api('/api/v1/fleet/upgrades', { method: 'POST', json: { plan: all.id, canarySize: 0 }, headers: as('pe') }), 201);
    assert.equal((await s.api(`/api/v1/fleet/upgrades/${started.id}/cancel`, { method: 'POST', headers: as('dev') })).status, 403);
    assert.equal((await s.api(`/api/v1/fleet/upgrades/${started.id}`, { headers: as('dev') })).status, 200, 'progress is readable by everyone');
    await s.services.fleet.idle();
  });

  test('pins are the owning team\'s', async () => {
    assert.equal((await s.api('/api/v1/applications/finder/pins', { method: 'POST', json: { name: 'svc', reason: 'mine' }, headers: as('dev') })).status, 403);
    assert.equal((await s.api('/api/v1/applications/finder/pins', { method: 'POST', json: { name: 'svc', reason: 'ours' }, headers: as('other') })).status, 201);
    assert.equal((await s.api('/api/v1/applications/finder/pins/template/svc', { method: 'DELETE', headers: as('dev') })).status, 403);
    assert.equal((await s.api('/api/v1/applications/finder/upgrades', { headers: as('dev') })).status, 403);
    assert.equal((await s.api('/api/v1/applications/finder/upgrades', { headers: as('other') })).status, 200);
  });

  test('the fleet operations are documented in a valid OpenAPI document', async () => {
    const doc = (await (await s.api('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, { operationId: string; 'x-pave-permission'?: unknown }>> };
    const ops = Object.values(doc.paths).flatMap((m) => Object.values(m).map((o) => o.operationId));
    for (const id of ['getFleet', 'listFleetApplications', 'createFleetPlan', 'getFleetPlan', 'startFleetUpgrade', 'listFleetUpgrades', 'getFleetUpgrade', 'listFleetUpgradeEvents', 'pauseFleetUpgrade', 'resumeFleetUpgrade', 'cancelFleetUpgrade', 'listApplicationUpgrades', 'listApplicationPins', 'pinApplication', 'unpinApplication']) {
      assert.ok(ops.includes(id), `${id} is documented`);
    }
    const res = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    assert.equal(res.valid, true, JSON.stringify(res.errors));
  });
});
