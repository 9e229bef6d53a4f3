/**
 * Deployments on the Kubernetes target through Pave's API, against a RecordingApiServer: a local HTTP
 * server that records requests and answers as the Kubernetes API server would for the operations Pave
 * uses. It is a recording API server, NOT a live cluster: these tests prove the request sequence Pave
 * sends for deploy → release → rollback → delete (server-side apply PATCHes with field manager pave,
 * the rollout watch with its deadline, the Service switch after readiness, the prune by label), what
 * Pave records per deployment (the rendered objects, each object's outcome), and the problems it
 * answers for bad cluster settings. Also `pave create --runtime kubernetes`, `pave status` and
 * `pave runtime` through the real CLI.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Deployment, EnvironmentStatus, Release } from '../../src/contracts/deployments.ts';
import { ClusterSettingsSchema } from '../../src/platform/schema.ts';
import { cliSandbox, type Cli } from '../cli/helpers.ts';
import { build, envBase, json, viaRouter } from '../deployments/helpers.ts';
import type { TestServer } from '../support/server.ts';
import { RecordingApiServer } from './recording-api-server.ts';
import { APPS, NS, PRUNE_LISTS, ROUTES, SELECTOR } from './shop-paths.ts';
import { image, serverWithProfiles } from './support.ts';


const profile = (url: string) => `
apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: team-k8s }
spec:
  team: team-k8s
  environments:
    development:
      runtime: local
      cluster: { name: dev-cluster, server: "${url}", token: { secretRef: eu-west-1-token }, domain: dev.example.com }
    production:
      runtime: kubernetes
      replicas: 2
      cluster:
        name: eu-west-1
        server: "${url}"
        token: { secretRef: eu-west-1-token }
        domain: apps.example.com
        rolloutTimeout: 2s
    staging:
      runtime: kubernetes
      cluster: { name: broken, server: "${url}", token: { secretRef: not-set-anywhere }, domain: apps.example.com }
`;

type Problem = { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };

describe('Kubernetes target: deployments through the API against a recording API server (not a live cluster)', { timeout: 120_000 }, () => {
  let api: RecordingApiServer;
  let s: TestServer;
  let cli: Cli;
  const ids: Record<string, string> = {};
  const selectorOfService = () => ((api.objects.get(`${NS}/services/shop`)?.spec?.selector ?? {}) as Record<string, string>)['pave.dev/deployment'];
  const post = (p: string, body: unknown) => s.api(p, { method: 'POST', json: body });

  before(async () => {
    api = await new RecordingApiServer().start();
    api.readyAfterPolls = 2;
    ({ s } = await serverWithProfiles({ 'team-k8s': profile(api.url) }, { 'eu-west-1-token': 'cluster-token-1' }));
    cli = cliSandbox();
    await json(await post('/api/v1/teams', { name: 'team-k8s' }), 201);
    await json(await post('/api/v1/applications', { name: 'shop', owner: 'team-k8s', template: 'node-service', environments: [{ name: 'production', type: 'production' }, { name: 'staging', type: 'staging' }] }), 201);
    await json(await s.api(`${envBase('shop', 'production')}/config`, { method: 'PATCH', json: { secrets: { API_KEY: 'k-secret-1' } } }), 200);
    // what Pave must never touch: a look-alike someone else applied with Pave's labels, and an unlabelled Secret
    const labels = { 'app.kubernetes.io/managed-by': 'pave', 'pave.dev/application': 'shop', 'pave.dev/catalog-namespace': 'default', 'pave.dev/environment': 'production' };
    api.seed(`${NS}/configmaps/hand-made`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hand-made', namespace: 'shop-production', labels } });
    api.seed(`${NS}/secrets/db-credentials`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials', namespace: 'shop-production' } });
  });
  after(async () => {
    cli?.cleanup();
    await s?.close();
    await api?.close();
  });

  test('the environment reports its runtime and cluster; a folder build is refused: register an image (409)', async () => {
    const st = await json<EnvironmentStatus>(await s.api(`${envBase('shop', 'production')}/status`), 200);
    assert.equal(st.runtime, 'kubernetes');
    assert.deepEqual(st.target, { runtime: 'kubernetes', source: 'team profile', cluster: 'eu-west-1', location: api.url, namespace: null, problem: null });
    const none = await post(`${envBase('shop', 'production')}/deployments`, {});
    assert.equal(none.status, 409);
    assert.match((await none.json() as Problem).detail, /no image to run on a cluster: register an image built by CI/);
    const folder = await build(s, 'shop');
    assert.equal(folder.status, 'succeeded', folder.error ?? '');
    const refused = await post(`${envBase('shop', 'production')}/deployments`, { build: folder.number });
    assert.equal(refused.status, 409);
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.match((await refused.json() as Problem).detail, /build 1 is a folder build .* runs on kubernetes \(cluster eu-west-1\), which runs container images: register an image/);
    assert.equal(api.requests.length, 0, 'nothing reached the cluster');
  });

  test('deploy: the namespace and workload are applied (server-side apply, field manager pave) and the rollout watched; nothing switches yet', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 1) }), 201);
    const d = await json<Deployment>(await post(`${envBase('shop', 'production')}/deployments`, {}), 201);
    assert.equal(d.status, 'healthy', d.error ?? '');
    assert.equal(d.released, false);
    assert.equal(d.runtime, 'kubernetes');
    assert.deepEqual(d.target, { runtime: 'kubernetes', cluster: 'eu-west-1', location: api.url, namespace: 'shop-production', branch: null, commit: null });
    ids.d1 = d.id;
    assert.deepEqual(api.sequence(), [
      'PATCH /api/v1/namespaces/shop-production',
      `PATCH ${NS}/secrets/shop-1-env`,
      `PATCH ${APPS}/deployments/shop-1`,
      `GET ${APPS}/deployments/shop-1`, `GET ${APPS}/deployments/shop-1`,
    ]);
    for (const r of api.requests) {
      assert.equal(r.authorization, 'Bearer cluster-token-1', 'the token from the platform secret');
      if (r.method === 'PATCH') {
        assert.equal(r.contentType, 'application/apply-patch+yaml');
        assert.deepEqual(r.query, { fieldManager: 'pave', force: 'true', fieldValidation: 'Strict' });
      }
    }
    // the rendered objects: the image, the profile's replicas, the secret only in the Secret
    const dep = api.objects.get(`${APPS}/deployments/shop-1`)! as unknown as { spec: { replicas: number; template: { spec: { containers: { image: string; env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } };
    assert.equal(dep.spec.replicas, 2);
    assert.equal(dep.spec.template.spec.containers[0]!.image, image('shop', 1));
    assert.deepEqual(dep.spec.template.spec.containers[0]!.env.find((e) => e.name === 'API_KEY'), { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'shop-1-env', key: 'API_KEY' } } });
    const secret = api.objects.get(`${NS}/secrets/shop-1-env`)! as unknown as { data: Record<string, string> };
    assert.equal(Buffer.from(secret.data.API_KEY!, 'base64').toString(), 'k-secret-1', 'the real value goes to the cluster');
    // per-object status, recorded with the deployment
    assert.deepEqual(d.objects!.map((o) => `${o.state} ${o.object}`), ['applied Namespace shop-production', 'applied Secret shop-production/shop-1-env', 'applied Deployment shop-production/shop-1']);
    const again = await json<Deployment>(await s.api(`${envBase('shop', 'production')}/deployments/${d.number}`), 200);
    assert.deepEqual(again.objects, d.objects);
    assert.ok(!JSON.stringify(again).includes('k-secret-1'), 'no secret value in the API');
    const row = await s.store.db.selectFrom('deployments').select(['rendered', 'target']).where('id', '=', d.id).executeTakeFirstOrThrow();
    assert.ok(row.rendered && !row.rendered.toString('latin1').includes('k-secret-1'), 'the recorded objects are sealed');
    assert.ok(!JSON.stringify(row.target).includes('cluster-token-1'), 'the target record holds no credential');
    assert.equal(selectorOfService(), undefined, 'no Service yet: nothing takes traffic');
  });

  test('release: once the Deployment is rolled out, the Service and route switch to it, then the prune lists', async () => {
    const from = api.requests.length;
    const r = await json<Release>(await post(`${envBase('shop', 'production')}/release`, { deployment: 1 }), 200);
    assert.equal(r.kind, 'release');
    assert.equal(r.url, 'https://shop-production.apps.example.com');
    assert.equal(r.deployment.released, true);
    assert.deepEqual(api.sequence(from), [`GET ${APPS}/deployments/shop-1`, `PATCH ${NS}/services/shop`, `PATCH ${ROUTES}/shop`, ...PRUNE_LISTS]);
    assert.equal(selectorOfService(), ids.d1);
    const hr = api.objects.get(`${ROUTES}/shop`)! as unknown as { spec: { hostnames: string[] } };
    assert.deepEqual(hr.spec.hostnames, ['shop-production.apps.example.com']);
    assert.deepEqual(r.deployment.objects!.filter((o) => o.state !== 'applied').map((o) => `${o.state} ${o.object}`), ['skipped ConfigMap shop-production/hand-made']);
  });

  test('a second deployment released at once: applied beside, rolled out, switched, then the first pruned (and nothing else)', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 2) }), 201);
    const from = api.requests.length;
    const d = await json<Deployment>(await post(`${envBase('shop', 'production')}/deployments`, { release: true }), 201);
    assert.equal(d.status, 'healthy', d.error ?? '');
    assert.equal(d.released, true);
    ids.d2 = d.id;
    const seq = api.sequence(from);
    assert.deepEqual(seq.slice(0, 8), [
      'PATCH /api/v1/namespaces/shop-production', `PATCH ${NS}/secrets/shop-2-env`, `PATCH ${APPS}/deployments/shop-2`,
      `GET ${APPS}/deployments/shop-2`, `GET ${APPS}/deployments/shop-2`,
      `GET ${APPS}/deployments/shop-2`, `PATCH ${NS}/services/shop`, `PATCH ${ROUTES}/shop`,
    ]);
    assert.deepEqual(seq.filter((x) => x.startsWith('DELETE')), [`DELETE ${APPS}/deployments/shop-1`, `DELETE ${NS}/secrets/shop-1-env`]);
    assert.ok(seq.indexOf(`DELETE ${APPS}/deployments/shop-1`) > seq.indexOf(`PATCH ${NS}/services/shop`), 'pruned only after the switch');
    assert.equal(selectorOfService(), ids.d2);
    assert.ok(api.objects.has(`${NS}/configmaps/hand-made`) && api.objects.has(`${NS}/secrets/db-credentials`), 'what Pave did not apply stays');
    await s.services.deployments.idle();
    const first = await json<Deployment>(await s.api(`${envBase('shop', 'production')}/deployments/1`), 200);
    assert.equal(first.running, 'stopped', 'the replaced deployment is recorded as pruned');
  });

  test('a rollout that misses its deadline fails the deployment, discards its workload, and the previous release keeps serving', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 3) }), 201);
    api.readyAfterPolls = Infinity;
    const from = api.requests.length;
    const d = await json<Deployment>(await post(`${envBase('shop', 'production')}/deployments`, { release: true, timeoutSeconds: 1 }), 201);
    api.readyAfterPolls = 2;
    assert.equal(d.status, 'failed');
    assert.equal(d.released, false);
    assert.match(d.error!, /Deployment shop-production\/shop-3 was not ready within 1 s: 2\/2 updated, 0\/2 available/);
    const seq = api.sequence(from);
    assert.ok(!seq.some((x) => x.includes('/services/') || x.includes('httproutes')), `no switch: ${seq.join('\n')}`);
    assert.deepEqual(seq.filter((x) => x.startsWith('DELETE')), [`DELETE ${APPS}/deployments/shop-3`, `DELETE ${NS}/secrets/shop-3-env`], 'its workload is discarded');
    assert.equal(selectorOfService(), ids.d2, 'deployment 2 keeps serving');
    assert.deepEqual(d.objects!.map((o) => `${o.state} ${o.object}`).slice(-2), ['pruned Deployment shop-production/shop-3', 'pruned Secret shop-production/shop-3-env']);
    const st = await json<EnvironmentStatus>(await s.api(`${envBase('shop', 'production')}/status`), 200);
    assert.equal(st.released!.id, ids.d2);
  });

  test('rollback: the earlier deployment\'s recorded objects are applied again, rolled out, switched; the later ones pruned', async () => {
    const from = api.requests.length;
    const r = await json<Release>(await post(`${envBase('shop', 'production')}/rollback`, {}), 200);
    assert.equal(r.kind, 'rollback');
    assert.equal(r.deployment.id, ids.d1);
    const seq = api.sequence(from);
    assert.deepEqual(seq.filter((x) => x.startsWith('PATCH')), [
      'PATCH /api/v1/namespaces/shop-production', `PATCH ${NS}/secrets/shop-1-env`, `PATCH ${APPS}/deployments/shop-1`, `PATCH ${NS}/services/shop`, `PATCH ${ROUTES}/shop`,
    ]);
    assert.ok(seq.indexOf(`GET ${APPS}/deployments/shop-1`) < seq.indexOf(`PATCH ${NS}/services/shop`), 'the rollout is awaited before the switch');
    assert.deepEqual(seq.filter((x) => x.startsWith('DELETE')), [`DELETE ${APPS}/deployments/shop-2`, `DELETE ${NS}/secrets/shop-2-env`]);
    // exactly what deployment 1 applied the first time: the same body, byte for byte
    const bodies = api.requests.filter((x) => x.method === 'PATCH' && x.path === `${APPS}/deployments/shop-1`).map((x) => JSON.stringify(x.body));
    assert.equal(bodies.length, 2);
    assert.equal(bodies[0], bodies[1]);
    assert.equal(selectorOfService(), ids.d1);
    const releases = await json<{ items: { kind: string; number: number }[] }>(await s.api(`${envBase('shop', 'production')}/releases`), 200);
    assert.deepEqual(releases.items.map((x) => `${x.kind} ${x.number}`), ['rollback 1', 'release 2', 'release 1']);
  });

  test('a rollback whose rollout misses its deadline switches nothing (409): what serves keeps serving', async () => {
    api.readyAfterPolls = Infinity;
    const from = api.requests.length;
    const res = await post(`${envBase('shop', 'production')}/rollback`, { to: 2 });
    api.readyAfterPolls = 2;
    assert.equal(res.status, 409);
    assert.match((await res.json() as Problem).detail, /deployment 2 was not released on kubernetes \(cluster eu-west-1\): Deployment shop-production\/shop-2 was not ready within 2 s: 2\/2 updated, 0\/2 available; what was released before keeps serving/);
    assert.ok(!api.sequence(from).some((x) => x.includes('/services/')), 'no switch');
    assert.equal(selectorOfService(), ids.d1);
  });

  test('status: the runtime, the target and each released object as the cluster reports it now; the URL is the route\'s host', async () => {
    const st = await json<EnvironmentStatus>(await s.api(`${envBase('shop', 'production')}/status`), 200);
    assert.equal(st.status, 'running');
    assert.equal(st.url, 'https://shop-production.apps.example.com');
    assert.equal(st.released!.id, ids.d1);
    assert.deepEqual(st.objects!.map((o) => `${o.state} ${o.object}`), [
      'ready Namespace shop-production', 'ready Secret shop-production/shop-1-env', 'ready Deployment shop-production/shop-1', 'ready Service shop-production/shop', 'ready HTTPRoute shop-production/shop',
    ]);
  });

  test('bad cluster settings are problem+json naming the setting: a missing secret, no cluster for the type, an unknown runtime', async () => {
    await json(await post('/api/v1/applications/shop/artifacts', { image: image('shop', 4) }), 201);
    const before = api.requests.length;
    const res = await post(`${envBase('shop', 'staging')}/deployments`, {});
    assert.equal(res.status, 409);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const p = await res.json() as Problem;
    assert.equal(p.title, 'Invalid cluster settings');
    assert.match(p.type, /invalid-cluster-settings$/);
    assert.equal(p.errors![0]!.path, 'profile.environments.staging.cluster.token');
    assert.match(p.errors![0]!.message, /platform secret not-set-anywhere is not set/);
    assert.equal(api.requests.length, before, 'nothing reached the cluster');
    const listed = await json<{ items: Deployment[] }>(await s.api(`${envBase('shop', 'staging')}/deployments`), 200);
    assert.equal(listed.items.length, 0, 'no half-written deployment');

    const st = await json<EnvironmentStatus>(await s.api(`${envBase('shop', 'staging')}/status`), 200);
    assert.equal(st.target!.problem, null, 'the settings look right until their secret is read');

    const noCluster = await s.api(`${envBase('shop', 'production')}/runtime`, { method: 'PUT', json: { runtime: 'gitops' } });
    assert.equal(noCluster.status, 409);
    const q = await noCluster.json() as Problem;
    assert.equal(q.errors![0]!.path, 'profile.environments.production.cluster.gitops');
    const unknown = await s.api(`${envBase('shop', 'production')}/runtime`, { method: 'PUT', json: { runtime: 'docker' } });
    assert.equal(unknown.status, 400);
    assert.equal((await unknown.json() as Problem).errors![0]!.path, 'body.runtime');

    // the profile's own schema: credentials only as platform secrets, one way to reach a cluster
    const issues = (v: unknown) => ClusterSettingsSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.match(issues({ name: 'eu', server: 'https://10.0.0.1:6443', token: 'plain-text-token' }).join('\n'), /^token: must be \{ secretRef: NAME \} naming a platform secret/);
    assert.match(issues({ name: 'eu', server: 'https://10.0.0.1:6443', kubeconfig: { secretRef: 'kc' } }).join('\n'), /^kubeconfig: give one way to reach the cluster: server and kubeconfig are both set/);
    assert.match(issues({ name: 'eu', gitops: { branch: 'main' } }).join('\n'), /^gitops.remote: give remote \(a repository to push to\) or directory/);
    assert.deepEqual(issues({ name: 'eu', kubeconfig: { secretRef: 'kc' }, context: 'prod', namespace: 'shop', route: 'ingress', ingressClass: 'nginx' }), []);
  });

  test('pave create --runtime kubernetes, pave status and pave runtime through the CLI', async () => {
    const env = { PAVE_URL: s.url, PAVE_TOKEN: s.token };
    const folder = path.join(cli.configDir, '..', 'catalogue');
    mkdirSync(folder, { recursive: true });
    try {
      const r = await cli.run(['create', '--team', 'team-k8s', '--runtime', 'kubernetes', '--no-apply'], { env, cwd: folder });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Runtime in development: kubernetes \(set with --runtime\), cluster dev-cluster \(http:\/\/127\.0\.0\.1:\d+\)\./);
      const st = await json<EnvironmentStatus>(await s.api(`${envBase('catalogue', 'development')}/status`), 200);
      assert.deepEqual([st.runtime, st.target!.source, st.target!.cluster], ['kubernetes', 'application', 'dev-cluster'], 'the runtime is stored with the application');
      const row = await s.store.db.selectFrom('applications as a').innerJoin('entities as e', 'e.id', 'a.entity_id').select('a.runtime').where('e.ref', '=', 'application:default/catalogue').executeTakeFirstOrThrow();
      assert.equal(row.runtime, 'kubernetes');

      const bad = await cli.run(['create', 'other', '--team', 'team-k8s', '--runtime', 'docker'], { env, cwd: folder });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /--runtime.*Allowed choices are local, kubernetes, gitops/);

      const status = await cli.run(['status', 'shop'], { env });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^ENVIRONMENT\s+TYPE\s+STATUS\s+RUNTIME\s+RELEASED\s+URL\s+PROCESSES$/m);
      assert.match(status.stdout, /^production\s+production\s+running\s+kubernetes \(cluster eu-west-1\)\s+#1 \(build 2\)\s+https:\/\/shop-production\.apps\.example\.com\s+5 objects: 5 ready$/m);
      const one = await cli.run(['status', 'shop', '--env', 'production'], { env });
      assert.match(one.stdout, /^Runtime:\s+kubernetes \(set by the team profile\)$/m);
      assert.match(one.stdout, /^Target:\s+cluster eu-west-1 at http:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(one.stdout, /^Deployment shop-production\/shop-1\s+ready\s+/m);

      const set = await cli.run(['runtime', 'catalogue', '--env', 'development', 'local'], { env });
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /development deploys to local, as the environment says\./);
      const back = await cli.run(['runtime', 'catalogue', '--env', 'development', 'default', '-o', 'json'], { env });
      assert.equal((JSON.parse(back.stdout) as EnvironmentStatus).target!.source, 'application');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('switching a target is a deployment: local → Kubernetes (the local route retired, kept warm) → rollback to local (the cluster pruned)', async () => {
    await json(await post('/api/v1/applications', { name: 'switcher', owner: 'team-k8s', template: 'node-service', environments: [{ name: 'development', type: 'development' }] }), 201);
    const host = 'switcher-development.localhost';
    await build(s, 'switcher');
    const local = await json<Deployment>(await post(`${envBase('switcher', 'development')}/deployments`, { release: true }), 201);
    assert.equal(local.runtime, 'local');
    assert.equal((await viaRouter(s.routerUrl, host)).body, `hello from ${local.id}\n`);

    const set = await json<EnvironmentStatus>(await s.api(`${envBase('switcher', 'development')}/runtime`, { method: 'PUT', json: { runtime: 'kubernetes' } }), 200);
    assert.deepEqual([set.runtime, set.target!.source, set.target!.cluster], ['kubernetes', 'environment', 'dev-cluster']);
    assert.equal(set.released!.id, local.id, 'nothing moved yet');
    assert.equal((await viaRouter(s.routerUrl, host)).status, 200);

    await json(await post('/api/v1/applications/switcher/artifacts', { image: image('switcher', 5) }), 201);
    const from = api.requests.length;
    const onCluster = await json<Deployment>(await post(`${envBase('switcher', 'development')}/deployments`, { release: true }), 201);
    assert.equal(onCluster.status, 'healthy', onCluster.error ?? '');
    assert.equal(onCluster.runtime, 'kubernetes');
    assert.equal(onCluster.number, 2, 'the same history of deployments');
    assert.ok(api.sequence(from).includes('PATCH /api/v1/namespaces/switcher-development/services/switcher'));
    assert.equal((await viaRouter(s.routerUrl, host)).status, 404, 'the local router no longer serves the environment');
    await s.services.deployments.idle();
    const st = await json<EnvironmentStatus>(await s.api(`${envBase('switcher', 'development')}/status`), 200);
    assert.equal(st.url, 'https://switcher-development.dev.example.com');
    assert.deepEqual(st.deployments.map((d) => [d.number, d.running]), [[1, 'warm']], 'the local deployment is kept warm');

    const back = api.requests.length;
    const r = await json<Release>(await post(`${envBase('switcher', 'development')}/rollback`, {}), 200);
    assert.equal(r.deployment.id, local.id);
    assert.equal(r.warm, true, 'instant: it was still running');
    assert.equal((await viaRouter(s.routerUrl, host)).body, `hello from ${local.id}\n`);
    await s.services.deployments.idle();
    const pruned = api.sequence(back).filter((x) => x.startsWith('DELETE'));
    assert.deepEqual(pruned, [
      'DELETE /apis/gateway.networking.k8s.io/v1/namespaces/switcher-development/httproutes/switcher', 'DELETE /api/v1/namespaces/switcher-development/services/switcher',
      'DELETE /apis/apps/v1/namespaces/switcher-development/deployments/switcher-2', 'DELETE /api/v1/namespaces/switcher-development',
    ], 'the environment left the cluster: everything Pave applied there is pruned');
    assert.equal((await json<Deployment>(await s.api(`${envBase('switcher', 'development')}/deployments/2`), 200)).running, 'stopped');
    await s.services.deployments.stopAll();
  });

  test('deleting the environment prunes everything Pave applied there, the namespace last, and nothing else', async () => {
    const from = api.requests.length;
    const res = await s.api(`${envBase('shop', 'production')}`, { method: 'DELETE' });
    assert.equal(res.status, 200, await res.clone().text());
    const deletes = api.sequence(from).filter((x) => x.startsWith('DELETE'));
    assert.deepEqual(deletes, [`DELETE ${ROUTES}/shop`, `DELETE ${NS}/services/shop`, `DELETE ${APPS}/deployments/shop-1`, `DELETE ${NS}/secrets/shop-1-env`, 'DELETE /api/v1/namespaces/shop-production']);
    assert.deepEqual([...api.objects.keys()].sort(), [`${NS}/configmaps/hand-made`, `${NS}/secrets/db-credentials`]);
  });
});
