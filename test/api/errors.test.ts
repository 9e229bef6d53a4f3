import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Entity, ImportResult } from '../../src/contracts/catalog.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { component, countEntities, countRelations, expectProblem, group, importFiles, ok, paths } from './helpers.ts';

/** Error responses: every failure is problem+json naming the offending fields, and a failed write leaves nothing. */

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.close();
});

describe('malformed and missing bodies', () => {
  test('malformed JSON is a 400 malformed-json problem', async () => {
    const res = await s.api('/api/v1/teams', { method: 'POST', body: '{"name": "x",', headers: { 'content-type': 'application/json' } });
    const p = await expectProblem(res, 400, 'malformed-json');
    assert.equal(p.instance, '/api/v1/teams');
    assert.match(p.detail ?? '', /JSON/);
    assert.ok(res.headers.get('x-request-id'));
  });

  test('an empty JSON body is a 400 malformed-json problem', async () => {
    const res = await s.api('/api/v1/teams', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } });
    await expectProblem(res, 400, 'malformed-json');
  });

  test('no body at all is a validation problem at path "body"', async () => {
    const p = await expectProblem(await s.api('/api/v1/teams', { method: 'POST' }), 400, 'validation');
    assert.deepEqual(paths(p), ['body']);
  });

  test('a JSON array or scalar instead of an object is a validation problem at "body"', async () => {
    for (const json of [[], 'team', 42, null]) {
      const p = await expectProblem(await s.api('/api/v1/teams', { method: 'POST', json }), 400, 'validation');
      assert.deepEqual(paths(p), ['body'], JSON.stringify(json));
    }
  });
});

describe('field paths of validation problems', () => {
  test('wrong types, unknown fields and nested errors are each named', async () => {
    const p = await expectProblem(
      await s.api('/api/v1/teams', { method: 'POST', json: { name: 5, bad: true, links: [{ url: 'https://ok.example' }, { url: 'not a url' }], tags: ['ok', 'Not OK'] } }),
      400,
      'validation',
    );
    const got = paths(p);
    for (const want of ['body.name', 'body.bad', 'body.links[1].url', 'body.tags[1]']) assert.ok(got.includes(want), `${want} in ${got.join(', ')}`);
    assert.ok(!got.includes('body.links[0].url'), 'the valid link is not reported');
    assert.equal(p.errors?.find((e) => e.path === 'body.bad')?.message, 'unknown field');
    assert.match(p.detail ?? '', /body\.name/);
  });

  test('an unknown field inside a nested object is named with its full path', async () => {
    const p = await expectProblem(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'nested', links: [{ url: 'https://x.example', colour: 'red' }] } }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.links[0].colour']);
  });

  test('a bad name is reported at body.name and a bad email at body.email', async () => {
    const p = await expectProblem(await s.api('/api/v1/users', { method: 'POST', json: { name: 'two words', email: 'nope' } }), 400, 'validation');
    assert.deepEqual(paths(p).sort(), ['body.email', 'body.name']);
  });

  test('PATCH rejects fields that cannot change (name) as unknown', async () => {
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'patchable' } }), 201);
    const p = await expectProblem(await s.api('/api/v1/teams/patchable', { method: 'PATCH', json: { name: 'renamed' }, headers: { 'if-match': '"1"' } }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.name']);
  });

  test('bad path parameters are reported under "path"', async () => {
    let p = await expectProblem(await s.api('/api/v1/teams/bad..name'), 400, 'validation');
    assert.deepEqual(paths(p), ['path.name']);
    p = await expectProblem(await s.api('/api/v1/entities/widget/default/x'), 400, 'validation');
    assert.deepEqual(paths(p), ['path.kind']);
    p = await expectProblem(await s.api('/api/v1/entities/team/Not_A_Namespace/x'), 400, 'validation');
    assert.deepEqual(paths(p), ['path.namespace']);
    p = await expectProblem(await s.api('/api/v1/tokens/not-a-uuid', { method: 'DELETE' }), 400, 'validation');
    assert.deepEqual(paths(p), ['path.id']);
  });

  test('bad query parameters are reported under "query"', async () => {
    const cases: [string, string[]][] = [
      ['limit=0', ['query.limit']],
      ['limit=abc', ['query.limit']],
      ['limit=501', ['query.limit']],
      ['limit=1.5', ['query.limit']],
      ['foo=1', ['query.foo']],
      ['kind=widget', ['query.kind']],
      ['limit=0&foo=1', ['query.foo', 'query.limit']],
    ];
    for (const [qs, want] of cases) {
      const p = await expectProblem(await s.api(`/api/v1/entities?${qs}`), 400, 'validation');
      assert.deepEqual(paths(p).sort(), want, qs);
      assert.equal(p.instance, '/api/v1/entities', 'instance has no query string');
    }
    const p = await expectProblem(await s.api('/api/v1/teams?namespace=Bad_NS'), 400, 'validation');
    assert.deepEqual(paths(p), ['query.namespace']);
    const i = await expectProblem(await s.api('/api/v1/catalog/import?dryRun=yes', { method: 'POST', json: { files: [{ location: 'a', content: '' }] } }), 400, 'validation');
    assert.deepEqual(paths(i), ['query.dryRun']);
  });

  test('a cursor this server did not issue is a 400 at query.cursor', async () => {
    const forged = Buffer.from(JSON.stringify({ v: 2, r: 'team:default/a' })).toString('base64url');
    for (const cursor of ['xyz', forged, Buffer.from('{"v":1,"r":""}').toString('base64url'), '%%%']) {
      const p = await expectProblem(await s.api(`/api/v1/entities?cursor=${encodeURIComponent(cursor)}`), 400, 'bad-cursor');
      assert.deepEqual(paths(p), ['query.cursor'], cursor);
    }
  });

  test('a malformed If-Match is a 400 at header.if-match', async () => {
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'ifmatch' } }), 201);
    for (const h of ['abc', '"v1"', '*']) {
      const p = await expectProblem(await s.api('/api/v1/teams/ifmatch', { method: 'PATCH', json: { description: 'x' }, headers: { 'if-match': h } }), 400, 'validation');
      assert.deepEqual(paths(p), ['header.if-match'], h);
    }
  });
});

