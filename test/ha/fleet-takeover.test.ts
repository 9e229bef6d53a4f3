import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import type { FleetPlan, Upgrade, UpgradeEvent } from '../../src/contracts/fleet.ts';
import { createDb, type Db } from '../../src/store/db.ts';
import { call, json, startCluster, until, type Cluster } from './helpers.ts';

// Three real Pave servers on one PostgreSQL, with a short job lease. A fleet upgrade is a job
// (`fleet.upgrade`) that one server claims. Template node-service 2.0.0 adds a `slow` resource (4 s
// to provision, by test/ha/fixtures/provisioner.mjs), so each application takes a few seconds to
// upgrade. The server running the job is killed (kill -9) while an application is half-upgraded:
// another server takes the job over within the lease, puts that application back, tries it again,
// and finishes the upgrade; every application ends on 2.0.0, each upgraded exactly once.

const LEASE = 3;
const POLL = 0.25;
const APPS = ['f1', 'f2', 'f3', 'f4'];
let c: Cluster;
let db: Db;

before(async () => {
  c = await startCluster(3, { PAVE_JOB_LEASE: String(LEASE), PAVE_JOB_POLL_INTERVAL: String(POLL) }, (platform) => {
    const file = path.join(platform, 'templates/node-service.yaml');
    const t = YAML.parse(readFileSync(file, 'utf8')) as { metadata: { version: string }; spec: { workload: { resources?: Record<string, unknown> } } };
    t.metadata.version = '2.0.0';
    t.spec.workload.resources = { ...t.spec.workload.resources, cache: { type: 'slow' } };
    writeFileSync(path.join(platform, 'templates/node-service-2.yaml'), YAML.stringify(t));
  });
  db = createDb(c.db.url, 2);
  const s = c.servers[0]!;
  assert.equal((await call(s, '/api/v1/teams', { method: 'POST', json: { name: 'ops' } })).status, 201);
  for (const name of APPS) {
    await json(await call(s, '/api/v1/applications', { method: 'POST', json: { name, owner: 'ops', template: 'node-service', templateVersion: '1.0.0', environments: [{ name: 'development', type: 'development' }] } }), 201);
  }
});
after(async () => {
  await db?.destroy();
  await c?.close();
});

const provisions = () => readFileSync(c.runLog, 'utf8').split('\n').filter(Boolean);

