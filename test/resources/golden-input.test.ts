import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PatternSummary, SyncReportView } from '../../src/contracts/golden.ts';
import { SAMPLE_PLATFORM } from '../../src/services.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// Bad input to golden paths, and bad platform files, through the API. Nothing is half written.
interface Problem {
  status: number;
  detail: string;
  errors?: { path: string; message: string; code?: string }[];
}

let s: TestServer;
let platformDir: string;
const entityCount = async () => Number((await s.store.db.selectFrom('entities').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const create = (body: Record<string, unknown>) => s.api('/api/v1/applications', { method: 'POST', json: { name: 'app', owner: 'payments', template: 'node-service', ...body } });

before(async () => {
  platformDir = mkdtempSync(path.join(os.tmpdir(), 'pave-platform-'));
  cpSync(SAMPLE_PLATFORM, platformDir, { recursive: true });
  s = await startTestServer({ platform: platformDir });
  assert.equal((await s.api('/api/v1/teams', { method: 'POST', json: { name: 'payments' } })).status, 201);
});
after(async () => {
  await s.close();
  rmSync(platformDir, { recursive: true, force: true });
});

describe('creating an application from a template with bad input', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a value outside an enum lists the allowed values', { inputs: { size: 'huge' } }, 'body.inputs.size', /must be one of small, medium, large/],
    ['a number below its minimum', { inputs: { port: 80 } }, 'body.inputs.port', /1024/],
    ['a value of the wrong type', { inputs: { port: 'eighty' } }, 'body.inputs.port', /integer/],
    ['an input the template does not declare', { inputs: { colour: 'blue' } }, 'body.inputs.colour', /not an input/],
    ['an input only the platform team sets', { inputs: { nodeVersion: '22' } }, 'body.inputs.nodeVersion', /platform team/],
    ['an unknown template', { template: 'cobol-service' }, 'body.template', /unknown template/],
    ['an unknown add-on', { addons: [{ addon: 'oracle' }] }, 'body.addons[0].addon', /unknown add-on/],
    ['a bad add-on input', { addons: [{ addon: 'postgres', inputs: { size: 'xxl' } }] }, 'body.addons[0].inputs.size', /must be one of/],
    ['a workload that is not Score', { workload: { apiVersion: 'score.dev/v1b1', containers: { web: { image: 42 } } } }, 'body.workload.containers.web.image', /string/],
  ];
  for (const [name, body, field, message] of cases) {
    test(`${name}: 400 naming ${field}, nothing written`, async () => {
      const before_ = await entityCount();
      const res = await create(body);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const p = (await res.json()) as Problem;
      const e = p.errors?.find((x) => x.path === field);
      assert.ok(e, `no error at ${field}: ${JSON.stringify(p.errors)}`);
      assert.match(e.message, message);
      assert.equal(await entityCount(), before_);
    });
  }

  test('an enum error carries the allowed values in a machine-readable form', async () => {
    const p = (await (await create({ inputs: { size: 'huge' } })).json()) as Problem;
    assert.equal(p.errors?.[0]?.code, 'allowed: small|medium|large');
  });

  test('resources that depend on each other in a cycle: 400 naming the cycle', async () => {
    const workload = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'x' },
      containers: { web: { image: '.' } },
      resources: {
        aa: { type: 'service-port', params: { port: 1, host: '${resources.bb.hostname}' } },
        bb: { type: 'service-port', params: { port: 2, host: '${resources.aa.hostname}' } },
      },
    };
    const p = (await (await create({ workload })).json()) as Problem;
    assert.equal(p.status, 400);
    assert.match(p.detail, /cycle: aa → bb → aa/);
  });

  test('a duplicate application is a 409 and the first one is untouched', async () => {
    assert.equal((await create({ name: 'twice' })).status, 201);
    assert.equal((await create({ name: 'twice', inputs: { size: 'large' } })).status, 409);
    const gp = (await (await s.api('/api/v1/applications/twice/golden-path')).json()) as { inputs: { size: string } };
    assert.equal(gp.inputs.size, 'small');
    assert.equal((await s.api('/api/v1/applications/twice', { method: 'DELETE' })).status, 204);
  });
});

