import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ok } from './helpers.ts';

/** The OpenAPI document: valid OpenAPI 3.1, complete, and true to what the server answers. */

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  parameters: { name: string; in: string; required: boolean; schema: Json }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
  security?: unknown[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
  security: Json[];
}

const PORTAL_DIST = path.resolve(import.meta.dirname, '../../portal/dist');

let s: TestServer;
let doc: OpenApiDoc;
let ops: { method: string; path: string; op: Operation }[];
before(async () => {
  s = await startTestServer();
  const res = await s.api('/api/v1/openapi.json');
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  doc = await ok<OpenApiDoc>(res);
  ops = Object.entries(doc.paths).flatMap(([p, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ method: method.toUpperCase(), path: p, op })));
});
after(async () => {
  await s?.close();
});

/** The routes the Fastify app serves, from its route tree (HEAD routes, which Fastify adds for GET, left out). */
function servedRoutes(app: TestServer['app']): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[└├]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const url = (depth === 0 ? '' : stack[depth - 1]!) + m[2]!;
    stack[depth] = url;
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim()).filter((x) => x && x !== 'HEAD')) out.push({ method, url });
  }
  return out;
}

describe('the OpenAPI document', () => {
  test('is valid OpenAPI 3.1 and every $ref resolves', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Pave API');
    assert.equal(doc.info.version, 'test');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Json); // it resolves refs in place
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
    assert.doesNotThrow(() => validator.resolveRefs());
    const refs: string[] = [];
    JSON.stringify(doc, (key, value: unknown) => {
      if (key === '$ref' && typeof value === 'string') refs.push(value);
      return value;
    });
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      assert.match(ref, /^#\/components\/schemas\/[A-Za-z]+$/, ref);
      assert.ok(doc.components.schemas[ref.split('/').at(-1)!], `${ref} is defined`);
    }
  });

  test('documents every route the server serves, and serves every documented route', () => {
    const served = servedRoutes(s.app);
    assert.ok(served.length >= 20, JSON.stringify(served));
    const documented = new Set(ops.map((o) => `${o.method} ${o.path}`));
    for (const r of served) {
      const key = `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`;
      if (documented.has(key)) continue;
      // only the portal's static files may be left out of the API document
      const file = r.url === '/' ? 'index.html' : r.url.slice(1);
      assert.ok(r.method === 'GET' && existsSync(path.join(PORTAL_DIST, file)), `${key} is served but not documented`);
    }
    for (const o of ops) {
      assert.ok(s.app.hasRoute({ method: o.method as 'GET', url: o.path.replace(/\{(\w+)\}/g, ':$1') }), `${o.method} ${o.path} is documented but not served`);
    }
  });

  test('operationIds are unique, and each operation has a summary and a tag', () => {
    const ids = ops.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length, `duplicates: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
    for (const { method, path: p, op } of ops) {
      assert.match(op.operationId, /^[a-z][A-Za-z]+$/, `${method} ${p}`);
      assert.ok(op.summary.length > 5, `${method} ${p}`);
      assert.equal(op.tags.length, 1, `${method} ${p}`);
    }
  });

  test('every path parameter is declared, required and has a schema', () => {
    for (const { method, path: p, op } of ops) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = op.parameters.filter((x) => x.in === 'path');
      assert.deepEqual(declared.map((x) => x.name).sort(), inPath, `${method} ${p}`);
      for (const x of declared) assert.ok(x.required && x.schema, `${method} ${p} ${x.name}`);
      const names = op.parameters.map((x) => `${x.in}:${x.name}`);
      assert.equal(new Set(names).size, names.length, `${method} ${p} has duplicate parameters`);
    }
  });

  test('security: bearer tokens (or the portal session) everywhere except health and sign-in, with 401 documented', () => {
    assert.deepEqual(doc.security, [{ bearerAuth: [] }, { sessionCookie: [] }]);
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: 'A Pave API token (pave_…)' });
    assert.equal((doc.components.securitySchemes.sessionCookie as { in?: string }).in, 'cookie');
    const signIn = new Set(['GET /api/v1/auth/providers', 'POST /api/v1/auth/password/login', 'POST /api/v1/auth/logout', 'GET /api/v1/auth/oidc/login', 'GET /api/v1/auth/oidc/callback', 'POST /api/v1/auth/oidc/device', 'POST /api/v1/auth/oidc/device/token', 'POST /api/v1/auth/oidc/cli/token']);
    for (const { method, path: p, op } of ops) {
      const health = p === '/healthz' || p === '/readyz';
      const open = health || signIn.has(`${method.toUpperCase()} ${p}`);
      assert.equal(Array.isArray(op.security) && op.security.length === 0, open, `${method} ${p}`);
      // sign-in routes answer 401 for wrong credentials, not for a missing token
      if (!signIn.has(`${method.toUpperCase()} ${p}`)) assert.equal('401' in op.responses, !open, `${method} ${p}`);
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) >= 400) assert.deepEqual(r.content, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }, `${method} ${p} ${status}`);
      }
    }
  });

  test('concurrency control and media types are documented', () => {
    // Config changes name their keys and merge (like Heroku's config:set): If-Match is optional there.
    const merging = (p: string) => p.endsWith('/environments/{env}/config');
    for (const { method, path: p, op } of ops.filter((o) => o.method === 'PATCH')) {
      assert.ok(op.parameters.some((x) => x.in === 'header' && x.name === 'If-Match' && (x.required || merging(p))), `${method} ${p}`);
      if (merging(p)) assert.ok('412' in op.responses, `${method} ${p} 412`);
      if (merging(p)) continue;
      for (const status of ['412', '428']) assert.ok(status in op.responses, `${method} ${p} ${status}`);
    }
    // Catalog entities are versioned: their deletes take an optional If-Match.
    for (const { method, path: p, op } of ops.filter((o) => o.method === 'DELETE' && /^\/api\/v1\/(teams|users|applications)\/\{name\}$|^\/api\/v1\/entities\//.test(o.path))) {
      assert.ok(op.parameters.some((x) => x.in === 'header' && x.name === 'If-Match' && !x.required), `${method} ${p}`);
    }
    const imp = doc.paths['/api/v1/catalog/import']!.post!;
    assert.deepEqual(Object.keys(imp.requestBody!.content).sort(), ['application/json', 'application/x-yaml', 'application/yaml', 'text/yaml']);
    for (const status of ['413', '415']) assert.ok(status in imp.responses);
    assert.ok(doc.paths['/api/v1/catalog/export']!.get!.responses['200']!.content!['application/yaml']);
  });
});

describe('responses match the documented schemas', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  let registered = false;

  /** Validates `value` against the schema of `method path`'s `status` response (or request body). */
  function check(value: unknown, method: string, p: string, status: string, where: 'response' | 'request' = 'response'): void {
    if (!registered) {
      ajv.addSchema({ $id: 'pave-openapi', components: doc.components }, 'pave-openapi');
      registered = true;
    }
    const op = doc.paths[p]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${p}`);
    const content = where === 'request' ? op.requestBody?.content : op.responses[status]?.content;
    const schema = content?.['application/json']?.schema ?? content?.['application/problem+json']?.schema;
    assert.ok(schema, `${method} ${p} ${status} has a schema`);
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"pave-openapi#/components/')) as Json;
    const validate = ajv.compile(rebased);
    const valid = validate(value);
    assert.ok(valid, `${method} ${p} ${status}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
  }

  test('catalog entities, pages and problems', async () => {
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'doc-team', members: ['admin'], links: [{ url: 'https://x.example' }] } }), 201);
    const created = await ok(await s.api('/api/v1/applications', { method: 'POST', json: { name: 'doc-app', owner: 'doc-team', tags: ['a'] } }), 201);
    check(created, 'POST', '/api/v1/applications', '201');
    check(await ok(await s.api('/api/v1/teams/doc-team')), 'GET', '/api/v1/teams/{name}', '200');
    check(await ok(await s.api('/api/v1/teams')), 'GET', '/api/v1/teams', '200');
    check(await ok(await s.api('/api/v1/entities?limit=1')), 'GET', '/api/v1/entities', '200');
    check(await ok(await s.api('/api/v1/entities/user/default/admin')), 'GET', '/api/v1/entities/{kind}/{namespace}/{name}', '200');
    const patched = await ok(await s.api('/api/v1/applications/doc-app', { method: 'PATCH', json: { description: 'd' }, headers: { 'if-match': '"1"' } }));
    check(patched, 'PATCH', '/api/v1/applications/{name}', '200');
    const bad = await s.api('/api/v1/teams', { method: 'POST', json: { name: 1 } });
    check(await bad.json(), 'POST', '/api/v1/teams', '400');
    const missing = await s.api('/api/v1/teams/nope');
    check(await missing.json(), 'GET', '/api/v1/teams/{name}', '404');
    const anon = await fetch(`${s.url}/api/v1/me`);
    check(await anon.json(), 'GET', '/api/v1/me', '401');
  });

  test('access, import and system responses', async () => {
    check(await ok(await s.api('/api/v1/me')), 'GET', '/api/v1/me', '200');
    const token = await ok<{ id: string }>(await s.api('/api/v1/tokens', { method: 'POST', json: { name: 'doc', expiresInDays: 2 } }), 201);
    check(token, 'POST', '/api/v1/tokens', '201');
    check(await ok(await s.api('/api/v1/tokens')), 'GET', '/api/v1/tokens', '200');
    check(await ok(await s.api(`/api/v1/tokens/${token.id}`, { method: 'DELETE' })), 'DELETE', '/api/v1/tokens/{id}', '200');
    const content = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: doc-imported\nspec:\n  type: service\n  lifecycle: production\n  owner: nobody\n---\nkind: Broken\n';
    check(await ok(await s.api('/api/v1/catalog/import', { method: 'POST', json: { files: [{ location: 'doc.yaml', content }] } })), 'POST', '/api/v1/catalog/import', '200');
    check(await ok(await fetch(`${s.url}/healthz`)), 'GET', '/healthz', '200');
    check(await ok(await fetch(`${s.url}/readyz`)), 'GET', '/readyz', '200');
  });

  test('request schemas accept what the server accepts and refuse unknown fields', () => {
    const compile = (p: string, method: string) => {
      const schema = doc.paths[p]![method]!.requestBody!.content['application/json']!.schema;
      return ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"pave-openapi#/components/')) as Json);
    };
    const team = compile('/api/v1/teams', 'post');
    assert.ok(team({ name: 'x', members: ['a'], type: 'team' }));
    assert.ok(!team({ name: 'x', bogus: 1 }));
    assert.ok(!team({}));
    const patch = compile('/api/v1/applications/{name}', 'patch');
    assert.ok(patch({ description: 'x' }));
    assert.ok(!patch({ name: 'renamed' }));
    const schema = doc.paths['/api/v1/applications/{name}']!.patch!.requestBody!.content['application/json']!.schema as { properties: Record<string, Json> };
    assert.equal(schema.properties.lifecycle?.default, undefined, 'an update documents no defaults: absent fields keep their value');
  });
});
