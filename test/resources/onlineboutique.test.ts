import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import type { ApplyResultView, Resource } from '../../src/contracts/golden.ts';
import { SCORE_FIXTURES } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// The onlineboutique sample: eleven Score files, loaded as eleven applications whose resources are all provisioned.
const dir = path.join(SCORE_FIXTURES, 'examples/samples/onlineboutique');
const services = readdirSync(dir).sort();
let s: TestServer;

before(async () => {
  s = await startTestServer();
  assert.equal((await s.api('/api/v1/teams', { method: 'POST', json: { name: 'boutique' } })).status, 201);
});
after(async () => {
  for (const name of services) await s.api(`/api/v1/applications/${name}`, { method: 'DELETE' });
  await s.close();
});

test('the eleven onlineboutique services become applications and every resource is provisioned', async () => {
  assert.equal(services.length, 11);
  const byType = new Map<string, number>();
  for (const name of services) {
    const workload = parse(readFileSync(path.join(dir, name, 'score.yaml'), 'utf8')) as Record<string, unknown>;
    const created = await s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'boutique', template: 'node-service', workload } });
    assert.equal(created.status, 201, `${name}: ${await created.text()}`);
    const applied = (await (await s.api(`/api/v1/applications/${name}/environments/development/apply`, { method: 'POST' })).json()) as ApplyResultView;
    assert.equal(applied.ok, true, `${name}: ${JSON.stringify(applied.failed)}`);
    const { items } = (await (await s.api(`/api/v1/applications/${name}/environments/development/resources`)).json()) as { items: Resource[] };
    const declared = Object.keys((workload.resources ?? {}) as Record<string, unknown>).sort();
    assert.deepEqual(items.map((r) => r.name), declared, name);
    for (const r of items) {
      assert.equal(r.status, 'ready', `${name}/${r.name}`);
      byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    }
  }
  assert.deepEqual(Object.fromEntries([...byType].sort()), { dns: 1, redis: 1, route: 1, service: 16 });

  const frontend = new Map(((await (await s.api('/api/v1/applications/frontend/environments/development/resources')).json()) as { items: Resource[] }).items.map((r) => [r.name, r]));
  assert.equal(frontend.get('ad')!.outputs.name, 'ad', 'a service dependency resolves to the other workload by name');
  assert.equal(frontend.get('dns')!.outputs.host, 'frontend-development.localhost');
  assert.equal(frontend.get('route')!.outputs.host, 'frontend-development.localhost', "the route's host comes from the dns resource's output");
  assert.deepEqual(frontend.get('route')!.dependsOn, ['dns']);
  const cart = ((await (await s.api('/api/v1/applications/cart/environments/development/resources')).json()) as { items: Resource[] }).items[0]!;
  assert.equal(cart.type, 'redis');
  assert.equal(cart.outputs.password, '********');
  assert.match(String(cart.outputs.username), /^pv_cart_development_redis_cart_/);
});