describe('platform as code', () => {
  const sync = async () => {
    const res = await s.api('/api/v1/platform/sync', { method: 'POST' });
    assert.equal(res.status, 200);
    return (await res.json()) as SyncReportView;
  };

  test('a bad file is reported with its path, line and reason while the good ones load', async () => {
    writeFileSync(path.join(platformDir, 'addons', 'broken.yaml'), 'apiVersion: pave.dev/v1\nkind: AddOn\nmetadata:\n  name: broken\n  version: 1.0.0\nspec:\n  inputs:\n    type: object\n    properties:\n      size: { type: string, enum: small }\n');
    writeFileSync(path.join(platformDir, 'addons', 'ok.yaml'), 'apiVersion: pave.dev/v1\nkind: AddOn\nmetadata:\n  name: memcached\n  version: 1.0.0\n  title: Memcached\nspec:\n  resources:\n    cache:\n      type: redis\n  outputs:\n    MEMCACHED_HOST: ${resources.cache.host}\n');
    const report = await sync();
    const err = report.errors.find((e) => e.file === 'addons/broken.yaml');
    assert.ok(err, JSON.stringify(report.errors));
    assert.equal(err.line, 10);
    assert.match(err.path ?? '', /spec\.inputs\.properties\.size\.enum/);
    assert.deepEqual(report.published.map((p) => `${p.kind}/${p.name}@${p.version}`), ['AddOn/memcached@1.0.0']);
    const addons = (await (await s.api('/api/v1/platform/addons')).json()) as { items: PatternSummary[] };
    assert.ok(addons.items.some((a) => a.name === 'memcached'));
    assert.ok(!addons.items.some((a) => a.name === 'broken'));
    rmSync(path.join(platformDir, 'addons', 'broken.yaml'));
  });

  test('a published version never changes: other content under the same version is refused, apps keep theirs', async () => {
    assert.equal((await create({ name: 'pinned' })).status, 201);
    const file = path.join(platformDir, 'templates', 'node-service.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('default: 8080', 'default: 9090'));
    const report = await sync();
    assert.ok(report.errors.some((e) => e.file === 'templates/node-service.yaml' && /already published with other content/.test(e.message)), JSON.stringify(report.errors));
    const t = (await (await s.api('/api/v1/platform/templates/node-service')).json()) as PatternSummary;
    assert.deepEqual(t.versions, ['1.0.0']);
    assert.equal(t.fields.find((f) => f.name === 'port')?.default, 8080);

    writeFileSync(file, original.replace('default: 8080', 'default: 9090').replace('version: 1.0.0', 'version: 1.1.0'));
    const next = await sync();
    assert.deepEqual(next.published.map((p) => `${p.name}@${p.version}`), ['node-service@1.1.0']);
    const t2 = (await (await s.api('/api/v1/platform/templates/node-service')).json()) as PatternSummary;
    assert.deepEqual(t2.versions, ['1.1.0', '1.0.0']);
    const gp = (await (await s.api('/api/v1/applications/pinned/golden-path')).json()) as { template: { version: string }; inputs: { port: number } };
    assert.deepEqual([gp.template.version, gp.inputs.port], ['1.0.0', 8080], 'the application stays on the version it was made from');
    assert.equal((await create({ name: 'newer' })).status, 201);
    const gp2 = (await (await s.api('/api/v1/applications/newer/golden-path')).json()) as { template: { version: string }; inputs: { port: number } };
    assert.deepEqual([gp2.template.version, gp2.inputs.port], ['1.1.0', 9090], 'new applications get the latest version');
    for (const app of ['pinned', 'newer']) assert.equal((await s.api(`/api/v1/applications/${app}`, { method: 'DELETE' })).status, 204);
  });

  test('changing a resource definition publishes a new revision; only platform engineers may sync', async () => {
    const file = path.join(platformDir, 'resource-definitions', 'local.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('A *.localhost name', 'A *.localhost host name'));
    const report = await sync();
    assert.deepEqual(report.published.map((p) => `${p.kind}/${p.name}@${p.version}`), ['ResourceDefinition/local-dns@r2']);
    assert.equal((await s.api('/api/v1/users', { method: 'POST', json: { name: 'dev' } })).status, 201);
    const token = ((await (await s.api('/api/v1/users/dev/tokens', { method: 'POST', json: { name: 't' } })).json()) as { token: string }).token;
    assert.equal((await s.api('/api/v1/platform/sync', { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 403);
    assert.equal((await s.api('/api/v1/platform/secrets/x', { method: 'PUT', json: { value: 'v' }, headers: { authorization: `Bearer ${token}` } })).status, 403);
  });
});

describe('catalog fields of an application made from a template', () => {
  test('are kept beside the golden path (tags, labels, links, relations, lifecycle)', async () => {
    const res = await create({
      name: 'rich', templateVersion: '1.0.0', description: 'Has everything', tags: ['node', 'payments'], labels: { tier: 'gold' }, lifecycle: 'production',
      links: [{ url: 'https://git.example.com/rich', title: 'Repository' }], dependsOn: ['application:default/ledger'], annotations: { 'example.com/x': 'y' },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const e = (await res.json()) as { description: string; tags: string[]; labels: Record<string, string>; lifecycle: string; links: { url: string }[]; annotations: Record<string, string>; relations: { type: string; targetRef: string }[] };
    assert.equal(e.description, 'Has everything');
    assert.deepEqual(e.tags, ['node', 'payments']);
    assert.deepEqual(e.labels, { tier: 'gold' });
    assert.equal(e.lifecycle, 'production');
    assert.equal(e.links[0]!.url, 'https://git.example.com/rich');
    assert.deepEqual(e.annotations, { 'example.com/x': 'y', 'pave.dev/template': 'node-service@1.0.0' });
    assert.ok(e.relations.some((r) => r.type === 'dependsOn' && r.targetRef === 'application:default/ledger'));
    assert.equal((await s.api('/api/v1/applications/rich', { method: 'DELETE' })).status, 204);
  });

  test('the profile of a team that does not exist is a 404', async () => {
    assert.equal((await s.api('/api/v1/teams/payments/profile')).status, 200);
    assert.equal((await s.api('/api/v1/teams/nobody/profile')).status, 404);
  });
});