test('the server running a fleet upgrade is killed mid-way: another takes its job over and finishes it, each application upgraded once', async (t) => {
  const s0 = c.servers[0]!;
  const plan = await json<FleetPlan>(await call(s0, '/api/v1/fleet/plans', { method: 'POST', json: { name: 'node-service', version: '2.0.0' } }), 201);
  assert.deepEqual(plan.applications.map((a) => a.name).sort(), APPS);
  const started = await json<Upgrade>(await call(s0, '/api/v1/fleet/upgrades', { method: 'POST', json: { plan: plan.id, canarySize: 0, waveSize: 10, concurrency: 1 } }), 201);

  // one job for the upgrade, claimed by one server
  const job = await until('the upgrade has a running job', async () =>
    db.selectFrom('jobs').selectAll().where('kind', '=', 'fleet.upgrade').where('concurrency_key', '=', `fleet.upgrade:${started.id}`).where('state', '=', 'running').executeTakeFirst());
  // a second application is half-upgraded (its slow resource being provisioned): kill the job's server now
  await until('the second application is being upgraded', async () => {
    const rows = await db.selectFrom('fleet_upgrade_apps').select(['ref', 'state']).where('upgrade_id', '=', started.id).execute();
    return rows.filter((r) => r.state === 'upgraded').length === 1 && rows.some((r) => r.state === 'upgrading') && provisions().length === 2;
  }, 60_000, 50);
  const holder = (await db.selectFrom('jobs').select(['locked_by', 'attempts']).where('id', '=', job.id).executeTakeFirstOrThrow());
  const pidOf = async (id: string) => (await db.selectFrom('servers').select('pid').where('id', '=', id).executeTakeFirstOrThrow()).pid;
  const pid = await pidOf(holder.locked_by!);
  const victim = c.servers.findIndex((s) => s.child.pid === pid);
  assert.ok(victim >= 0, `the job's server (pid ${pid}) is one of ours`);
  const half = await db.selectFrom('fleet_upgrade_apps').select(['ref', 'state']).where('upgrade_id', '=', started.id).where('state', '=', 'upgrading').execute();
  assert.equal(half.length, 1);
  const killedAt = Date.now();
  assert.equal(await c.servers[victim]!.stop('SIGKILL'), null);

  // another server takes the job over within the lease (plus polling and slack)
  const taken = await until('another server takes the job over', async () => {
    const r = await db.selectFrom('jobs').select(['locked_by', 'state', 'takeovers']).where('id', '=', job.id).executeTakeFirstOrThrow();
    return r.takeovers >= 1 && r.locked_by !== holder.locked_by ? r : undefined;
  }, 30_000, 100);
  const takeoverMs = Date.now() - killedAt;
  assert.ok(takeoverMs < (LEASE + 5) * 1000, `taken over after ${takeoverMs} ms`);
  t.diagnostic(`fleet.upgrade job taken over ${takeoverMs} ms after the kill (lease ${LEASE} s, poll ${POLL} s)`);
  const heir = await pidOf(taken.locked_by!);
  assert.ok(c.servers.some((s, i) => i !== victim && s.child.pid === heir), 'a live server holds it');
  const alive = c.servers.find((_, i) => i !== victim)!;

  const done = await until('the upgrade ends', async () => {
    const u = await json<Upgrade>(await call(alive, `/api/v1/fleet/upgrades/${started.id}`), 200);
    return ['succeeded', 'completed', 'failed', 'cancelled'].includes(u.status) ? u : undefined;
  }, 90_000, 200);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.applications.map((a) => [a.application, a.state, a.error])));
  assert.deepEqual(done.applications.map((a) => a.state), APPS.map(() => 'upgraded'));
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'succeeded');
  assert.equal(row.takeovers, 1);
  assert.notEqual(row.locked_by, holder.locked_by);
  assert.equal(await db.selectFrom('jobs').select('id').where('kind', '=', 'fleet.upgrade').execute().then((r) => r.length), 1, 'one job for the upgrade');

  // every application on 2.0.0, none half-upgraded
  const apps = await db.selectFrom('applications as p').innerJoin('entities as e', 'e.id', 'p.entity_id').select(['e.name', 'p.template_version']).where('e.name', 'in', APPS).execute();
  assert.deepEqual(apps.map((a) => [a.name, a.template_version]).sort(), APPS.map((n) => [n, '2.0.0']));
  for (const name of APPS) {
    const res = await json<{ items: { name: string; status: string }[] }>(await call(alive, `/api/v1/applications/${name}/environments/development/resources`), 200);
    assert.equal(res.items.find((r) => r.name === 'cache')?.status, 'ready', `${name}'s new resource is ready`);
  }

  // each application upgraded exactly once; only the one in flight at the kill was tried twice (put back first)
  const events = (await json<{ items: UpgradeEvent[] }>(await call(alive, `/api/v1/fleet/upgrades/${started.id}/events?limit=1000`), 200)).items;
  const upgradedEvents = events.filter((e) => e.type === 'application.upgraded').map((e) => e.application);
  assert.deepEqual([...upgradedEvents].sort(), APPS.map((n) => `application:default/${n}`));
  const interrupted = events.filter((e) => e.type === 'upgrade.interrupted').map((e) => e.application);
  assert.deepEqual(interrupted, [half[0]!.ref]);
  for (const a of done.applications) assert.equal(a.attempts, a.application === half[0]!.ref ? 2 : 1, `${a.application}: ${a.attempts} attempt(s)`);
  // the slow resource: provisioned once per application, twice for the one whose provisioning the kill cut
  const counts = new Map<string, number>();
  for (const uid of provisions()) counts.set(uid, (counts.get(uid) ?? 0) + 1);
  for (const name of APPS) assert.equal(counts.get(`${name}.development.cache`), `application:default/${name}` === half[0]!.ref ? 2 : 1, `${name}: ${JSON.stringify([...counts])}`);

  // the job's events: claimed by one server, taken over by another, succeeded
  const jobEvents = await db.selectFrom('job_events').select(['type', 'server_id']).where('job_id', '=', job.id).orderBy('id').execute();
  const kinds = jobEvents.map((e) => e.type).filter((t) => t !== 'progress');
  assert.deepEqual(kinds, ['claimed', 'takeover', 'succeeded']);
  assert.ok(jobEvents.some((e) => e.type === 'progress'), 'the upgrade reports its events as the job\'s progress');

  // the metrics of any live server: nothing left in flight, the outcomes counted by the servers that did them
  const text = await (await call(alive, '/metrics')).text();
  assert.match(text, /^pave_fleet_upgrades\{status="running"\} 0$/m);
  assert.match(text, /^pave_fleet_upgrade_applications\{state="upgrading"\} 0$/m);
});
