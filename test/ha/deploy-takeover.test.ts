/**
 * Deployments as jobs (`deployments.run`) with two real Pave server processes on one PostgreSQL and a
 * short job lease: the server that takes a deploy request runs it and holds its job; when that server
 * is killed (kill -9) mid-deployment, the other takes the job over once the lease ran out and does what
 * fits the runtime. On Kubernetes it converges the deployment (its recorded objects applied again,
 * the rollout awaited, the release done once); the Kubernetes API here is a RecordingApiServer
 * (test/targets/recording-api-server.ts): a local HTTP server that records requests and answers as the
 * API server would for the operations Pave uses — a recording API server, NOT a live cluster. On the
 * local runtime the processes are on the dead server's host: the deployment is marked failed, and
 * what was released keeps answering.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Build, Deployment } from '../../src/contracts/deployments.ts';
import type { JobDetail, JobPage, ServerList } from '../../src/contracts/jobs.ts';
import { LocalRuntime } from '../../src/runtime/local.ts';
import { HELLO } from '../deployments/helpers.ts';
import type { ServerProcess } from '../support/process.ts';
import { RecordingApiServer } from '../targets/recording-api-server.ts';
import { image } from '../targets/support.ts';
import { call, createApp, json, startCluster, until, type Cluster } from './helpers.ts';

const LEASE = 3;
const POLL = 0.25;
/** Between two GETs of a rolling Deployment (the servers' default). */
const ROLLOUT_POLL = 2;
const NS = '/api/v1/namespaces/kube-production';
const APPS = '/apis/apps/v1/namespaces/kube-production';
const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/kube-production/httproutes';

let c: Cluster;
let api: RecordingApiServer;
const env = (app: string, e: string) => `/api/v1/applications/${app}/environments/${e}`;

before(async () => {
  api = await new RecordingApiServer().start();
  api.readyAfterPolls = Infinity;
  // team ops deploys production to a Kubernetes cluster (the recording API server); development stays on the local runtime
  c = await startCluster(2, { PAVE_JOB_LEASE: String(LEASE), PAVE_JOB_POLL_INTERVAL: String(POLL) }, (platform) => {
    writeFileSync(path.join(platform, 'team-profiles', 'ops.yaml'), `
apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: ops }
spec:
  team: ops
  environments:
    production:
      runtime: kubernetes
      replicas: 1
      healthPath: /healthz
      cluster: { name: ha-cluster, server: "${api.url}", token: { secretRef: ha-cluster-token }, domain: apps.example.com, rolloutTimeout: 60s }
`);
  });
  const a = c.servers[0]!;
  assert.equal((await call(a, '/api/v1/teams', { method: 'POST', json: { name: 'ops' } })).status, 201);
  assert.equal((await call(a, '/api/v1/platform/secrets/ha-cluster-token', { method: 'PUT', json: { value: 'ha-token-1' } })).status, 204);
});
after(async () => {
  // the processes the local runtime started on "server 0's host" outlive it: stopped here, whatever happened
  const runtime = new LocalRuntime({ dir: path.join(c.work, 'server-0', 'runs') });
  for (const id of await runtime.list().catch(() => [] as string[])) await runtime.stop(id, 0).catch(() => undefined);
  await c?.close();
  await api?.close();
});

