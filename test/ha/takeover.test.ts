import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { ndjson } from '../../src/cli/golden-client.ts';
import type { JobDetail, JobEventView, JobPage, JobView, ServerList } from '../../src/contracts/jobs.ts';
import type { Resource } from '../../src/contracts/golden.ts';
import type { ActionRun } from '../../src/contracts/actions.ts';
import { JobQueue } from '../../src/jobs/queue.ts';
import { LOCAL_SERVICE_SECRETS } from '../../src/services.ts';
import { createDb, type Db } from '../../src/store/db.ts';
import { LOCAL_PG_URL } from '../support/postgres.ts';
import { call, cli, createApp, json, startCluster, until, type Cluster } from './helpers.ts';

// Three real Pave servers on one PostgreSQL, with a short job lease: jobs enqueued at once are each
// run by exactly one of them, and when the server running an apply is killed (kill -9) in the middle
// of it, another takes the job over within the lease and converges it.

const LEASE = 3;
const POLL = 0.25;
let c: Cluster;
let db: Db;
// an HTTP endpoint that answers only when told: what the template's `hang` action calls
const hung: http.ServerResponse[] = [];
const hangServer = http.createServer((_req, res) => void hung.push(res));
before(async () => {
  await new Promise<void>((r) => hangServer.listen(0, '127.0.0.1', r));
  const port = (hangServer.address() as AddressInfo).port;
  c = await startCluster(3, { PAVE_JOB_LEASE: String(LEASE), PAVE_JOB_POLL_INTERVAL: String(POLL) }, (platform) => {
    const file = path.join(platform, 'templates/node-service.yaml');
    const t = YAML.parse(readFileSync(file, 'utf8')) as { spec: { actions: unknown[] } };
    t.spec.actions.push({ id: 'hang', title: 'A request that takes long', confirm: 'never', timeout: '60s', run: { http: { method: 'GET', url: `http://127.0.0.1:${port}/hang` } } });
    writeFileSync(file, YAML.stringify(t));
  });
  db = createDb(c.db.url, 2);
  assert.equal((await call(c.servers[0]!, '/api/v1/teams', { method: 'POST', json: { name: 'ops' } })).status, 201);
  assert.equal((await call(c.servers[0]!, '/api/v1/platform/secrets/local-postgres-admin', { method: 'PUT', json: { value: LOCAL_SERVICE_SECRETS['local-postgres-admin'] } })).status, 204);
});
after(async () => {
  // the one database the takeover test made outside Pave's own, whatever happened
  if (c?.servers[1]) await call(c.servers[1], '/api/v1/applications/crashy', { method: 'DELETE' }).catch(() => undefined);
  await db?.destroy();
  await c?.close();
  for (const res of hung) res.destroy();
  hangServer.close();
});

const provisions = () => readFileSync(c.runLog, 'utf8').split('\n').filter(Boolean);

