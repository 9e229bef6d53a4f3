import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ScoreWorkload } from '../../workloads/score.ts';
import { LABELS, type KubeObject } from './objects.ts';
import { resolveForRender } from './pending.ts';
import { renderKubernetes, type RenderInput } from './render.ts';
import { validateObject } from './validate.ts';

/** Rendered JSON, read loosely in assertions: `o.spec.template` and `o.containers[0]` are J again. */
type K =
  | 'spec' | 'replicas' | 'template' | 'containers' | 'image' | 'enableServiceLinks' | 'resources' | 'readinessProbe' | 'livenessProbe' | 'selector' | 'ports'
  | 'hostnames' | 'rules' | 'backendRefs' | 'parentRefs' | 'env' | 'data' | 'binaryData' | 'immutable' | 'volumes' | 'configMap' | 'items' | 'volumeMounts'
  | 'serviceName' | 'clusterIP' | 'command' | 'args' | 'volumeClaimTemplates' | 'valueFrom' | 'API_KEY' | 'web.etc.app.creds' | 'pave.dev/deployment' | 0;
type J = { readonly [k in K]: J };
type Json = Record<string, unknown>;
/** The element of a JSON array whose `field` is `value`. */
const pick = (list: J, field: string, value: unknown): J | undefined => (list as unknown as J[]).find((e) => (e as unknown as Json)[field] === value);

const ID = '0a9b8c7d-1111-4222-8333-444455556666';

function workload(extra: Partial<ScoreWorkload> = {}, container: Json = {}): ScoreWorkload {
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'shop' },
    containers: { web: { image: '.', variables: { PORT: '8080' }, ...container } },
    service: { ports: { web: { port: 80, targetPort: 8080 } } },
    ...extra,
  } as ScoreWorkload;
}

function render(w: ScoreWorkload, extra: Partial<RenderInput> = {}, outputs: Record<string, Json> = {}, secrets: Record<string, string[]> = {}) {
  const r = resolveForRender(w, outputs, secrets);
  return renderKubernetes({
    application: { namespace: 'default', name: 'shop' }, environment: { name: 'production', type: 'production' }, deployment: { id: ID, number: 4 },
    workload: r.workload, secretVariables: r.secretVariables, secretFiles: r.secretFiles, secretArgs: r.secretArgs, image: 'registry.example.com/shop@sha256:' + 'b'.repeat(64),
    profile: { replicas: 3, cpu: '500m', memory: '512Mi', healthPath: '/healthz' }, released: true, route: { domain: 'apps.example.com' }, ...extra,
  });
}

const find = (objects: { object: KubeObject }[], kind: string, name?: string): J => {
  const o = objects.find((x) => x.object.kind === kind && (name === undefined || x.object.metadata.name === name));
  assert.ok(o, `a ${kind}${name ? ` ${name}` : ''} is rendered`);
  return o.object as unknown as J;
};

