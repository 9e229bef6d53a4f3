import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Resource } from '../../src/contracts/golden.ts';
import type { JobDetail, JobPage } from '../../src/contracts/jobs.ts';
import type { ApplyResult } from '../../src/resources/types.ts';
import { call, createApp, json, startCluster, until, type Cluster } from './helpers.ts';

// Three real Pave servers on one PostgreSQL with a short lease: creating an environment provisions it
// through a resources.apply job, and deleting one is a resources.delete job; when the server running
// either is killed (kill -9) in the middle, another takes the job over and finishes it.

const LEASE = 3;
const POLL = 0.25;
let c: Cluster;
type Server = NonNullable<Cluster['servers'][0]>;

before(async () => {
  c = await startCluster(3, { PAVE_JOB_LEASE: String(LEASE), PAVE_JOB_POLL_INTERVAL: String(POLL) });
  assert.equal((await call(c.servers[0]!, '/api/v1/teams', { method: 'POST', json: { name: 'ops' } })).status, 201);
});
after(async () => {
  await c?.close();
});

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const provisions = () => lines(c.runLog);
const deletes = () => lines(`${c.runLog}.deletes`);
const count = (all: string[], uid: string) => all.filter((l) => l === uid).length;

async function jobOf(s: Server, kind: string, subject: string): Promise<JobDetail> {
  const page = await json<JobPage>(await call(s, `/api/v1/jobs?kind=${kind}&limit=100`), 200);
  const job = page.items.find((j) => j.subject === subject);
  assert.ok(job, `a ${kind} job for ${subject}`);
  return json<JobDetail>(await call(s, `/api/v1/jobs/${job.id}`), 200);
}

async function ended(s: Server, id: string): Promise<JobDetail> {
  return until(`job ${id} to end`, async () => {
    const j = await json<JobDetail>(await call(s, `/api/v1/jobs/${id}`), 200);
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  }, 40_000, 50);
}

/** Seconds from the kill to the takeover event, as the job recorded it. */
function takeoverDelay(job: JobDetail, killedAt: number): number {
  const ev = job.events.find((e) => e.type === 'takeover');
  assert.ok(ev, `the job was taken over: ${job.events.map((e) => e.type).join(' ')}`);
  return (Date.parse(ev.at) - killedAt) / 1000;
}

test('kill -9 of the server provisioning a new environment: another takes the resources.apply job over; the environment ends ready, each resource provisioned at most once more', async (t) => {
  const [a, b] = c.servers as Server[];
  await createApp(a!, 'envy', { slow: { type: 'slow' }, tick: { type: 'tick' } });
  await json(await call(a!, '/api/v1/applications/envy/environments/development/apply', { method: 'POST' }), 200);
  const before = provisions().length;

  // created on A with progress, as `pave envs create` asks
  const res = await call(a!, '/api/v1/applications/envy/environments', { method: 'POST', json: { name: 'qa', type: 'staging' }, headers: { accept: 'application/x-ndjson' } });
  assert.equal(res.status, 201, '201 as before, then the stream');
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const id = res.headers.get('x-pave-job');
  assert.ok(id, 'the provisioning job is named in x-pave-job');
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('slow (slow): provisioning')) {
    const { value, done } = await reader.read();
    assert.ok(!done, `A's stream ended before the slow resource started:\n${text}`);
    text += Buffer.from(value).toString();
  }
  // the same lines as before provisioning was a job
  assert.equal(text.split('\n')[0], JSON.stringify({ event: { step: 'resources', message: 'provisioning the resources of qa' } }));
  const running = await json<JobDetail>(await call(b!, `/api/v1/jobs/${id}`), 200);
  assert.equal(running.kind, 'resources.apply');
  assert.equal(running.subject, 'application:default/envy/qa');
  assert.equal(running.state, 'running');

  const killedAt = Date.now();
  await a!.stop('SIGKILL');
  await reader.cancel().catch(() => undefined);

  const done = await ended(b!, id);
  const delay = takeoverDelay(done, killedAt);
  t.diagnostic(`environment creation: provisioning taken over ${delay.toFixed(2)} s after kill -9 (lease ${LEASE} s, poll ${POLL} s); done ${((Date.parse(done.finishedAt!) - killedAt) / 1000).toFixed(2)} s after it`);
  assert.ok(delay <= LEASE + POLL + 1.5, `taken over after ${delay} s: within lease + poll + 1.5 s`);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.takeovers, 1);
  assert.equal((done.result as ApplyResult).ok, true);

  const resources = await json<{ items: Resource[] }>(await call(b!, '/api/v1/applications/envy/environments/qa/resources'), 200);
  assert.deepEqual(resources.items.map((r) => [r.name, r.status]).sort(), [['slow', 'ready'], ['tick', 'ready']]);
  const made = provisions().slice(before);
  assert.ok(count(made, 'envy.qa.slow') >= 1 && count(made, 'envy.qa.slow') <= 2, `slow provisioned ${count(made, 'envy.qa.slow')} times`);
  assert.ok(count(made, 'envy.qa.tick') >= 1 && count(made, 'envy.qa.tick') <= 2, `tick provisioned ${count(made, 'envy.qa.tick')} times`);
  assert.deepEqual(made.filter((l) => !l.startsWith('envy.qa.')), [], 'nothing else was provisioned');
  const envs = await json<{ items: { name: string; status: string }[] }>(await call(b!, '/api/v1/applications/envy/environments'), 200);
  assert.deepEqual(envs.items.map((e) => [e.name, e.status]), [['development', 'active'], ['qa', 'active']]);

  // without a stream: the golden path, 201, and the job's id
  const plain = await call(b!, '/api/v1/applications/envy/environments', { method: 'POST', json: { name: 'qa2', type: 'staging' } });
  const body = await json<{ environments: { name: string }[] }>(plain, 201);
  assert.deepEqual(body.environments.map((e) => e.name), ['development', 'qa', 'qa2']);
  const job2 = await json<JobDetail>(await call(b!, `/api/v1/jobs/${plain.headers.get('x-pave-job')}`), 200);
  assert.equal(job2.state, 'succeeded');
  assert.equal(job2.subject, 'application:default/envy/qa2');
});