test('applies enqueued at once are each claimed and run by exactly one of three servers', async () => {
  const N = 12;
  const names = Array.from({ length: N }, (_, i) => `t${i}`);
  for (const name of names) await createApp(c.servers[i(name) % 3]!, name, { tick: { type: 'tick' } });
  const envs = await db.selectFrom('environments as e').innerJoin('entities as a', 'a.id', 'e.entity_id').select(['a.name', 'e.id']).where('e.name', '=', 'development').execute();
  // what a fleet upgrade's wave would do: many jobs in one transaction, for whichever servers are free
  const queue = new JobQueue(db);
  const jobs = await queue.enqueueMany(names.map((name) => ({
    kind: 'resources.apply', payload: { application: `application:default/${name}`, environment: 'development', refresh: false },
    key: `resources.apply:${envs.find((e) => e.name === name)!.id}`, subject: `application:default/${name}/development`, createdBy: 'user:default/admin',
  })));
  await until('every apply to end', async () => (await db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 60_000);

  const rows = await db.selectFrom('jobs').selectAll().where('id', 'in', jobs.map((j) => j.id)).execute();
  assert.ok(rows.every((r) => r.state === 'succeeded' && r.attempts === 1 && r.takeovers === 0), JSON.stringify(rows.map((r) => [r.subject, r.state, r.attempts, r.error])));
  assert.ok(rows.every((r) => (r.result as { ok: boolean }).ok));
  // one provision per application, by whichever server claimed its job
  assert.deepEqual(provisions().sort(), names.map((n) => `${n}.development.tick`).sort());
  const servers = new Set(rows.map((r) => r.locked_by));
  assert.ok(servers.size >= 2, `the work was shared (${servers.size} server(s) ran it)`);
  const claims = await db.selectFrom('job_events').select(['job_id']).where('type', '=', 'claimed').where('job_id', 'in', jobs.map((j) => j.id)).execute();
  assert.equal(claims.length, N, 'one claim per job');
  // any server reads the outcome
  const resources = await json<{ items: Resource[] }>(await call(c.servers[2]!, '/api/v1/applications/t5/environments/development/resources'), 200);
  assert.deepEqual(resources.items.map((r) => [r.name, r.status]), [['tick', 'ready']]);
  const page = await json<JobPage>(await call(c.servers[1]!, '/api/v1/jobs?kind=resources.apply&state=succeeded&limit=100'), 200);
  assert.equal(page.items.length, N);
});

function i(name: string): number {
  return Number(name.slice(1));
}

test('kill -9 of the server running an apply: another takes the job over within the lease and converges it; the progress streams on from another server', async (t) => {
  const [a, b, cc] = c.servers as [NonNullable<Cluster['servers'][0]>, NonNullable<Cluster['servers'][0]>, NonNullable<Cluster['servers'][0]>];
  await createApp(a, 'crashy', { db: { type: 'postgres' }, slow: { type: 'slow', params: { after: '${resources.db.host}' } } });
  const before = provisions().length;

  // The apply is asked of A, which runs it; B follows the job from the store.
  const res = await call(a, '/api/v1/applications/crashy/environments/development/apply', { method: 'POST', headers: { accept: 'application/x-ndjson' } });
  assert.equal(res.status, 200);
  const id = res.headers.get('x-pave-job')!;
  assert.ok(id);
  const lines: { event?: JobEventView; result?: JobView }[] = [];
  const follow = (async () => {
    const f = await call(b, `/api/v1/jobs/${id}/events?follow=true`, { headers: { accept: 'application/x-ndjson' } });
    assert.equal(f.status, 200);
    for await (const l of ndjson(f.body!)) lines.push(l as (typeof lines)[number]);
  })();
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('"resource":"slow","type":"slow","phase":"provisioning"')) {
    const { value, done } = await reader.read();
    assert.ok(!done, `A's stream ended before the slow resource started:\n${text}`);
    text += Buffer.from(value).toString();
  }
  assert.match(text, /"resource":"db","type":"postgres","phase":"ready"/, 'the stream is the same NDJSON as before: {"event": resource event} lines');
  const job = await json<JobDetail>(await call(b, `/api/v1/jobs/${id}`), 200);
  const servers = await json<ServerList>(await call(b, '/api/v1/servers'), 200);
  assert.equal(job.state, 'running');
  assert.equal(job.server, servers.items.find((s) => s.pid === a.child.pid)!.id, 'A, which took the request, runs the job');

  const killedAt = Date.now();
  await a.stop('SIGKILL');
  await reader.cancel().catch(() => undefined);

  const takeover = await until('another server to take the job over', async () => lines.find((l) => l.event?.type === 'takeover'), 20_000, 20);
  const delay = (Date.now() - killedAt) / 1000;
  // its last heartbeat was at most a third of the lease before the kill; the lease runs out, then the next poll claims it
  assert.ok(delay >= LEASE * (2 / 3) - 0.5, `taken over after ${delay} s: not before the lease ran out`);
  assert.ok(delay <= LEASE + POLL + 1.5, `taken over after ${delay} s: within lease (${LEASE} s) + poll (${POLL} s) + 1.5 s`);
  assert.equal((takeover.event!.data as { from: string }).from, job.server);
  t.diagnostic(`taken over ${delay.toFixed(2)} s after kill -9 (lease ${LEASE} s, poll ${POLL} s)`);

  await follow;
  const end = lines.at(-1)!.result!;
  assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
  assert.equal(end.attempts, 2);
  assert.equal(end.takeovers, 1);
  assert.deepEqual((end.result as { ok: boolean }).ok, true);
  // the taker ran the apply again from the start: the finished database is kept, the interrupted resource provisioned again
  const rerun = lines.filter((l) => l.event?.attempt === 2 && l.event.type === 'progress').map((l) => l.event!.data as { resource: string; phase: string });
  assert.deepEqual(rerun.map((e) => [e.resource, e.phase]), [['db', 'unchanged'], ['slow', 'provisioning'], ['slow', 'ready']]);

  const taker = servers.items.find((s) => s.id === end.server)!;
  const survivor = [b, cc].find((s) => s.child.pid === taker.pid)!;
  assert.ok(survivor, 'B or C took it over');
  const resources = await json<{ items: Resource[] }>(await call(survivor, '/api/v1/applications/crashy/environments/development/resources'), 200);
  assert.deepEqual(resources.items.map((r) => [r.name, r.status]), [['db', 'ready'], ['slow', 'ready']]);
  assert.deepEqual(provisions().slice(before), ['crashy.development.slow', 'crashy.development.slow'], 'the slow provisioner ran once before the kill and once after');
  const pgc = new pg.Client({ connectionString: LOCAL_PG_URL });
  await pgc.connect();
  const dbs = await pgc.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'pv_crashy_development_db_%'`);
  await pgc.end();
  assert.deepEqual(dbs.rows.map((r) => r.datname), [resources.items[0]!.outputs.database], 'one database, made before the kill, is the one in use');

  // the dead server is still on record, not live; the taker counted the takeover
  const after = await json<ServerList>(await call(survivor, '/api/v1/servers'), 200);
  assert.deepEqual(after.items.filter((s) => !s.live).map((s) => s.pid), [a.child.pid]);
  const metrics = await (await call(survivor, '/metrics')).text();
  assert.match(metrics, /^pave_job_takeovers_total\{kind="resources.apply"\} 1$/m);
  assert.match(metrics, /^pave_job_runs_total\{kind="resources.apply",outcome="succeeded"\} [1-9]\d*$/m);
  assert.match(metrics, /^pave_job_queue_depth\{kind="resources.apply",state="queued"\} 0$/m);

  // the CLI tells the story
  const shown = await cli(cc, ['jobs', 'show', id.slice(0, 8)]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /State:\s+succeeded/);
  assert.match(shown.stdout, /Attempts:\s+2 of at most 5, 1 takeover/);
  assert.match(shown.stdout, /#2 {2}taken over by server [0-9a-f]{8} from [0-9a-f]{8}, which stopped renewing its lease/);
  assert.match(shown.stdout, /#2 {2}slow \(slow\): ready/);
  const followed = await cli(b, ['jobs', 'follow', id, '-o', 'json']);
  assert.equal(followed.code, 0, followed.stderr);
  assert.deepEqual(followed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as JobEventView).type).filter((t) => t !== 'progress'), ['claimed', 'takeover', 'succeeded']);
});

test('a stalled server (SIGSTOP) loses its job: its late writes are fenced off, the taker waits for its lock and converges without provisioning twice', async (t) => {
  const [, b, cc] = c.servers as NonNullable<Cluster['servers'][0]>[];
  await createApp(b!, 'stally', { slow: { type: 'slow' } });
  const res = await call(b!, '/api/v1/applications/stally/environments/development/apply', { method: 'POST', headers: { accept: 'application/x-ndjson' } });
  const id = res.headers.get('x-pave-job')!;
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('"phase":"provisioning"')) {
    const { value, done } = await reader.read();
    assert.ok(!done, text);
    text += Buffer.from(value).toString();
  }
  void reader.cancel().catch(() => undefined);
  // B freezes with its database session open, holding the environment's apply lock; its provisioner runs on
  b!.child.kill('SIGSTOP');
  const events = async () => (await json<JobDetail>(await call(cc!, `/api/v1/jobs/${id}`), 200)).events;
  try {
    // C takes the job over once the lease ran out, finds the environment locked, and puts the job back for later
    await until('C to take over and find the lock held', async () => (await events()).some((e) => e.type === 'retry'), 20_000);
  } finally {
    b!.child.kill('SIGCONT');
  }
  const done = await until('the job to end', async () => {
    const j = await json<JobDetail>(await call(cc!, `/api/v1/jobs/${id}`), 200);
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  }, 30_000);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  const types = done.events.map((e) => `${e.attempt}:${e.type}`);
  t.diagnostic(types.join(' '));
  assert.ok(types.indexOf('2:takeover') > 0 && types.indexOf('2:retry') > types.indexOf('2:takeover'), types.join(' '));
  assert.ok(types.includes('1:lost'), 'B, resumed, found the job taken over');
  assert.equal(done.events.filter((e) => e.type === 'progress' && e.attempt === 1 && (e.data as { phase: string }).phase === 'ready').length, 0, 'what B did after it lost the job is not recorded as the job\'s progress');
  assert.deepEqual((done.result as { events: { resource: string; phase: string }[] }).events.map((e) => [e.resource, e.phase]), [['slow', 'unchanged']], 'the taker found the resource B finished');
  assert.equal(provisions().filter((l) => l === 'stally.development.slow').length, 1, 'provisioned once');
  const metrics = await (await call(b!, '/metrics')).text();
  assert.match(metrics, /^pave_job_runs_total\{kind="resources.apply",outcome="lost"\} 1$/m);
});

test('kill -9 of the server running an action: another server marks the run failed within the lease (an action is not run twice)', async (t) => {
  const [, b, cc] = c.servers as NonNullable<Cluster['servers'][0]>[];
  await createApp(cc!, 'acty', {});
  const run = await json<ActionRun>(await call(cc!, '/api/v1/applications/acty/environments/development/actions/hang/runs', { method: 'POST', json: {} }), 201);
  await until('the action to call out', async () => hung.length > 0);
  const job = (await json<JobPage>(await call(b!, '/api/v1/jobs?kind=actions.run&state=running'), 200)).items.find((j) => j.subject === `run:${run.id}`)!;
  assert.ok(job, 'the run holds a job while it runs');
  const killedAt = Date.now();
  await cc!.stop('SIGKILL');
  const failed = await until('the run to be failed', async () => {
    const r = await json<ActionRun>(await call(b!, `/api/v1/runs/${run.id}`), 200);
    return r.status === 'failed' ? r : undefined;
  }, 20_000, 50);
  const delay = (Date.now() - killedAt) / 1000;
  t.diagnostic(`action run failed by another server ${delay.toFixed(2)} s after kill -9`);
  assert.ok(delay <= LEASE + POLL + 1.5, `after ${delay} s`);
  assert.match(failed.error ?? '', /the Pave server running it stopped before it ended \(an action is not run again on another server\)/);
  // the run is recorded first, then the job ends
  const ended = await until('the job to end', async () => {
    const j = await json<JobDetail>(await call(b!, `/api/v1/jobs/${job.id}`), 200);
    return j.state === 'running' ? undefined : j;
  });
  assert.equal(ended.state, 'failed');
  assert.equal(ended.takeovers, 1);
  assert.equal(hung.length, 1, 'the request was not made again');
  const audit = await json<{ items: { action: string; outcome: string; details: Record<string, unknown> }[] }>(await call(b!, '/api/v1/audit?action=action.run&limit=10'), 200);
  assert.ok(audit.items.some((e) => e.outcome === 'failed' && e.details.run === run.id), 'audited');
});

test('the queue gauges report what waits: a job no server runs grows old in pave_job_oldest_queued_seconds', async () => {
  const s = c.servers[1]!;
  const queue = new JobQueue(db);
  const waiting = await queue.enqueue('test.unhandled', { plan: 'none' }, { createdBy: 'user:default/admin', runAt: new Date(Date.now() - 90_000) });
  try {
    const metrics = await (await call(s, '/metrics')).text();
    assert.match(metrics, /^pave_job_queue_depth\{kind="test.unhandled",state="queued"\} 1$/m);
    const age = Number(/^pave_job_oldest_queued_seconds\{kind="test.unhandled"\} ([\d.]+)$/m.exec(metrics)?.[1]);
    assert.ok(age >= 90 && age < 200, `oldest queued: ${age} s`);
    const list = await cli(s, ['jobs', 'list', '--state', 'queued']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${waiting.id.slice(0, 8)}\\s+test\\.unhandled\\s+-\\s+queued`));
  } finally {
    await db.deleteFrom('jobs').where('id', '=', waiting.id).execute();
  }
});
