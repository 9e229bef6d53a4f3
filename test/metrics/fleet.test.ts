/**
 * Fleet upgrade progress at /metrics, after a real upgrade on a real server: while it is paused, the
 * upgrades not finished by status and their applications by state are what the store holds (the
 * same figures as the upgrade's own counts); once it finished, nothing is left in flight and the
 * applications it finished are counted by outcome (one pinned at its turn is skipped).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Upgrade } from '../../src/contracts/fleet.ts';
import { json } from '../deployments/helpers.ts';
import { fleetPlatform, V2, type FleetPlatform } from '../fleet/platform.ts';
import { createApp, FINAL, plan, short, startUpgrade, waitUpgrade } from '../fleet/support.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/** The value of one sample of the Prometheus text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const got = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('fleet upgrade progress at /metrics', { timeout: 180_000 }, () => {
  let s: TestServer;
  let platform: FleetPlatform;
  const APPS = ['m-a', 'm-b', 'm-c', 'm-d'];
  const scrape = async () => {
    const res = await s.api('/metrics');
    assert.equal(res.status, 200);
    return res.text();
  };

  before(async () => {
    platform = fleetPlatform();
    s = await startTestServer({ platform: platform.dir });
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    // not deployed: each upgrades quickly (its new volume provisioned, nothing to redeploy)
    for (const name of APPS) await createApp(s, name, ['development']);
    platform.write('svc-2.0.0.yaml', V2);
    assert.equal((await s.api('/api/v1/platform/sync', { method: 'POST' })).status, 200);
  });
  after(async () => {
    await s?.services.fleet.idle();
    await s?.close();
    platform?.remove();
  });

  test('the series are declared, with their help', async () => {
    const text = await scrape();
    for (const [name, type] of [['pave_fleet_upgrades', 'gauge'], ['pave_fleet_upgrade_applications', 'gauge'], ['pave_fleet_upgrade_applications_total', 'counter']]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
      assert.match(text, new RegExp(`^# HELP ${name} .+`, 'm'), name);
    }
    // no upgrade yet: every status and state at 0
    for (const status of ['running', 'pausing', 'paused', 'cancelling']) assert.equal(sample(text, 'pave_fleet_upgrades', { status }), 0, status);
    for (const state of ['pending', 'upgrading', 'upgraded', 'failed', 'skipped']) assert.equal(sample(text, 'pave_fleet_upgrade_applications', { state }), 0, state);
  });

  test('a paused upgrade, then the same upgrade finished, as /metrics says', async () => {
    const before0 = await scrape();
    const counted = (text: string, outcome: string) => (sample(text, 'pave_fleet_upgrade_applications_total', { outcome }) ?? 0) - (sample(before0, 'pave_fleet_upgrade_applications_total', { outcome }) ?? 0);
    const p = await plan(s, { name: 'svc', version: '2.0.0' });
    assert.equal(p.applications.length, APPS.length);
    const u = await startUpgrade(s, { plan: p.id, canarySize: 0, waveSize: 1, concurrency: 1 });
    await json<Upgrade>(await s.api(`/api/v1/fleet/upgrades/${u.id}/pause`, { method: 'POST' }), 200);
    const paused = await waitUpgrade(s, u.id, (x) => x.status === 'paused', 'it is paused');
    assert.ok(paused.counts.pending >= 2, JSON.stringify(paused.counts));

    let text = await scrape();
    assert.equal(sample(text, 'pave_fleet_upgrades', { status: 'paused' }), 1);
    assert.equal(sample(text, 'pave_fleet_upgrades', { status: 'running' }), 0);
    assert.equal(sample(text, 'pave_fleet_upgrade_applications', { state: 'pending' }), paused.counts.pending);
    assert.equal(sample(text, 'pave_fleet_upgrade_applications', { state: 'upgraded' }), paused.counts.upgraded);
    assert.equal(sample(text, 'pave_fleet_upgrade_applications', { state: 'upgrading' }), 0);
    assert.equal(counted(text, 'upgraded'), paused.counts.upgraded);

    // one of the pending applications is pinned meanwhile: it is skipped at its turn
    const pinned = paused.applications.find((a) => a.state === 'pending')!;
    assert.equal((await s.api(`/api/v1/applications/${short(pinned.application)}/pins`, { method: 'POST', json: { name: 'svc', reason: 'holding it for the metrics test' } })).status, 201);
    await json<Upgrade>(await s.api(`/api/v1/fleet/upgrades/${u.id}/resume`, { method: 'POST' }), 200);
    const done = await waitUpgrade(s, u.id, (x) => FINAL.includes(x.status), 'it ends');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.applications.map((a) => [a.application, a.state, a.error])));
    assert.deepEqual([done.counts.upgraded, done.counts.skipped, done.counts.failed], [APPS.length - 1, 1, 0]);

    text = await scrape();
    for (const status of ['running', 'pausing', 'paused', 'cancelling']) assert.equal(sample(text, 'pave_fleet_upgrades', { status }), 0, status);
    assert.equal(sample(text, 'pave_fleet_upgrade_applications', { state: 'pending' }), 0);
    assert.equal(sample(text, 'pave_fleet_upgrade_applications', { state: 'upgraded' }), 0, 'a finished upgrade is no longer counted');
    assert.equal(counted(text, 'upgraded'), APPS.length - 1);
    assert.equal(counted(text, 'skipped'), 1);
    assert.equal(counted(text, 'failed'), 0);
    // the jobs that ran it (their end is recorded just after the upgrade's)
    await s.services.fleet.idle();
    const jobs = await s.services.jobs.list({ kind: 'fleet.upgrade', limit: 10 });
    assert.deepEqual(jobs.map((j) => [j.subject, j.state]), [[`fleet-upgrade:${u.id}`, 'succeeded'], [`fleet-upgrade:${u.id}`, 'succeeded']], 'one job before the pause, one after the resume');
  });
});
