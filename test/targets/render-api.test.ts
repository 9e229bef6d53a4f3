/**
 * `GET /api/v1/applications/:name/environments/:env/render` and `pave render` on a real Pave server
 * (embedded PostgreSQL, the sample platform): the same application model that the local runtime runs
 * (template workload, add-ons, team profile, environment config, builds) rendered for Kubernetes and
 * GitOps, with placeholders for what is not there yet and secrets masked unless revealed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Build } from '../../src/contracts/deployments.ts';
import type { RenderView } from '../../src/contracts/targets.ts';
import { validateObjects } from '../../src/targets/kubernetes/validate.ts';
import type { KubeObject } from '../../src/targets/kubernetes/objects.ts';
import { cliSandbox, type Cli } from '../cli/helpers.ts';
import { build, createApp, deploy, envBase, HELLO, json } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const IMAGE = `registry.example.com/shop@sha256:${'c'.repeat(64)}`;
type Env = { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } };
const deploymentOf = (v: RenderView) => v.objects.find((o) => o.object.kind === 'Deployment')!.object as unknown as { metadata: { name: string; labels: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: { image: string; env: Env[] }[] } } } };
const secretOf = (v: RenderView) => v.objects.find((o) => o.object.kind === 'Secret')?.object as unknown as { metadata: { name: string }; data: Record<string, string> } | undefined;

describe('render API and CLI', { timeout: 120_000 }, () => {
  let s: TestServer;
  let cli: Cli;
  const render = async (app: string, env: string, query = '') => json<RenderView>(await s.api(`${envBase(app, env)}/render${query}`), 200);
  before(async () => {
    s = await startTestServer();
    cli = cliSandbox();
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    await createApp(s, 'shop');
  });
  after(async () => {
    cli?.cleanup();
    await s?.close();
  });

  test('before any build: the objects validate, the image and host are placeholders', async () => {
    const v = await render('shop', 'development', '?runtime=kubernetes');
    assert.deepEqual(v.errors, []);
    assert.equal(v.runtime, 'kubernetes');
    assert.equal(v.namespace, 'shop-development');
    assert.deepEqual(v.deployment, { id: 'pending', number: 1, existing: false });
    assert.equal(v.build, null);
    assert.deepEqual(v.objects.map((o) => `${o.phase}:${o.object.kind}`), ['namespace:Namespace', 'workload:Deployment', 'release:Service', 'release:HTTPRoute']);
    assert.match(v.placeholders.join('\n'), /image: the application has no successful build yet/);
    assert.match(v.placeholders.join('\n'), /no host or domain is configured/);
    assert.deepEqual(validateObjects(v.objects.map((o) => o.object as unknown as KubeObject)), []);
    const d = deploymentOf(v);
    assert.equal(d.spec.replicas, 1, 'the team profile\'s replicas for development');
    const c = d.spec.template.spec.containers[0]!;
    assert.deepEqual(c.env.find((e) => e.name === 'PORT'), { name: 'PORT', value: '8080' }, 'the template\'s workload variables');
  });

  test('an image registered by CI, the environment\'s config and secrets: no placeholders, the secret only in a Secret, masked', async () => {
    await json<Build>(await s.api('/api/v1/applications/shop/artifacts', { method: 'POST', json: { image: IMAGE } }), 201);
    await json(await s.api(`${envBase('shop', 'development')}/config`, { method: 'PATCH', json: { set: { FEATURE: 'on' }, secrets: { API_KEY: 'k-123' } } }), 200);
    const v = await render('shop', 'development', '?domain=apps.example.com');
    assert.deepEqual([...v.errors, ...v.placeholders], []);
    assert.deepEqual(v.build, { number: 1, image: IMAGE });
    const c = deploymentOf(v).spec.template.spec.containers[0]!;
    assert.equal(c.image, IMAGE);
    assert.deepEqual(c.env.find((e) => e.name === 'FEATURE'), { name: 'FEATURE', value: 'on' });
    assert.deepEqual(c.env.find((e) => e.name === 'API_KEY'), { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'shop-1-env', key: 'API_KEY' } } });
    assert.equal(v.masked, true);
    assert.equal(Buffer.from(secretOf(v)!.data.API_KEY!, 'base64').toString(), '********');
    assert.ok(!JSON.stringify(v).includes('k-123'));
    const revealed = await render('shop', 'development', '?domain=apps.example.com&reveal=true');
    assert.equal(Buffer.from(secretOf(revealed)!.data.API_KEY!, 'base64').toString(), 'k-123');
    const audit = await json<{ items: { action: string; target: string }[] }>(await s.api('/api/v1/audit?limit=5'), 200);
    assert.ok(audit.items.some((e) => e.action === 'secret.read'), 'revealing is audited as secret.read');
  });

  test('format=yaml: multi-document YAML with the notes as comments', async () => {
    const res = await s.api(`${envBase('shop', 'development')}/render?format=yaml&route=ingress&host=shop.example.com&ingressClass=nginx`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
    const text = await res.text();
    assert.match(text, /^# Pave: application:default\/shop in development for kubernetes, deployment 1 \(next\), build 1; namespace shop-development\n# secret values are masked/);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
    assert.deepEqual(docs.map((d) => d.kind), ['Namespace', 'Secret', 'Deployment', 'Service', 'Ingress']);
    assert.deepEqual(validateObjects(docs), []);
  });

  test('runtime=gitops: the files as they would be committed, in the Argo CD / Flux layout, the Secret left out', async () => {
    const v = await render('shop', 'development', '?runtime=gitops&cluster=eu-west-1&domain=apps.example.com');
    assert.equal(v.runtime, 'gitops');
    assert.equal(v.gitops!.folder, 'clusters/eu-west-1/development/shop');
    assert.deepEqual(v.gitops!.files.map((f) => f.path), [
      'clusters/eu-west-1/development/shop/namespace-shop-development.yaml', 'clusters/eu-west-1/development/shop/deployment-shop-1.yaml',
      'clusters/eu-west-1/development/shop/service-shop.yaml', 'clusters/eu-west-1/development/shop/httproute-shop.yaml', 'clusters/eu-west-1/development/shop/kustomization.yaml',
    ]);
    assert.deepEqual(v.gitops!.omitted, ['shop-1-env (keys: API_KEY)']);
  });

  test('an add-on whose resources are not provisioned: its outputs are placeholders, passed as secrets', async () => {
    await json(await s.api('/api/v1/applications/shop/addons', { method: 'POST', json: { addon: 'postgres', name: 'db' } }), 201);
    const v = await render('shop', 'development', '?domain=apps.example.com');
    assert.deepEqual(v.errors, []);
    assert.match(v.placeholders.join('\n'), /resources are not provisioned yet/);
    const c = deploymentOf(v).spec.template.spec.containers[0]!;
    const url = c.env.find((e) => e.name === 'DATABASE_URL');
    assert.ok(url?.valueFrom, `DATABASE_URL comes from the Secret: ${JSON.stringify(url)}`);
    await json(await s.api('/api/v1/applications/shop/addons/db', { method: 'DELETE' }), 200);
  });

  test('an existing deployment renders from its own build and snapshot', async () => {
    await createApp(s, 'local-app');
    await build(s, 'local-app');
    const d = await deploy(s, 'local-app', 'development', {});
    assert.equal(d.status, 'healthy');
    const v = await render('local-app', 'development', `?deployment=${d.number}&domain=apps.example.com`);
    assert.deepEqual(v.deployment, { id: d.id, number: d.number, existing: true });
    assert.equal(deploymentOf(v).metadata.labels['pave.dev/deployment'], d.id);
    assert.match(v.placeholders.join('\n'), /build 1 is a local artifact .* not an image; register an image built by CI/);
    await s.services.deployments.stopAll();
  });

  test('pave render prints the objects as YAML, notes on stderr; unknown environment is a 404', async () => {
    const env = { PAVE_URL: s.url, PAVE_TOKEN: s.token };
    const r = await cli.run(['render', 'shop', '--env', 'development', '--runtime', 'kubernetes', '--domain', 'apps.example.com'], { env });
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject);
    assert.deepEqual(docs.map((d) => d.kind), ['Namespace', 'Secret', 'Deployment', 'Service', 'HTTPRoute']);
    assert.match(r.stderr, /shop in development for kubernetes: 5 objects in namespace shop-development, deployment 1 \(next\), build 1; secret values masked/);
    const j = await cli.run(['render', 'shop', '-e', 'development', '--runtime', 'gitops', '-o', 'json'], { env });
    assert.equal(j.code, 0, j.stderr);
    assert.equal((JSON.parse(j.stdout) as RenderView).gitops!.folder, 'clusters/default/development/shop');
    const missing = await cli.run(['render', 'shop', '--env', 'nope'], { env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /environment nope/);
  });
});