describe('unknown routes and media types', () => {
  test('an unknown route is a 404 problem', async () => {
    for (const [method, path] of [['GET', '/api/v1/nope'], ['POST', '/api/v1/nope'], ['PUT', '/api/v1/teams'], ['GET', '/api/v2/teams']] as const) {
      const p = await expectProblem(await s.api(`${path}?x=1`, { method }), 404, 'not-found');
      assert.equal(p.instance, path);
      assert.match(p.detail ?? '', new RegExp(`${method} ${path.replaceAll('/', '\\/')}`));
    }
  });

  test('a body in a media type the route does not take is a 415', async () => {
    const cases: [string, string, string][] = [
      ['/api/v1/teams', 'application/xml', '<team name="x"/>'],
      ['/api/v1/teams', 'text/plain', 'name=x'],
      ['/api/v1/teams', 'application/yaml', 'name: x'],
      ['/api/v1/teams', 'application/x-www-form-urlencoded', 'name=x'],
      ['/api/v1/catalog/import', 'text/plain', 'kind: Group'],
      ['/api/v1/catalog/import', 'application/xml', '<x/>'],
    ];
    for (const [path, type, text] of cases) {
      const before = await countEntities(s);
      const res = await s.api(path, { method: 'POST', body: text, headers: { 'content-type': type } });
      await expectProblem(res, 415, 'unsupported-media-type');
      assert.equal(await countEntities(s), before, `${type} to ${path} wrote nothing`);
    }
  });

  test('an unauthenticated request is refused before its body is parsed', async () => {
    for (const [type, text] of [['application/json', '{bad'], ['application/xml', '<x/>'], ['application/json', '{"name":"anon"}']]) {
      const res = await fetch(s.url + '/api/v1/teams', { method: 'POST', body: text, headers: { 'content-type': type! } });
      await expectProblem(res, 401, 'unauthorized');
    }
    await expectProblem(await s.api('/api/v1/teams/anon'), 404);
  });

  test('JSON with a charset parameter is accepted', async () => {
    const res = await s.api('/api/v1/teams', { method: 'POST', body: JSON.stringify({ name: 'charset' }), headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal((await ok<Entity>(res, 201)).ref, 'team:default/charset');
  });
});

describe('unknown routes beside a built portal', () => {
  let dir: string;
  let withPortal: TestServer;
  let without: TestServer;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pave-portal-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Pave portal</title>');
    [withPortal, without] = await Promise.all([startTestServer({ portalDir: dir }), startTestServer({ portalDir: path.join(dir, 'missing') })]);
  });
  after(async () => {
    await Promise.all([withPortal?.close(), without?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the server starts with a portal; deep links get the portal, API paths a 404 problem', async () => {
    for (const p of ['/', '/teams/payments', '/applications?owner=x']) {
      const res = await fetch(withPortal.url + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await res.text(), /Pave portal/);
    }
    await expectProblem(await withPortal.api('/api/v1/nope'), 404, 'not-found');
    await expectProblem(await withPortal.api('/assets/missing.js'), 404, 'not-found');
    await expectProblem(await withPortal.api('/teams/payments', { method: 'POST' }), 404, 'not-found');
    await ok(await withPortal.api('/api/v1/me'));
  });

  test('without a portal every unknown path is a 404 problem', async () => {
    for (const p of ['/', '/teams/payments']) await expectProblem(await fetch(without.url + p), 404, 'not-found');
  });
});

describe('body limits', () => {
  let small: TestServer;
  before(async () => {
    small = await startTestServer({ bodyLimit: 1024, importBodyLimit: 8192 });
  });
  after(async () => {
    await small?.close();
  });

  test('a body over bodyLimit is a 413 problem and writes nothing', async () => {
    const res = await small.api('/api/v1/teams', { method: 'POST', json: { name: 'big', description: 'x'.repeat(2000) } });
    await expectProblem(res, 413, 'body-too-large');
    await expectProblem(await small.api('/api/v1/teams/big'), 404, 'not-found');
  });

  test('a body just under bodyLimit is accepted', async () => {
    await ok(await small.api('/api/v1/teams', { method: 'POST', json: { name: 'fits', description: 'x'.repeat(900) } }), 201);
  });

  test('the import route has its own, larger limit', async () => {
    const content = group('import-limit', {}, { description: 'y'.repeat(3000) });
    assert.ok(content.length > 1024 && content.length < 8192);
    const r = await ok<ImportResult>(await small.api('/api/v1/catalog/import', { method: 'POST', json: { files: [{ location: 'a.yaml', content }] } }));
    assert.equal(r.created, 1);
    const huge = group('too-big', {}, { description: 'z'.repeat(10_000) });
    await expectProblem(await small.api('/api/v1/catalog/import', { method: 'POST', json: { files: [{ location: 'b.yaml', content: huge }] } }), 413, 'body-too-large');
    await expectProblem(await small.api('/api/v1/catalog/import?location=b.yaml', { method: 'POST', body: huge, headers: { 'content-type': 'application/yaml' } }), 413, 'body-too-large');
    await expectProblem(await small.api('/api/v1/teams/too-big'), 404);
  });
});

describe('input the database cannot store', () => {
  test('a NUL in a field of an API write is a 400 naming the field, not a 500', async () => {
    const before = await countEntities(s);
    let p = await expectProblem(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'nul-team', description: 'a\u0000b' } }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.description']);
    p = await expectProblem(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'nul-team', labels: { a: 'x\u0000' } } }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.labels.a']);
    assert.equal(await countEntities(s), before);
  });

  test('a NUL in one imported document fails that document only', async () => {
    const content = [group('nul-a', {}, { description: 'a\u0000b' }), group('nul-b')].join('---\n');
    const r = await importFiles(s, [{ location: 'nul.yaml', content }]);
    assert.equal(r.created, 1);
    assert.equal(r.failed, 1);
    assert.equal(r.errors[0]?.document, 0);
    assert.equal(r.errors[0]?.path, 'metadata.description');
    await expectProblem(await s.api('/api/v1/teams/nul-a'), 404);
    await ok(await s.api('/api/v1/teams/nul-b'));
  });

  test('a document too large to index fails that document only, not the whole import', async () => {
    // PostgreSQL's tsvector holds at most 1 MB: an unbounded description used to fail the whole import with a 500.
    const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}abcdef`).join(' ');
    const manyTags = Array.from({ length: 1001 }, (_, i) => `t${i}`);
    const content = [group('huge-desc', {}, { description: words }), group('many-tags', {}, { tags: manyTags }), group('huge-ok')].join('---\n');
    const r = await importFiles(s, [{ location: 'huge.yaml', content }]);
    assert.equal(r.created, 1);
    assert.deepEqual(r.errors.map((e) => [e.document, e.path]), [[0, 'metadata.description'], [1, 'metadata.tags']]);
    await ok(await s.api('/api/v1/teams/huge-ok'));
  });

  test('a NUL in a query filter is a 400, not a 500', async () => {
    for (const qs of ['owner=a%00b', 'type=a%00b', 'lifecycle=a%00', 'tag=x%00', 'system=%00']) {
      await expectProblem(await s.api(`/api/v1/entities?${qs}`), 400);
    }
  });
});

describe('no partial writes', () => {
  test('a create that fails validation of its references writes nothing', async () => {
    const [entities, relations] = [await countEntities(s), await countRelations(s)];
    let p = await expectProblem(await s.api('/api/v1/applications', { method: 'POST', json: { name: 'orphan', owner: 'ghost-team' } }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.owner']);
    p = await expectProblem(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'half', members: ['admin', 'ghost-user'], parent: 'ghost-parent' } }), 400, 'validation');
    assert.deepEqual(paths(p).sort(), ['body.members', 'body.parent']);
    assert.match(p.detail ?? '', /user:default\/ghost-user/);
    assert.doesNotMatch(p.detail ?? '', /user:default\/admin /);
    p = await expectProblem(await s.api('/api/v1/users', { method: 'POST', json: { name: 'joiner', memberOf: ['ghost-team'] } }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.memberOf']);
    assert.equal(await countEntities(s), entities);
    assert.equal(await countRelations(s), relations);
    await expectProblem(await s.api('/api/v1/teams/half'), 404);
  });

  test('an import writes the valid documents and reports the invalid ones', async () => {
    const before = await countEntities(s);
    const content = [
      group('mix-a'),
      group('mix bad name'),
      component('mix-app', { owner: 'mix-a' }),
      component('mix-noowner', { owner: undefined }),
      'apiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata:\n  name: w\n',
    ].join('---\n');
    const r = await importFiles(s, [{ location: 'mixed.yaml', content }]);
    assert.equal(r.created, 2);
    assert.equal(r.failed, 3);
    assert.deepEqual(
      r.errors.map((e) => [e.document, e.path]),
      [[1, 'metadata.name'], [3, 'spec.owner'], [4, 'kind']],
    );
    assert.equal(await countEntities(s), before + 2);
  });

  test('a dry run reports what it would do and writes nothing', async () => {
    const [entities, relations] = [await countEntities(s), await countRelations(s)];
    const content = [group('dry-a', { members: ['admin'] }), component('dry-app', { owner: 'dry-a' }), group('dry bad')].join('---\n');
    const r = await importFiles(s, [{ location: 'dry.yaml', content }], true);
    assert.equal(r.dryRun, true);
    assert.equal(r.created, 2);
    assert.equal(r.failed, 1);
    assert.deepEqual(r.changed.map((c) => c.ref).sort(), ['application:default/dry-app', 'team:default/dry-a']);
    assert.equal(await countEntities(s), entities);
    assert.equal(await countRelations(s), relations);
    const yaml = await s.api('/api/v1/catalog/import?dryRun=true&location=dry.yaml', { method: 'POST', body: content, headers: { 'content-type': 'application/yaml' } });
    assert.equal((await ok<ImportResult>(yaml)).created, 2);
    assert.equal(await countEntities(s), entities);
    // the same import for real
    const real = await importFiles(s, [{ location: 'dry.yaml', content }]);
    assert.equal(real.created, 2);
    assert.equal(await countEntities(s), entities + 2);
  });

  test('an import whose database write fails midway writes nothing at all', async () => {
    // Entities are inserted first, then their relations: fail the relations insert with a trigger.
    await sql`CREATE FUNCTION test_fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'boom: simulated failure'; END $$`.execute(s.store.db);
    await sql`CREATE TRIGGER test_fail_boom BEFORE INSERT ON relations FOR EACH ROW
      WHEN (NEW.target_ref = 'application:default/boom') EXECUTE FUNCTION test_fail_boom()`.execute(s.store.db);
    try {
      const [entities, relations] = [await countEntities(s), await countRelations(s)];
      const files = [
        { location: 'one.yaml', content: [group('tx-a'), component('tx-1', { owner: 'tx-a' })].join('---\n') },
        { location: 'two.yaml', content: component('tx-2', { owner: 'tx-a', dependsOn: ['boom'] }) },
      ];
      const res = await s.api('/api/v1/catalog/import', { method: 'POST', json: { files } });
      const p = await expectProblem(res, 500, 'internal');
      assert.doesNotMatch(JSON.stringify(p), /boom|simulated|relations/, 'database details stay in the log');
      assert.ok(p.detail?.includes(res.headers.get('x-request-id') ?? '-'), 'the detail names the request id');
      assert.equal(await countEntities(s), entities, 'no entity of the failed import was kept');
      assert.equal(await countRelations(s), relations);
      await expectProblem(await s.api('/api/v1/teams/tx-a'), 404);
    } finally {
      await sql`DROP TRIGGER test_fail_boom ON relations`.execute(s.store.db);
      await sql`DROP FUNCTION test_fail_boom()`.execute(s.store.db);
    }
    const again = await importFiles(s, [{ location: 'one.yaml', content: [group('tx-a'), component('tx-1', { owner: 'tx-a' })].join('---\n') }]);
    assert.equal(again.created, 2);
  });
});

test('routes without query parameters refuse unknown ones too', async () => {
  const s = await startTestServer();
  try {
    const res = await s.api('/api/v1/me?x=1');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { path: string }[] };
    assert.deepEqual(body.errors.map((e) => e.path), ['query.x']);
  } finally {
    await s.close();
  }
});