/** Reads an NDJSON response until a line matches; the rest of the stream is left unread. */
async function readUntil(res: Response, pattern: RegExp): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended before ${pattern}:\n${text}`);
    text += Buffer.from(value).toString();
  }
  void reader.cancel().catch(() => undefined);
  return text;
}

async function jobOf(s: ServerProcess, deployment: string): Promise<JobDetail> {
  const page = await json<JobPage>(await call(s, `/api/v1/jobs?kind=deployments.run&subject=${encodeURIComponent(`deployment:${deployment}`)}`), 200);
  assert.equal(page.items.length, 1, `one job for deployment ${deployment}`);
  return json<JobDetail>(await call(s, `/api/v1/jobs/${page.items[0]!.id}`), 200);
}

async function serverIdOf(s: ServerProcess, of: ServerProcess): Promise<string> {
  const list = await json<ServerList>(await call(s, '/api/v1/servers'), 200);
  return list.items.find((x) => x.pid === of.child.pid)!.id;
}

test('local runtime: kill -9 during the health wait; the other server marks the deployment failed, and the released one keeps answering', async (t) => {
  const [a, b] = c.servers as [ServerProcess, ServerProcess];
  await createApp(a, 'loco', {});
  const built = await json<Build>(await call(a, '/api/v1/applications/loco/builds', { method: 'POST', json: { path: HELLO } }), 201);
  assert.equal(built.status, 'succeeded', built.error ?? '');
  const d1 = await json<Deployment>(await call(a, `${env('loco', 'development')}/deployments`, { method: 'POST', json: { release: true } }), 201);
  assert.equal(d1.released, true, d1.error ?? '');
  const job1 = await jobOf(b, d1.id);
  assert.equal(job1.state, 'succeeded', 'the deployment held a job, which ended with it');
  assert.equal(job1.server, await serverIdOf(b, a), 'run by the server that took the request');
  const port = d1.processes[0]!.port!;
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), `hello from ${d1.id}\n`);

  // a deployment that will not be healthy for a minute, streamed as always, and its server killed while it waits
  assert.equal((await call(a, `${env('loco', 'development')}/config`, { method: 'PATCH', json: { set: { SLOW_START: '60000' } } })).status, 200);
  const res = await call(a, `${env('loco', 'development')}/deployments`, { method: 'POST', json: { release: true }, headers: { accept: 'application/x-ndjson' } });
  assert.equal(res.status, 201);
  const text = await readUntil(res, /"step":"health"/);
  assert.match(text, /^\{"event":\{"step":"starting","message":"starting web\.0"\}\}$/m, 'the stream is the same NDJSON as before');
  const d2 = (await json<{ items: Deployment[] }>(await call(b, `${env('loco', 'development')}/deployments`), 200)).items.find((d) => d.status === 'starting')!;
  assert.ok(d2, 'the second deployment is starting');
  const held = await jobOf(b, d2.id);
  assert.equal(held.state, 'running');
  assert.deepEqual(held.payload, { deployment: d2.id, op: 'deploy', release: true, runtime: 'local', by: 'user:default/admin' });
  const aId = await serverIdOf(b, a);

  const killedAt = Date.now();
  await a.stop('SIGKILL');
  const failed = await until('the other server to fail the deployment', async () => {
    const d = await json<Deployment>(await call(b, `${env('loco', 'development')}/deployments/${d2.id}`), 200);
    return d.status === 'failed' ? d : undefined;
  }, 20_000, 50);
  const delay = (Date.now() - killedAt) / 1000;
  t.diagnostic(`local deployment failed by the other server ${delay.toFixed(2)} s after kill -9 (lease ${LEASE} s, poll ${POLL} s)`);
  assert.ok(delay <= LEASE + POLL + 1.5, `failed after ${delay} s: within lease + poll + 1.5 s`);
  assert.match(failed.error ?? '', /the server running it stopped before it was healthy/);
  assert.equal(failed.running, 'stopped');
  const listed = (await json<{ items: Deployment[] }>(await call(b, `${env('loco', 'development')}/deployments`), 200)).items;
  assert.ok(listed.every((d) => d.status !== 'starting'), 'no deployment is left in progress');
  const job = await until('the job to end', async () => {
    const j = await jobOf(b, d2.id);
    return j.state === 'running' ? undefined : j;
  });
  assert.equal(job.state, 'failed');
  assert.equal(job.takeovers, 1);
  assert.equal(job.server, await serverIdOf(b, b));
  assert.deepEqual((job.events.find((e) => e.type === 'takeover')!.data as { from: string }).from, aId);
  assert.match(job.error?.detail ?? '', /the server running it stopped, and a deployment on the local runtime runs on that server's host, so it is not taken over .*what was released keeps serving/);

  // the released deployment's processes are detached from the server: its app still answers on its own port
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), `hello from ${d1.id}\n`);
  const st = await json<{ released: Deployment | null }>(await call(b, `${env('loco', 'development')}/status`), 200);
  assert.equal(st.released?.id, d1.id, 'what was released stays released');

  // server 0 comes back on its host: it adopts the released deployment and stops the failed one's leftover processes
  const runtime = new LocalRuntime({ dir: path.join(c.work, 'server-0', 'runs') });
  assert.equal((await runtime.status(d2.id))?.alive, true, 'the interrupted deployment\'s processes outlived their server');
  await c.start(0);
  assert.equal((await runtime.status(d2.id))?.alive, false, 'stopped at start: the store records the deployment as stopped');
  assert.equal((await runtime.status(d1.id))?.alive, true);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), `hello from ${d1.id}\n`);
});

test('Kubernetes: kill -9 while the rollout is awaited; the other server takes the job over, applies the recorded objects again and releases once', async (t) => {
  const [a, b] = c.servers as [ServerProcess, ServerProcess];
  // a workload with a service port: released, it gets a Service and an HTTPRoute
  const workload = { apiVersion: 'score.dev/v1b1', metadata: { name: 'kube' }, containers: { web: { image: '.' } }, service: { ports: { web: { port: 80, targetPort: 8080 } } } };
  await json(await call(a, '/api/v1/applications', { method: 'POST', json: { name: 'kube', owner: 'ops', template: 'node-service', workload, environments: [{ name: 'production', type: 'production' }] } }), 201);
  await json(await call(a, '/api/v1/applications/kube/artifacts', { method: 'POST', json: { image: image('kube', 1) } }), 201);

  const res = await call(a, `${env('kube', 'production')}/deployments`, { method: 'POST', json: { release: true }, headers: { accept: 'application/x-ndjson' } });
  assert.equal(res.status, 201);
  // the rollout watch has begun: the Deployment was applied and is being read back, not ready
  await readUntil(res, /"step":"starting","message":"applied Deployment kube-production\/kube-1"/);
  await until('the rollout watch', async () => api.requests.some((r) => r.method === 'GET' && r.path === `${APPS}/deployments/kube-1`));
  const d = (await json<{ items: Deployment[] }>(await call(b, `${env('kube', 'production')}/deployments`), 200)).items[0]!;
  assert.equal(d.status, 'starting');
  assert.equal(d.runtime, 'kubernetes');
  const held = await jobOf(b, d.id);
  assert.equal(held.state, 'running');
  const aId = await serverIdOf(b, a);
  assert.equal(held.server, aId, 'the server that took the request runs it');
  assert.deepEqual(api.sequence(), ['PATCH /api/v1/namespaces/kube-production', `PATCH ${APPS}/deployments/kube-1`, ...api.sequence().slice(2).map(() => `GET ${APPS}/deployments/kube-1`)]);

  const mark = api.requests.length;
  const killedAt = Date.now();
  await a.stop('SIGKILL');
  // the cluster rolls the Deployment out meanwhile
  api.readyAfterPolls = 1;

  const released = await until('the deployment to be released by the other server', async () => {
    const x = await json<Deployment>(await call(b, `${env('kube', 'production')}/deployments/${d.id}`), 200);
    return x.released ? x : undefined;
  }, 30_000, 50);
  const delay = (Date.now() - killedAt) / 1000;
  t.diagnostic(`released by the other server ${delay.toFixed(2)} s after kill -9 (lease ${LEASE} s, poll ${POLL} s, rollout poll ${ROLLOUT_POLL} s)`);
  assert.ok(delay <= LEASE + POLL + 2 * ROLLOUT_POLL + 2, `released after ${delay} s`);
  assert.equal(released.status, 'healthy', released.error ?? '');

  // what the taker sent: the recorded objects applied again (server-side apply), the rollout read, then the release's Service and route, and the prune
  const after = api.requests.slice(mark);
  assert.ok(after.every((r) => r.authorization === 'Bearer ha-token-1'));
  for (const r of after.filter((x) => x.method === 'PATCH')) assert.deepEqual(r.query, { fieldManager: 'pave', force: 'true', fieldValidation: 'Strict' });
  const seq = api.sequence(mark).filter((l, i, all) => !(l === `GET ${APPS}/deployments/kube-1` && all[i - 1] === l));
  assert.deepEqual(seq.slice(0, 3), ['PATCH /api/v1/namespaces/kube-production', `PATCH ${APPS}/deployments/kube-1`, `GET ${APPS}/deployments/kube-1`], seq.join('\n'));
  const switched = seq.indexOf(`PATCH ${NS}/services/kube`);
  assert.ok(switched > 2 && seq.indexOf(`PATCH ${ROUTES}/kube`) > 2, `the Service and route applied after the rollout:\n${seq.join('\n')}`);
  assert.ok(seq.slice(switched).some((l) => l.startsWith(`GET ${APPS}/deployments?labelSelector=`)), 'then the prune');
  assert.equal(api.requests.filter((r) => r.method === 'PATCH' && r.path === `${APPS}/deployments/kube-1`).length, 2, 'applied once by each server');
  assert.equal(api.requests.filter((r) => r.method === 'PATCH' && r.path === `${NS}/services/kube`).length, 1, 'switched once');
  assert.equal((api.objects.get(`${NS}/services/kube`)?.spec?.selector as Record<string, string>)['pave.dev/deployment'], d.id);

  const releases = await json<{ items: { deployment: string; kind: string }[] }>(await call(b, `${env('kube', 'production')}/releases`), 200);
  assert.deepEqual(releases.items.map((r) => [r.deployment, r.kind]), [[d.id, 'release']], 'released exactly once');

  const job = await until('the job to end', async () => {
    const j = await jobOf(b, d.id);
    return j.state === 'running' ? undefined : j;
  });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.attempts, 2);
  assert.equal(job.takeovers, 1);
  assert.equal(job.server, await serverIdOf(b, b));
  const types = job.events.filter((e) => e.type !== 'progress').map((e) => `${e.attempt}:${e.type}`);
  assert.deepEqual(types, ['1:claimed', '2:takeover', '2:succeeded']);
  assert.equal((job.events.find((e) => e.type === 'takeover')!.data as { from: string }).from, aId);
  const steps = job.events.filter((e) => e.type === 'progress' && e.attempt === 2).map((e) => (e.data as { step: string }).step);
  assert.ok(steps.includes('healthy') && steps.at(-1) === 'released', steps.join(' '));
  const metrics = await (await call(b, '/metrics')).text();
  // B took over this job and, in the test before, the local deployment's
  assert.match(metrics, /^pave_job_takeovers_total\{kind="deployments.run"\} 2$/m);
});
