/**
 * The Kubernetes apply path against a RecordingApiServer: a local HTTP server that records requests and
 * answers like the API server would (see recording-api-server.ts). It is NOT a Kubernetes cluster:
 * these tests check the request sequence Pave sends (server-side apply PATCHes with field manager
 * pave, the rollout watch, the release after readiness, the prune that deletes what Pave applied and
 * nothing else), not what a cluster does with it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fromKubeconfig, inCluster, KubeClient, KubernetesTarget, RenderNotReady } from '../../src/targets/kubernetes/client.ts';
import { renderKubernetes, type RenderResult } from '../../src/targets/kubernetes/render.ts';
import type { ScoreWorkload } from '../../src/workloads/score.ts';
import { RecordingApiServer } from './recording-api-server.ts';
import { APPS, NS, PRUNE_LISTS, ROUTES, SELECTOR } from './shop-paths.ts';

const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1', metadata: { name: 'shop' },
  containers: { web: { image: '.', variables: { PORT: '8080' } } },
  service: { ports: { web: { port: 80, targetPort: 8080 } } },
};
const IDS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];

function rendering(n: 1 | 2 | 3, env = 'production'): RenderResult {
  const r = renderKubernetes({
    application: { namespace: 'default', name: 'shop' }, environment: { name: env, type: 'production' }, deployment: { id: IDS[n - 1]!, number: n },
    workload, secretVariables: [], secretFiles: [], image: `registry.example.com/shop@sha256:${String(n).repeat(64)}`,
    main: { variables: { PORT: '8080', API_KEY: `key-${n}` }, secretNames: ['API_KEY'] },
    profile: { replicas: 2 }, released: true, route: { host: 'shop.example.com' },
  });
  assert.deepEqual([...r.errors, ...r.placeholders], []);
  return r;
}


describe('Kubernetes apply path, against a RecordingApiServer (a recording HTTP server, not a cluster)', () => {
  let api: RecordingApiServer;
  let client: KubeClient;
  let target: KubernetesTarget;
  const events: string[] = [];
  before(async () => {
    api = await new RecordingApiServer().start();
    api.readyAfterPolls = 3;
    client = new KubeClient({ server: api.url, token: 'test-token' });
    target = new KubernetesTarget(client, { pollMs: 5, rolloutTimeoutMs: 5000, onEvent: (m) => events.push(m) });
    // what Pave must never touch: a look-alike applied by someone else, another environment's Deployment, an unlabelled Secret
    const labels = { 'app.kubernetes.io/managed-by': 'pave', 'pave.dev/application': 'shop', 'pave.dev/catalog-namespace': 'default', 'pave.dev/environment': 'production' };
    api.seed(`${NS}/configmaps/hand-made`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hand-made', namespace: 'shop-production', labels } });
    api.seed(`${APPS}/deployments/shop-9`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop-9', namespace: 'shop-production', labels: { ...labels, 'pave.dev/environment': 'staging' } } }, 'pave');
    api.seed(`${NS}/secrets/db-credentials`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials', namespace: 'shop-production' } });
  });
  after(async () => {
    client?.close();
    await api?.close();
  });

  test('a first deployment: server-side apply of each object, the rollout watched, then the release, then the prune lists', async () => {
    const res = await target.deploy(rendering(1), { release: true });
    assert.equal(res.ok, true, res.error);
    assert.equal(res.released, true);
    assert.deepEqual(api.sequence(), [
      'PATCH /api/v1/namespaces/shop-production',
      `PATCH ${NS}/secrets/shop-1-env`,
      `PATCH ${APPS}/deployments/shop-1`,
      `GET ${APPS}/deployments/shop-1`, `GET ${APPS}/deployments/shop-1`, `GET ${APPS}/deployments/shop-1`,
      `PATCH ${NS}/services/shop`,
      `PATCH ${ROUTES}/shop`,
      ...PRUNE_LISTS,
    ]);
    for (const r of api.requests.filter((x) => x.method === 'PATCH')) {
      assert.equal(r.contentType, 'application/apply-patch+yaml');
      assert.deepEqual(r.query, { fieldManager: 'pave', force: 'true', fieldValidation: 'Strict' });
      assert.equal(r.authorization, 'Bearer test-token');
    }
    const applied = api.requests.find((r) => r.path === `${APPS}/deployments/shop-1`)!.body!;
    assert.deepEqual(applied, JSON.parse(JSON.stringify(rendering(1).objects.find((o) => o.object.kind === 'Deployment')!.object)), 'the body is the rendered object');
    assert.deepEqual(res.objects.map((o) => `${o.action} ${o.object}`), [
      'applied Namespace shop-production', 'applied Secret shop-production/shop-1-env', 'applied Deployment shop-production/shop-1',
      'applied Service shop-production/shop', 'applied HTTPRoute shop-production/shop', 'skipped ConfigMap shop-production/hand-made',
    ]);
    assert.ok(events.some((e) => /waiting for Deployment shop-production\/shop-1: 0\/2 updated|1\/2 updated/.test(e)), events.join('\n'));
    const svc = api.objects.get(`${NS}/services/shop`)!;
    assert.equal((svc.spec!.selector as Record<string, string>)['pave.dev/deployment'], IDS[0]);
  });

  test('the next deployment: the Service switches after the new Deployment is ready, then the old objects are pruned, nothing else', async () => {
    const from = api.requests.length;
    const res = await target.deploy(rendering(2), { release: true });
    assert.equal(res.ok, true, res.error);
    const seq = api.sequence(from);
    assert.deepEqual(seq.slice(0, 8), [
      'PATCH /api/v1/namespaces/shop-production', `PATCH ${NS}/secrets/shop-2-env`, `PATCH ${APPS}/deployments/shop-2`,
      `GET ${APPS}/deployments/shop-2`, `GET ${APPS}/deployments/shop-2`, `GET ${APPS}/deployments/shop-2`,
      `PATCH ${NS}/services/shop`, `PATCH ${ROUTES}/shop`,
    ]);
    assert.deepEqual(seq.filter((s) => s.startsWith('DELETE')), [`DELETE ${APPS}/deployments/shop-1`, `DELETE ${NS}/secrets/shop-1-env`]);
    assert.equal(seq.findIndex((s) => s.startsWith('DELETE')) > seq.indexOf(`PATCH ${NS}/services/shop`), true, 'pruned only after the switch');
    assert.equal(api.requests.filter((r) => r.method === 'DELETE').every((r) => r.query.propagationPolicy === 'Background'), true);
    assert.deepEqual(res.objects.filter((o) => o.action !== 'applied').map((o) => `${o.action} ${o.object}`), [
      'pruned Deployment shop-production/shop-1', 'skipped ConfigMap shop-production/hand-made', 'pruned Secret shop-production/shop-1-env',
    ]);
    assert.ok(api.objects.has(`${NS}/configmaps/hand-made`), 'a look-alike not applied by Pave stays');
    assert.ok(api.objects.has(`${APPS}/deployments/shop-9`), 'another environment stays');
    assert.ok(api.objects.has(`${NS}/secrets/db-credentials`), 'an unlabelled object stays');
    assert.equal(((api.objects.get(`${NS}/services/shop`)!.spec!.selector) as Record<string, string>)['pave.dev/deployment'], IDS[1]);
  });

  test('a rollout that misses its deadline releases nothing and prunes nothing; the old deployment keeps serving', async () => {
    api.readyAfterPolls = Infinity;
    const from = api.requests.length;
    const short = new KubernetesTarget(client, { pollMs: 5, rolloutTimeoutMs: 60 });
    const res = await short.deploy(rendering(3), { release: true });
    assert.equal(res.ok, false);
    assert.equal(res.released, false);
    assert.match(res.error!, /Deployment shop-production\/shop-3 was not ready within 0 s: 2\/2 updated, 0\/2 available/);
    const seq = api.sequence(from);
    assert.ok(!seq.some((s) => s.includes('/services/') || s.includes('httproutes') || s.startsWith('DELETE')), seq.join('\n'));
    assert.equal(((api.objects.get(`${NS}/services/shop`)!.spec!.selector) as Record<string, string>)['pave.dev/deployment'], IDS[1]);
    // the failed deployment's objects are discarded
    const discarded = await short.discard(rendering(3));
    assert.deepEqual(discarded.map((o) => `${o.action} ${o.object}`), ['pruned Deployment shop-production/shop-3', 'pruned Secret shop-production/shop-3-env']);
    api.readyAfterPolls = 1;
  });

  test('a rollback re-applies the earlier deployment\'s rendered objects and prunes the later ones', async () => {
    const from = api.requests.length;
    const res = await target.deploy(rendering(1), { release: true });
    assert.equal(res.ok, true, res.error);
    const seq = api.sequence(from);
    assert.deepEqual(seq.filter((s) => s.startsWith('PATCH')), [
      'PATCH /api/v1/namespaces/shop-production', `PATCH ${NS}/secrets/shop-1-env`, `PATCH ${APPS}/deployments/shop-1`, `PATCH ${NS}/services/shop`, `PATCH ${ROUTES}/shop`,
    ]);
    assert.deepEqual(seq.filter((s) => s.startsWith('DELETE')), [`DELETE ${APPS}/deployments/shop-2`, `DELETE ${NS}/secrets/shop-2-env`]);
    assert.equal(((api.objects.get(`${NS}/services/shop`)!.spec!.selector) as Record<string, string>)['pave.dev/deployment'], IDS[0]);
  });

  test('without release: the workload runs beside the released one, which is kept; nothing is pruned', async () => {
    const from = api.requests.length;
    const res = await target.deploy(rendering(2), { release: false });
    assert.equal(res.ok, true);
    assert.equal(res.released, false);
    assert.ok(!api.sequence(from).some((s) => s.startsWith('DELETE') || s.includes('/services/')));
    // releasing it later: the release objects, then the prune keeps the deployment named in keep
    const out = await target.deploy(rendering(2), { release: true, keep: [IDS[0]!] });
    assert.ok(!out.objects.some((o) => o.action === 'pruned'), 'deployment 1 is kept warm');
  });

  test('deleting the environment prunes everything Pave applied (the namespace last), and nothing else', async () => {
    const from = api.requests.length;
    const res = await target.delete({ application: 'shop', catalogNamespace: 'default', environment: 'production', namespace: 'shop-production' });
    assert.equal(res.ok, true, res.error);
    const deletes = api.sequence(from).filter((s) => s.startsWith('DELETE'));
    assert.deepEqual(deletes, [
      `DELETE ${ROUTES}/shop`, `DELETE ${NS}/services/shop`, `DELETE ${APPS}/deployments/shop-1`, `DELETE ${APPS}/deployments/shop-2`,
      `DELETE ${NS}/secrets/shop-1-env`, `DELETE ${NS}/secrets/shop-2-env`, 'DELETE /api/v1/namespaces/shop-production',
    ]);
    assert.deepEqual([...api.objects.keys()].sort(), [`${NS}/configmaps/hand-made`, `${NS}/secrets/db-credentials`, `${APPS}/deployments/shop-9`]);
  });

  test('a cluster without the Gateway API: listing HTTPRoutes is a 404, pruning goes on', async () => {
    api.gatewayApi = false;
    const res = await target.delete({ application: 'shop', catalogNamespace: 'default', environment: 'production', namespace: 'shop-production' });
    assert.equal(res.ok, true);
    api.gatewayApi = true;
  });

  test('a rendering with placeholders or errors is refused before any request', async () => {
    const from = api.requests.length;
    const r = renderKubernetes({
      application: { namespace: 'default', name: 'shop' }, environment: { name: 'production', type: 'production' }, deployment: { id: IDS[0]!, number: 1 },
      workload, secretVariables: [], secretFiles: [], image: null, profile: {}, released: false,
    });
    await assert.rejects(target.deploy(r, { release: true }), RenderNotReady);
    assert.equal(api.requests.length, from);
  });

  test('API errors carry the Status message', async () => {
    const bad = { ...rendering(1).objects[1]!.object, metadata: { ...rendering(1).objects[1]!.object.metadata } };
    const res = await client.request('PATCH', `${NS}/secrets/other-name`, { body: bad, contentType: 'application/apply-patch+yaml' }).catch((e: Error) => e);
    assert.match(String(res), /PATCH \/api\/v1\/namespaces\/shop-production\/secrets\/other-name: 400 BadRequest: the name of the object does not match the URL/);
  });
});

describe('cluster credentials', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'pave-kubeconfig-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('a kubeconfig: the current context\'s server, CA and token (inline or from files)', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(path.join(tmp, 'token'), 'file-token\n');
    writeFileSync(path.join(tmp, 'ca.pem'), ca);
    const text = `
apiVersion: v1
kind: Config
current-context: prod
clusters:
  - name: prod-cluster
    cluster: { server: "https://10.0.0.1:6443/", certificate-authority-data: ${Buffer.from(ca).toString('base64')} }
  - name: dev-cluster
    cluster: { server: "https://dev:6443", certificate-authority: ca.pem }
users:
  - name: deployer
    user: { token: inline-token }
  - name: dev
    user: { tokenFile: token }
  - name: sso
    user: { exec: { command: aws } }
contexts:
  - name: prod
    context: { cluster: prod-cluster, user: deployer, namespace: shop }
  - name: dev
    context: { cluster: dev-cluster, user: dev }
  - name: sso
    context: { cluster: prod-cluster, user: sso }
`;
    assert.deepEqual(fromKubeconfig(text), { server: 'https://10.0.0.1:6443', token: 'inline-token', ca, clientCert: undefined, clientKey: undefined, insecureSkipTlsVerify: false, namespace: 'shop' });
    const dev = fromKubeconfig(text, { context: 'dev', dir: tmp });
    assert.equal(dev.token, 'file-token');
    assert.equal(dev.ca, ca);
    assert.throws(() => fromKubeconfig(text, { context: 'sso' }), /exec or auth-provider plugin/);
    assert.throws(() => fromKubeconfig(text, { context: 'nope' }), /no context nope/);
  });

  test('in-cluster: the service account\'s token, CA and namespace', () => {
    writeFileSync(path.join(tmp, 'ca.crt'), 'CA');
    writeFileSync(path.join(tmp, 'namespace'), 'pave\n');
    assert.deepEqual(inCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, tmp), { server: 'https://10.96.0.1:443', token: 'file-token', ca: 'CA', namespace: 'pave' });
    assert.throws(() => inCluster({}, tmp), /not in a cluster/);
  });
});
