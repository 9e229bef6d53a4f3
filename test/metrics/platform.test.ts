/**
 * The platform's own Prometheus metrics, after real work on a real server: provisioning (a volume
 * add-on), deployments that become healthy or fail, releases and rollbacks, action runs; and the
 * delivery metrics of that same real history, with a git build's commit time as the start of its
 * lead time. The series are process-wide, so each check compares with what /metrics said before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ActionRun } from '../../src/contracts/actions.ts';
import type { Build, Deployment } from '../../src/contracts/deployments.ts';
import type { DeliveryReport } from '../../src/contracts/metrics.ts';
import { GIT_IDENTITY, sh } from '../../src/builds/testing.ts';
import { HELLO, createApp, deploy, envBase, json } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/** The value of one sample of the Prometheus text; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const got = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('platform metrics at /metrics', { timeout: 180_000 }, () => {
  let s: TestServer;
  let before0: string;
  let repo: string;
  const app = 'metered';
  const scrape = async () => {
    const res = await s.api('/metrics');
    assert.equal(res.status, 200);
    return res.text();
  };
  const delta = (now: string, name: string, labels: Record<string, string>) => sample(now, name, labels) - sample(before0, name, labels);

  before(async () => {
    s = await startTestServer();
    before0 = await scrape();
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    await createApp(s, app, { addons: [{ addon: 'volume', name: 'data' }] });
    // the hello fixture as a git repository, committed two hours ago
    repo = mkdtempSync(path.join(os.tmpdir(), 'pave-metrics-git-'));
    await sh(repo, 'cp', ['-r', `${HELLO}/.`, repo]);
    const committed = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const git = (...args: string[]) => sh(repo, 'git', args, { ...GIT_IDENTITY, GIT_AUTHOR_DATE: committed, GIT_COMMITTER_DATE: committed });
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'hello');
  });
  after(async () => {
    await s?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  test('the series are declared, with their help', async () => {
    const text = await scrape();
    for (const [name, type] of [['pave_resource_provision_seconds', 'histogram'], ['pave_deployments_total', 'counter'], ['pave_releases_total', 'counter'], ['pave_action_runs_total', 'counter']]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
      assert.match(text, new RegExp(`^# HELP ${name} .+`, 'm'), name);
    }
    // the job queue's series are tested with real servers in test/ha/takeover.test.ts; fleet upgrade progress after a real upgrade in test/metrics/fleet.test.ts
    for (const [name, type] of [['pave_job_runs_total', 'counter'], ['pave_job_takeovers_total', 'counter'], ['pave_job_queue_depth', 'gauge'], ['pave_job_oldest_queued_seconds', 'gauge'], ['pave_fleet_upgrades', 'gauge'], ['pave_fleet_upgrade_applications', 'gauge'], ['pave_fleet_upgrade_applications_total', 'counter']]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    }
    // no upgrade on this server: nothing in flight
    assert.match(text, /^pave_fleet_upgrades\{status="running"\} 0$/m);
  });

  test('a git build records its commit time', async () => {
    const b = await json<Build>(await s.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { git: { url: `file://${repo}`, ref: 'main' } } }), 201);
    assert.equal(b.status, 'succeeded', b.error ?? '');
    const row = await s.store.db.selectFrom('builds').select(['commit_time', 'created_at']).where('id', '=', b.id).executeTakeFirstOrThrow();
    assert.ok(row.commit_time, 'commit time recorded');
    const age = Date.now() - new Date(row.commit_time).getTime();
    assert.ok(age > 2 * 3_600_000 - 5_000 && age < 2 * 3_600_000 + 120_000, `committed ${age} ms ago`);
    // a folder build knows no commit time
    const folder = await json<Build>(await s.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { path: HELLO } }), 201);
    const frow = await s.store.db.selectFrom('builds').select('commit_time').where('id', '=', folder.id).executeTakeFirstOrThrow();
    assert.equal(frow.commit_time, null);
  });

  test('provisioning, a healthy deployment and its release are counted', async () => {
    const d = await deploy(s, app, 'development', { build: 1, release: true });
    assert.equal(d.released, true);
    const text = await scrape();
    assert.equal(delta(text, 'pave_resource_provision_seconds_count', { type: 'volume', outcome: 'succeeded' }), 1);
    assert.ok(sample(text, 'pave_resource_provision_seconds_sum', { type: 'volume', outcome: 'succeeded' }) > 0);
    assert.equal(delta(text, 'pave_resource_provision_seconds_bucket', { type: 'volume', outcome: 'succeeded', le: '+Inf' }), 1);
    assert.equal(delta(text, 'pave_deployments_total', { outcome: 'healthy' }), 1);
    assert.equal(delta(text, 'pave_releases_total', { kind: 'release', outcome: 'succeeded' }), 1);
  });

  test('a failed deployment, a second release and a rollback are counted', async () => {
    await json(await s.api(`${envBase(app, 'development')}/config`, { method: 'PATCH', json: { set: { CRASH: '1' } } }), 200);
    const failed = await json<Deployment>(await s.api(`${envBase(app, 'development')}/deployments`, { method: 'POST', json: { build: 2, release: true } }), 201);
    assert.equal(failed.status, 'failed');
    await json(await s.api(`${envBase(app, 'development')}/config`, { method: 'PATCH', json: { unset: ['CRASH'] } }), 200);
    await deploy(s, app, 'development', { build: 2, release: true });
    await json(await s.api(`${envBase(app, 'development')}/rollback`, { method: 'POST', json: {} }), 200);
    const text = await scrape();
    assert.equal(delta(text, 'pave_deployments_total', { outcome: 'failed' }), 1);
    assert.equal(delta(text, 'pave_deployments_total', { outcome: 'healthy' }), 2);
    assert.equal(delta(text, 'pave_releases_total', { kind: 'release', outcome: 'succeeded' }), 2);
    assert.equal(delta(text, 'pave_releases_total', { kind: 'rollback', outcome: 'succeeded' }), 1);
    // the volume exists: later deployments do not provision it again
    assert.equal(delta(text, 'pave_resource_provision_seconds_count', { type: 'volume', outcome: 'succeeded' }), 1);
  });

  test('action runs are counted by kind and outcome', async () => {
    const run = async (params: Record<string, unknown>) =>
      json<ActionRun>(await s.api(`${envBase(app, 'development')}/actions/smoke-test/runs?wait=true`, { method: 'POST', json: { params } }), 201);
    assert.equal((await run({ path: '/healthz' })).status, 'succeeded');
    assert.equal((await run({ path: '/status/500' })).status, 'failed');
    const text = await scrape();
    assert.equal(delta(text, 'pave_action_runs_total', { kind: 'http', outcome: 'succeeded' }), 1);
    assert.equal(delta(text, 'pave_action_runs_total', { kind: 'http', outcome: 'failed' }), 1);
  });

  test('a queued run that is cancelled is counted once', async () => {
    const start = async (path: string) => json<ActionRun>(await s.api(`${envBase(app, 'development')}/actions/smoke-test/runs`, { method: 'POST', json: { params: { path } } }), 201);
    const first = await start('/slow?ms=1500');
    const queued = await start('/healthz');
    assert.equal(queued.status, 'queued');
    assert.equal((await json<ActionRun>(await s.api(`/api/v1/runs/${queued.id}/cancel`, { method: 'POST' }), 200)).status, 'cancelled');
    // the first run ends; the queued one's turn comes, and it ends at once (cancelled before it started)
    const ended = async () => ['succeeded', 'failed', 'cancelled', 'timed-out'].includes((await json<ActionRun>(await s.api(`/api/v1/runs/${first.id}`), 200)).status);
    for (let i = 0; i < 200 && !(await ended()); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const text = await scrape();
    assert.equal(delta(text, 'pave_action_runs_total', { kind: 'http', outcome: 'cancelled' }), 1);
    assert.equal(delta(text, 'pave_action_runs_total', { kind: 'http', outcome: 'succeeded' }), 2);
  });

  test('the delivery metrics of that real history', async () => {
    const r = await json<DeliveryReport>(await s.api(`/api/v1/metrics/delivery?application=${app}&environmentType=development&since=1d&bucket=day`), 200);
    // changes: build 1 released, build 2 released; the rollback to build 1's deployment; the crash was a failed deployment between them
    assert.deepEqual(r.deploymentFrequency, { releases: 2, rollbacks: 1, perDay: 2, perWeek: 14 });
    assert.deepEqual(r.changeFailureRate, { changes: 2, failed: 2, rolledBack: 1, failedDeployment: 1, rate: 1 });
    assert.equal(r.timeToRestore.restored, 2);
    // build 1 (git) is measured from its commit two hours ago; build 2 (folder) from its creation, moments ago
    assert.equal(r.leadTime.measured, 2);
    assert.equal(r.leadTime.fromCommit, 1);
    const [a, b] = [r.leadTime.medianSeconds!, r.leadTime.p90Seconds!];
    assert.ok(b > 6000 && b < 2 * 3600 + 300, `p90 ${b} s: about the git build's two hours`);
    assert.ok(a > 3600 && a < 3600 + 300, `median ${a} s: halfway between about two hours and about nothing`);
    assert.equal(r.series.reduce((n, p) => n + p.releases, 0), 2);
  });
});