test('kill -9 of the server deleting an environment: another takes the resources.delete job over; the environment and its resources end gone, nothing left in the driver', async (t) => {
  const [, b, cc] = c.servers as Server[];
  await createApp(b!, 'goner', { sticky: { type: 'sticky' }, other: { type: 'tick' } });
  assert.equal((await json<ApplyResult>(await call(b!, '/api/v1/applications/goner/environments/development/apply', { method: 'POST' }), 200)).ok, true);
  assert.deepEqual(c.live().filter((u) => u.startsWith('goner.')), ['goner.development.other', 'goner.development.sticky']);

  // asked of B; the answer would come when the job ended
  const asked = call(b!, '/api/v1/applications/goner/environments/development', { method: 'DELETE' }).then((r) => r.status, () => 'connection lost');
  await until('the sticky resource to be deleting', async () => deletes().includes('goner.development.sticky'), 20_000, 20);
  const job = await jobOf(cc!, 'resources.delete', 'application:default/goner/development');
  assert.equal(job.state, 'running');
  // marked: nothing applies into it while it is being deleted
  const envs = await json<{ items: { name: string; status: string }[] }>(await call(cc!, '/api/v1/applications/goner/environments'), 200);
  assert.deepEqual(envs.items.map((e) => [e.name, e.status]), [['development', 'deleting']]);
  const refused = await call(cc!, '/api/v1/applications/goner/environments/development/apply', { method: 'POST' });
  assert.equal(refused.status, 409, await refused.text());

  const killedAt = Date.now();
  await b!.stop('SIGKILL');
  assert.equal(await asked, 'connection lost');

  const done = await ended(cc!, job.id);
  const delay = takeoverDelay(done, killedAt);
  t.diagnostic(`environment deletion: taken over ${delay.toFixed(2)} s after kill -9 (lease ${LEASE} s, poll ${POLL} s); done ${((Date.parse(done.finishedAt!) - killedAt) / 1000).toFixed(2)} s after it`);
  assert.ok(delay <= LEASE + POLL + 1.5, `taken over after ${delay} s: within lease + poll + 1.5 s`);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.takeovers, 1);

  const gone = await call(cc!, '/api/v1/applications/goner/environments/development/resources');
  assert.equal(gone.status, 404, await gone.text());
  assert.deepEqual((await json<{ items: unknown[] }>(await call(cc!, '/api/v1/applications/goner/environments'), 200)).items, []);
  // the orphaned provisioner of the dead server may still be finishing its delete: both end with nothing left
  await until('the driver to hold nothing of goner', async () => c.live().every((u) => !u.startsWith('goner.')), 10_000);
  assert.ok(count(deletes(), 'goner.development.sticky') <= 2, 'deleted at most once more');

  // the application: a resources.delete job for all of it; 204 as before
  await json(await call(cc!, '/api/v1/applications/goner/environments', { method: 'POST', json: { name: 'again', type: 'development' } }), 201);
  assert.ok(c.live().includes('goner.again.sticky'));
  const del = await call(cc!, '/api/v1/applications/goner', { method: 'DELETE' });
  assert.equal(del.status, 204, await del.text());
  assert.equal((await call(cc!, '/api/v1/applications/goner')).status, 404);
  assert.deepEqual(c.live().filter((u) => u.startsWith('goner.')), []);
  const whole = await jobOf(cc!, 'resources.delete', 'application:default/goner');
  assert.equal(whole.state, 'succeeded');

  // a plain environment delete answers what was deleted, with the job's id
  await json(await call(cc!, '/api/v1/applications/envy/environments', { method: 'POST', json: { name: 'tmp', type: 'development', provision: false } }), 201);
  const plain = await call(cc!, '/api/v1/applications/envy/environments/tmp', { method: 'DELETE' });
  const result = await json<ApplyResult>(plain, 200);
  assert.deepEqual(result, { ok: true, events: [], failed: [] });
  assert.equal((await json<JobDetail>(await call(cc!, `/api/v1/jobs/${plain.headers.get('x-pave-job')}`), 200)).kind, 'resources.delete');
});