describe('renderKubernetes', () => {
  test('a web service: namespace, deployment named after the deployment, a Service that selects it, an HTTPRoute', () => {
    const out = render(workload());
    assert.deepEqual(out.errors, []);
    assert.deepEqual(out.placeholders, []);
    assert.equal(out.namespace, 'shop-production');
    assert.deepEqual(out.objects.map((o) => `${o.phase}:${o.object.kind}/${o.object.metadata.name}`), [
      'namespace:Namespace/shop-production', 'workload:Deployment/shop-4', 'release:Service/shop', 'release:HTTPRoute/shop',
    ]);
    const d = find(out.objects, 'Deployment');
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers![0]!.image, 'registry.example.com/shop@sha256:' + 'b'.repeat(64));
    assert.equal(d.spec.template.spec.enableServiceLinks, false, 'a process gets exactly the environment it is given');
    assert.deepEqual(d.spec.template.spec.containers![0]!.resources, { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '512Mi' } });
    assert.deepEqual(d.spec.template.spec.containers![0]!.readinessProbe, { httpGet: { path: '/healthz', port: 8080 } }, 'the profile health path, on the service port');
    const svc = find(out.objects, 'Service');
    assert.equal(svc.spec.selector[LABELS.deployment], ID, 'releasing is switching this selector');
    assert.deepEqual(svc.spec.ports, [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    const route = find(out.objects, 'HTTPRoute');
    assert.deepEqual(route.spec.hostnames, ['shop-production.apps.example.com']);
    assert.deepEqual(route.spec.rules![0]!.backendRefs, [{ name: 'shop', port: 80 }]);
    assert.deepEqual(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'pave' }]);
    for (const { object } of out.objects) {
      assert.equal(object.metadata.labels?.[LABELS.managedBy], 'pave');
      assert.equal(object.metadata.labels?.[LABELS.application], 'shop');
      assert.equal(object.metadata.labels?.[LABELS.environment], 'production');
    }
  });

  test('the same input renders the same objects (a rollback re-applies exactly what ran)', () => {
    assert.deepEqual(render(workload()), render(workload()));
  });

  test('an unreleased rendering has no route; a given namespace is used, not created', () => {
    const out = render(workload(), { released: false, namespace: 'team-shop' });
    assert.deepEqual(out.objects.map((o) => o.object.kind), ['Deployment', 'Service']);
    assert.ok(out.objects.every((o) => o.object.metadata.namespace === 'team-shop'));
  });

  test('Ingress instead of an HTTPRoute, with the class and host asked for', () => {
    const out = render(workload(), { route: { kind: 'Ingress', host: 'shop.example.com', ingressClassName: 'nginx' } });
    const ing = find(out.objects, 'Ingress');
    assert.deepEqual(ing.spec, { ingressClassName: 'nginx', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] } }] });
    assert.deepEqual(out.errors, []);
  });

  test('the snapshot\'s variables: secret ones only through a Secret (masked on request), $( kept literal', () => {
    const main = { variables: { PORT: '8080', API_KEY: 'k-123', GREETING: 'costs $(PRICE)' }, secretNames: ['API_KEY'] };
    const out = render(workload(), { main });
    const c = find(out.objects, 'Deployment').spec.template.spec.containers![0]!;
    assert.deepEqual(pick(c.env, 'name', 'API_KEY'), { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'shop-4-env', key: 'API_KEY' } } });
    assert.deepEqual(pick(c.env, 'name', 'GREETING'), { name: 'GREETING', value: 'costs $$(PRICE)' });
    assert.deepEqual((c.env as unknown as Json[]).slice(0, 3).map((e) => e.name), ['PAVE_APPLICATION', 'PAVE_ENVIRONMENT', 'PAVE_DEPLOYMENT']);
    const secret = find(out.objects, 'Secret');
    assert.equal(Buffer.from(String(secret.data.API_KEY), 'base64').toString(), 'k-123');
    assert.equal(secret.immutable, true);
    const masked = render(workload(), { main, mask: '********' });
    assert.equal(Buffer.from(String(find(masked.objects, 'Secret').data.API_KEY), 'base64').toString(), '********');
  });

  test('files: a ConfigMap (binary data apart, modes kept), a Secret for files with secret outputs, mounted by subPath', () => {
    const w = workload({ resources: { db: { type: 'postgres' } } }, {
      files: {
        '/etc/app/config.yaml': { content: 'db: ${resources.db.host}\n', mode: '0640' },
        '/etc/app/creds': { content: 'password=${resources.db.password}' },
        '/etc/app/logo.bin': { binaryContent: Buffer.from([0, 1, 2, 255]).toString('base64') },
        '/etc/app/raw': { content: 'keep ${resources.db.host}', noExpand: true },
      },
    });
    const out = render(w, {}, { db: { host: 'pg.internal', password: 's3cret' } }, { db: ['password'] });
    assert.deepEqual(out.errors, []);
    const cm = find(out.objects, 'ConfigMap');
    assert.deepEqual(cm.data, { 'web.etc.app.config.yaml': 'db: pg.internal\n', 'web.etc.app.raw': 'keep ${resources.db.host}' });
    assert.deepEqual(Object.keys(cm.binaryData), ['web.etc.app.logo.bin']);
    const sf = find(out.objects, 'Secret', 'shop-4-secret-files');
    assert.equal(Buffer.from(String(sf.data['web.etc.app.creds']), 'base64').toString(), 'password=s3cret');
    const pod = find(out.objects, 'Deployment').spec.template.spec;
    const files = pick(pod.volumes, 'name', 'files')!;
    assert.deepEqual(pick(files.configMap.items, 'key', 'web.etc.app.config.yaml'), { key: 'web.etc.app.config.yaml', path: 'web.etc.app.config.yaml', mode: 0o640 });
    assert.deepEqual(pick(pod.containers![0]!.volumeMounts, 'mountPath', '/etc/app/creds'), { name: 'secret-files', mountPath: '/etc/app/creds', subPath: 'web.etc.app.creds', readOnly: true });
    assert.ok(!JSON.stringify(pod).includes('s3cret'));
  });

  test('a secret output in command or args is passed through the Secret as $(VAR), never in clear', () => {
    const w = workload({ resources: { db: { type: 'postgres' } } }, { command: ['/app', '--host=${resources.db.host}'], args: ['--password=${resources.db.password}'] });
    const out = render(w, {}, { db: { host: 'pg', password: 's3cret' } }, { db: ['password'] });
    const c = find(out.objects, 'Deployment').spec.template.spec.containers![0]!;
    assert.deepEqual(c.command, ['/app', '--host=pg']);
    assert.deepEqual(c.args, ['$(PAVE_SECRET_ARG_0)']);
    assert.deepEqual(pick(c.env, 'name', 'PAVE_SECRET_ARG_0'), { name: 'PAVE_SECRET_ARG_0', valueFrom: { secretKeyRef: { name: 'shop-4-env', key: 'web.args.0' } } });
    assert.ok(!JSON.stringify(find(out.objects, 'Deployment')).includes('s3cret'));
  });

  test('a StatefulSet when the workload asks: headless Service, volume claim templates', () => {
    const w = workload({ metadata: { name: 'shop', annotations: { 'k8s.score.dev/kind': 'StatefulSet' } }, resources: { data: { type: 'volume', params: { size: '5Gi' } } } }, { volumes: { '/data': { source: '${resources.data}' } } });
    const out = render(w);
    assert.deepEqual(out.errors, []);
    const sts = find(out.objects, 'StatefulSet');
    assert.equal(sts.spec.serviceName, 'shop-4-headless');
    assert.equal(find(out.objects, 'Service', 'shop-4-headless').spec.clusterIP, 'None');
    assert.deepEqual(sts.spec.volumeClaimTemplates![0]!.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } });
    assert.deepEqual(sts.spec.template.spec.containers![0]!.volumeMounts, [{ name: 'vol-data', mountPath: '/data' }]);
    assert.ok(!out.objects.some((o) => o.object.kind === 'PersistentVolumeClaim'));
  });

  test('workload limits win over the profile; profile requests never exceed them; Score K becomes k', () => {
    const out = render(workload({}, { resources: { limits: { memory: '256Mi' }, requests: { cpu: '128K' } } }));
    assert.deepEqual(find(out.objects, 'Deployment').spec.template.spec.containers![0]!.resources, { requests: { cpu: '128k', memory: '256Mi' }, limits: { memory: '256Mi' } });
  });

  test('probes from the workload: httpGet or exec; both is one handler with a warning', () => {
    const out = render(workload({}, { livenessProbe: { exec: { command: ['true'] } }, readinessProbe: { httpGet: { path: '/ready', port: 8080 }, exec: { command: ['x'] } } }));
    const c = find(out.objects, 'Deployment').spec.template.spec.containers![0]!;
    assert.deepEqual(c.livenessProbe, { exec: { command: ['true'] } });
    assert.deepEqual(c.readinessProbe, { httpGet: { path: '/ready', port: 8080 } });
    assert.match(out.warnings.join('\n'), /readinessProbe: Kubernetes allows one handler per probe/);
  });

  test('what is not known yet is a placeholder: the image of a local build, outputs, the host', () => {
    const w = workload({ resources: { db: { type: 'postgres' } } }, { variables: { DB: '${resources.db.host}' } });
    const out = render(w, { image: null, imageMissing: 'build 3 is a local artifact, not an image', route: {} });
    assert.deepEqual(out.errors, []);
    const text = out.placeholders.join('\n');
    assert.match(text, /image: build 3 is a local artifact, not an image; shown as pave-placeholder\.invalid\/shop:build/);
    assert.match(text, /variables\.DB: \$\{resources\.db\.host\} \(not provisioned yet\)/);
    assert.match(text, /no host or domain is configured/);
    const c = find(out.objects, 'Deployment').spec.template.spec.containers![0]!;
    assert.ok(pick(c.env, 'name', 'DB')?.valueFrom, 'an output not known yet is treated as a secret');
  });

  test('route resources of the workload become the route\'s hosts and paths', () => {
    const w = workload({ resources: { r: { type: 'route', params: { host: 'shop.example.com', path: '/api', port: 80 } } } });
    const route = find(render(w).objects, 'HTTPRoute');
    assert.deepEqual(route.spec.hostnames, ['shop.example.com']);
    assert.deepEqual(route.spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'shop', port: 80 }] }]);
  });

  test('the validator catches what the schemas and the API server refuse', () => {
    const bad = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Bad_Name', namespace: 'ns', labels: { 'pave.dev/application': 'x'.repeat(64) } },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, spec: { containers: [{ name: 'web', image: 'x', ports: [{ containerPort: 'eighty' }], livenessProbe: { exec: { command: ['a'] }, httpGet: { port: 1 } } }] } } },
    } as unknown as KubeObject;
    const errors = validateObject(bad).join('\n');
    assert.match(errors, /schema: .*containerPort must be integer/);
    assert.match(errors, /metadata\.name "Bad_Name" must be an RFC 1123 subdomain/);
    assert.match(errors, /is not a valid label value/);
    assert.match(errors, /matchLabels\.a does not match/);
    assert.match(errors, /livenessProbe must have exactly one handler/);
  });
});
