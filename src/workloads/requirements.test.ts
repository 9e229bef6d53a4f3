import { SCORE_FIXTURES } from '../../test/support/fixtures.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resourceRequirements, type ResourceRequirement } from './requirements.ts';
import { parseScore, type ScoreWorkload } from './score.ts';

function workloadOf(text: string, location?: string): ScoreWorkload {
  const result = parseScore(text, location);
  assert.ok('workload' in result, JSON.stringify(result));
  return result.workload;
}

const BOUTIQUE = join(SCORE_FIXTURES, 'examples/samples/onlineboutique');
const services = readdirSync(BOUTIQUE, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const boutique = new Map(services.map((s) => [s, workloadOf(readFileSync(join(BOUTIQUE, s, 'score.yaml'), 'utf8'), `${s}/score.yaml`)]));

function requirementsOf(service: string): ResourceRequirement[] {
  const w = boutique.get(service);
  assert.ok(w, `no service ${service}`);
  return resourceRequirements(w);
}

describe('onlineboutique: the resources of eleven services', () => {
  test('eleven services, each workload named after its folder', () => {
    assert.deepEqual(services, [
      'ad',
      'cart',
      'checkout',
      'currency',
      'email',
      'frontend',
      'loadgenerator',
      'payment',
      'productcatalog',
      'recommendation',
      'shipping',
    ]);
    for (const [folder, w] of boutique) assert.equal(w.metadata.name, folder);
  });

  test('every resource, with its type, per service', () => {
    const found = Object.fromEntries(services.map((s) => [s, requirementsOf(s).map((r) => `${r.name}:${r.type}`)]));
    assert.deepEqual(found, {
      ad: [],
      cart: ['redis-cart:redis'],
      checkout: ['cart:service', 'currency:service', 'email:service', 'payment:service', 'productcatalog:service', 'shipping:service'],
      currency: [],
      email: [],
      frontend: [
        'ad:service',
        'cart:service',
        'checkout:service',
        'currency:service',
        'dns:dns',
        'route:route',
        'payment:service',
        'productcatalog:service',
        'recommendation:service',
        'shipping:service',
      ],
      loadgenerator: ['frontend:service'],
      payment: [],
      productcatalog: [],
      recommendation: ['productcatalog:service'],
      shipping: [],
    });
    const all = services.flatMap((s) => requirementsOf(s));
    assert.equal(all.length, 19);
    const byType: Record<string, number> = {};
    for (const r of all) byType[r.type] = (byType[r.type] ?? 0) + 1;
    assert.deepEqual(byType, { redis: 1, service: 16, dns: 1, route: 1 });
  });

  test('every `service` resource names another workload of the application', () => {
    for (const s of services) {
      for (const r of requirementsOf(s).filter((x) => x.type === 'service')) {
        assert.ok(boutique.has(r.name), `${s} needs service ${r.name}, which is not a workload`);
        assert.notEqual(r.name, s);
      }
    }
  });

  test('defaults: class "default", id <workload>.<resource>, not shared, no params', () => {
    assert.deepEqual(requirementsOf('cart'), [
      {
        name: 'redis-cart',
        type: 'redis',
        class: 'default',
        id: 'cart.redis-cart',
        shared: false,
        uid: 'redis.default#cart.redis-cart',
        params: {},
        metadata: {},
        dependsOn: [],
      },
    ]);
  });

  test('the frontend route depends on the dns resource; nothing else has edges', () => {
    const frontend = requirementsOf('frontend');
    const route = frontend.find((r) => r.name === 'route');
    assert.deepEqual(route, {
      name: 'route',
      type: 'route',
      class: 'default',
      id: 'frontend.route',
      shared: false,
      uid: 'route.default#frontend.route',
      params: { host: '${resources.dns.host}', path: '/', port: 8080 },
      metadata: {},
      dependsOn: ['dns'],
    });
    const edges = services.flatMap((s) => requirementsOf(s).flatMap((r) => r.dependsOn.map((d) => `${s}/${r.name} -> ${d}`)));
    assert.deepEqual(edges, ['frontend/route -> dns']);
  });
});

describe('resourceRequirements', () => {
  test('score-full.yaml: given class, shared id, metadata and params', () => {
    const w = workloadOf(readFileSync(join(SCORE_FIXTURES, 'samples/score-full.yaml'), 'utf8'));
    assert.deepEqual(resourceRequirements(w), [
      {
        name: 'resource-one1',
        type: 'Resource-One',
        class: 'default',
        id: 'example-workload-name123.resource-one1',
        shared: false,
        uid: 'Resource-One.default#example-workload-name123.resource-one1',
        params: { extra: { data: 'here' } },
        metadata: {
          annotations: { 'Default-Annotation': 'this is my annotation', 'prefix.com/Another-Key_Annotation.2': 'something else' },
          'extra-key': 'extra-value',
        },
        dependsOn: [],
      },
      {
        name: 'resource-two2',
        type: 'Resource-Two',
        class: 'default',
        id: 'example-workload-name123.resource-two2',
        shared: false,
        uid: 'Resource-Two.default#example-workload-name123.resource-two2',
        params: {},
        metadata: {},
        dependsOn: [],
      },
      {
        name: 'resource-three',
        type: 'Type-Three',
        class: 'default',
        id: 'shared-type-three',
        shared: true,
        uid: 'Type-Three.default#shared-type-three',
        params: {},
        metadata: {},
        dependsOn: [],
      },
    ]);
  });

  test('dependency edges from params; a cycle is kept as edges (the graph detects it)', () => {
    const w = workloadOf(`apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  main:
    image: shop
resources:
  db:
    type: postgres
    class: large
  schema:
    type: db-migration
    params:
      url: postgres://\${resources.db.username}:\${resources.db.password}@\${resources.db.host}/shop
      owner: \${metadata.name}
  api-a:
    type: service
    params:
      peers: ["\${resources.api-b.url}", "\${resources.db.host}"]
  api-b:
    type: service
    params:
      peer: \${resources.api-a.url}
  loop:
    type: thing
    params:
      self: \${resources.loop.id}
      literal: $\${resources.db.host}
`);
    const reqs = resourceRequirements(w);
    assert.deepEqual(
      reqs.map((r) => [r.name, r.dependsOn]),
      [
        ['db', []],
        ['schema', ['db']],
        ['api-a', ['api-b', 'db']],
        ['api-b', ['api-a']],
        ['loop', ['loop']],
      ],
    );
    assert.equal(reqs[0]?.class, 'large');
    assert.equal(reqs[0]?.uid, 'postgres.large#shop.db');
  });

  test('requirements are copies: changing them does not change the workload', () => {
    const w = boutique.get('frontend');
    assert.ok(w);
    const route = resourceRequirements(w).find((r) => r.name === 'route');
    assert.ok(route);
    route.params.host = 'changed';
    assert.equal(w.resources?.route?.params?.host, '${resources.dns.host}');
  });

  test('a workload without resources needs none', () => {
    assert.deepEqual(resourceRequirements(workloadOf('apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers: {main: {image: app}}\n')), []);
  });
});
