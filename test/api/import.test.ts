import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Entity, ImportResult } from '../../src/contracts/catalog.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { allRefs, backstageFiles, component, expectProblem, getEntity, group, importFiles, ok, relationKeys, type FixtureFile } from './helpers.ts';

/** Importing the Backstage example catalog, re-importing it, and exporting it again. */

const INVALID = 'components/invalid-component.yaml';
const FILES = backstageFiles();
const KIND_COUNTS = { team: 9, user: 17, application: 14, api: 6, system: 3, domain: 3, resource: 1 };

let s: TestServer;
let first: ImportResult;
before(async () => {
  s = await startTestServer();
  first = await importFiles(s, FILES);
});
after(async () => {
  await s?.close();
});

async function versions(server: TestServer): Promise<Map<string, string>> {
  const rows = await server.store.db.selectFrom('entities').select(['ref', 'version', 'updated_at']).execute();
  return new Map(rows.map((r) => [r.ref, `${r.version} ${new Date(r.updated_at).toISOString()}`]));
}

async function rawYaml(server: TestServer, content: string, query = ''): Promise<Response> {
  return server.api(`/api/v1/catalog/import${query}`, { method: 'POST', body: content, headers: { 'content-type': 'application/yaml' } });
}

describe('importing the Backstage examples', () => {
  test('every fixture file is read', () => {
    assert.equal(FILES.length, 37);
  });

  test('53 created, the invalid component failed, the Location skipped', () => {
    assert.equal(first.created, 53);
    assert.equal(first.updated, 0);
    assert.equal(first.unchanged, 0);
    assert.equal(first.failed, 1);
    assert.equal(first.skipped, 1);
    assert.equal(first.dryRun, false);
    assert.equal(first.changed.length, 53);
    assert.ok(first.changed.every((c) => c.action === 'created'));
    assert.equal(first.errors.length, 1);
    const err = first.errors[0]!;
    assert.equal(err.location, INVALID);
    assert.equal(err.document, 0);
    assert.equal(err.path, 'metadata.name');
    assert.equal(err.ref, 'application:default/invalid component');
    assert.match(err.message, /metadata\.name/);
  });

  test('the catalog holds every valid entity, by kind', async () => {
    for (const [kind, n] of Object.entries(KIND_COUNTS)) {
      const refs = await allRefs(s, `kind=${kind}`);
      assert.equal(refs.length, kind === 'user' ? n + 1 : n, `${kind}: ${refs.join(', ')}`); // + the bootstrap admin
    }
    const all = await allRefs(s);
    assert.equal(all.length, 54);
    assert.deepEqual(new Set(all), new Set([...first.changed.map((c) => c.ref), 'user:default/admin']));
    const petstore = await getEntity(s, 'application:default/petstore');
    assert.equal(petstore.entity.source, 'components/petstore-component.yaml');
  });

  test('team-a has its members and its parent', async () => {
    const { entity } = await getEntity(s, 'team:default/team-a');
    const keys = relationKeys(entity);
    for (const want of [
      'hasMember user:default/breanna.davison',
      'hasMember user:default/guest',
      'hasMember user:default/janelle.dawe',
      'hasMember user:default/nigel.manning',
      'hasMember user:development/guest',
      'childOf team:default/backstage',
    ]) {
      assert.ok(keys.includes(want), `${want} in ${keys.join(', ')}`);
    }
    const parent = entity.relations!.find((r) => r.type === 'childOf')!;
    assert.equal(parent.resolved, true);
    assert.deepEqual(parent.target, { kind: 'team', namespace: 'default', name: 'backstage', title: 'Backstage' });
    assert.ok(relationKeys((await getEntity(s, 'team:default/backstage')).entity).includes('parentOf team:default/team-a'));
    assert.ok(relationKeys((await getEntity(s, 'user:development/guest')).entity).includes('memberOf team:default/team-a'));
  });

  test('petstore is owned by team:default/sre, which is not in the catalog', async () => {
    const { entity } = await getEntity(s, 'application:default/petstore');
    const owner = entity.relations!.find((r) => r.type === 'ownedBy');
    assert.deepEqual(owner, { type: 'ownedBy', targetRef: 'team:default/sre', resolved: false, target: null });
    assert.equal(entity.owner, 'team:default/sre');
    assert.ok(first.unresolved.some((u) => u.source === 'application:default/petstore' && u.type === 'ownedBy' && u.target === 'team:default/sre'));
    assert.equal(first.unresolvedCount, first.unresolved.length);
    for (const u of first.unresolved) await expectProblem(await s.api(`/api/v1/entities/${u.target.replace(':', '/')}`), 404);
    const provides = entity.relations!.filter((r) => r.type === 'providesApi').map((r) => [r.targetRef, r.resolved]);
    assert.deepEqual(provides, [['api:default/petstore', true], ['api:default/playback-order', false], ['api:default/streetlights', true]]);
  });

  test('an entity in another namespace keeps its namespace and its owner resolves across namespaces', async () => {
    const { entity } = await getEntity(s, 'application:alternative/different-namespace');
    assert.equal(entity.namespace, 'alternative');
    assert.deepEqual(entity.relations!.map((r) => [r.type, r.targetRef, r.resolved]), [['ownedBy', 'team:default/team-a', true]]);
  });

  test('re-importing the same files changes nothing, not even versions', async () => {
    const before = await versions(s);
    const again = await importFiles(s, FILES);
    assert.deepEqual([again.created, again.updated, again.unchanged, again.failed, again.skipped], [0, 0, 53, 1, 1]);
    assert.deepEqual(again.changed, []);
    assert.deepEqual(await versions(s), before);
  });

  test('one file sent as raw YAML with ?location= is unchanged too', async () => {
    const file = FILES.find((f) => f.location === 'acme/team-a-group.yaml')!;
    const r = await ok<ImportResult>(await rawYaml(s, file.content, `?location=${encodeURIComponent(file.location)}`));
    assert.deepEqual([r.created, r.updated, r.unchanged, r.failed], [0, 0, 6, 0]);
  });

  test('changing one description updates exactly that entity', async () => {
    const before = await versions(s);
    const files = FILES.map((f) =>
      f.location === 'apis/petstore-api.yaml' ? { ...f, content: f.content.replace('description: The petstore API', 'description: The petstore API, revised') } : f,
    );
    assert.notDeepEqual(files, FILES);
    const r = await importFiles(s, files);
    assert.deepEqual([r.created, r.updated, r.unchanged], [0, 1, 52]);
    assert.deepEqual(r.changed, [{ ref: 'api:default/petstore', action: 'updated' }]);
    const after = await versions(s);
    for (const [ref, v] of after) if (ref !== 'api:default/petstore') assert.equal(v, before.get(ref), ref);
    const api = (await getEntity(s, 'api:default/petstore')).entity;
    assert.equal(api.description, 'The petstore API, revised');
    assert.equal(api.version, 2);
    // and back
    const back = await importFiles(s, FILES);
    assert.deepEqual([back.updated, back.unchanged], [1, 52]);
    assert.equal((await getEntity(s, 'api:default/petstore')).entity.version, 3);
  });

  test('an unresolved owner resolves once the owner is imported', async () => {
    const r = await ok<ImportResult>(await rawYaml(s, group('sre'), '?location=sre.yaml'));
    assert.equal(r.created, 1);
    const owner = (await getEntity(s, 'application:default/petstore')).entity.relations!.find((x) => x.type === 'ownedBy');
    assert.deepEqual(owner, { type: 'ownedBy', targetRef: 'team:default/sre', resolved: true, target: { kind: 'team', namespace: 'default', name: 'sre', title: null } });
    assert.ok(relationKeys((await getEntity(s, 'team:default/sre')).entity).includes('ownerOf application:default/petstore'));
  });
});

describe('import errors', () => {
  test('a bad document in the middle of a file does not stop the others', async () => {
    const content = [group('mid-a'), component('bad name here', { owner: 'mid-a' }), component('mid-c', { owner: 'mid-a' })].join('---\n');
    const r = await importFiles(s, [{ location: 'middle.yaml', content }]);
    assert.equal(r.created, 2);
    assert.equal(r.failed, 1);
    assert.deepEqual(r.errors.map((e) => [e.location, e.document, e.path, e.ref]), [['middle.yaml', 1, 'metadata.name', 'application:default/bad name here']]);
    await getEntity(s, 'team:default/mid-a');
    await getEntity(s, 'application:default/mid-c');
  });

  test('broken YAML fails its own document only', async () => {
    const content = [group('yaml-a'), 'metadata: [unclosed\n', group('yaml-c')].join('---\n');
    const r = await importFiles(s, [{ location: 'broken.yaml', content }]);
    assert.equal(r.created, 2);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.document, 1);
    assert.equal(r.errors[0]!.path, null);
    assert.match(r.errors[0]!.message, /YAML/);
  });

  test('errors name the field: missing spec fields, bad references, unknown kinds', async () => {
    const content = [
      component('no-owner', { owner: undefined }),
      component('bad-ref', { owner: 'team-a', dependsOn: ['ok', 'not a ref'] }),
      'apiVersion: backstage.io/v1alpha1\nkind: Template\nmetadata:\n  name: t\nspec: {}\n',
      'apiVersion: example.com/v1\nkind: Component\nmetadata:\n  name: other\n',
      '- just\n- a list\n',
    ].join('---\n');
    const r = await importFiles(s, [{ location: 'errors.yaml', content }]);
    assert.equal(r.created, 0);
    assert.deepEqual(r.errors.map((e) => [e.document, e.path]), [[0, 'spec.owner'], [1, 'spec.dependsOn[1]'], [2, 'kind'], [3, 'apiVersion'], [4, null]]);
  });

  test('the same ref twice in one import is an error naming both places', async () => {
    const files: FixtureFile[] = [
      { location: 'one/dup.yaml', content: group('dup-team', {}, { description: 'first' }) },
      { location: 'two/dup.yaml', content: [group('other-team'), group('dup-team', {}, { description: 'second' })].join('---\n') },
    ];
    const r = await importFiles(s, files);
    assert.equal(r.created, 2);
    assert.equal(r.failed, 1);
    const err = r.errors[0]!;
    assert.equal(err.location, 'two/dup.yaml');
    assert.equal(err.document, 1);
    assert.equal(err.ref, 'team:default/dup-team');
    assert.match(err.message, /one\/dup\.yaml/);
    assert.match(err.message, /document 0/);
    assert.equal((await getEntity(s, 'team:default/dup-team')).entity.description, 'first');
  });

  test('a request without files, or with unknown fields, is a 400', async () => {
    await expectProblem(await s.api('/api/v1/catalog/import', { method: 'POST', json: { files: [] } }), 400, 'validation');
    const p = await expectProblem(await s.api('/api/v1/catalog/import', { method: 'POST', json: { files: [{ location: 'a', content: '', extra: 1 }] } }), 400, 'validation');
    assert.deepEqual(p.errors?.map((e) => e.path), ['body.files[0].extra']);
  });

  test('raw YAML without ?location= is recorded as "upload"', async () => {
    const r = await ok<ImportResult>(await rawYaml(s, group('uploaded')));
    assert.equal(r.created, 1);
    assert.equal((await getEntity(s, 'team:default/uploaded')).entity.source, 'upload');
    const x = await ok<ImportResult>(await s.api('/api/v1/catalog/import', { method: 'POST', body: group('uploaded-x'), headers: { 'content-type': 'application/x-yaml' } }));
    assert.equal(x.created, 1);
  });
});

describe('export', () => {
  let exported: string;
  let fresh: TestServer;
  before(async () => {
    const res = await s.api('/api/v1/catalog/export');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
    assert.match(res.headers.get('content-disposition') ?? '', /catalog-info\.yaml/);
    exported = await res.text();
    fresh = await startTestServer();
  });
  after(async () => {
    await fresh?.close();
  });

  test('exports every entity as one YAML document each', async () => {
    const docs = parseAllDocuments(exported);
    assert.ok(!Array.isArray(docs) || docs.every((d) => d.errors.length === 0));
    const all = await allRefs(s);
    assert.equal(docs.length, all.length);
    const descriptors = docs.map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } });
    assert.ok(descriptors.every((d) => d.apiVersion === 'backstage.io/v1alpha1'));
    const counts: Record<string, number> = {};
    for (const d of descriptors) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
    assert.ok(counts.Group! >= 9 && counts.User! >= 18 && counts.Component! >= 14 && counts.API === 6 && counts.System === 3 && counts.Domain === 3 && counts.Resource === 1, JSON.stringify(counts));
    assert.ok(descriptors.some((d) => d.metadata.name === 'different-namespace' && d.metadata.namespace === 'alternative'));
  });

  test('the 53 examples export to 53 documents that re-import into a fresh server with the same refs and relations', async () => {
    const examples = await startTestServer();
    try {
      await importFiles(examples, FILES);
      const res = await examples.api('/api/v1/catalog/export');
      const text = await res.text();
      const docs = parseAllDocuments(text);
      const names = docs.map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name);
      assert.equal(docs.length, 54, 'the 53 examples and the bootstrap admin');
      assert.equal(names.filter((n) => n !== 'admin').length, 53);

      const r = await ok<ImportResult>(await rawYaml(fresh, text, '?location=export.yaml'));
      assert.equal(r.failed, 0, JSON.stringify(r.errors));
      assert.equal(r.created, 53);
      assert.equal(r.unchanged, 1, 'the admin is already there, unchanged');
      const [a, b] = [await allRefs(examples), await allRefs(fresh)];
      assert.deepEqual(b, a);
      for (const ref of a) {
        const [x, y] = [(await getEntity(examples, ref)).entity, (await getEntity(fresh, ref)).entity];
        assert.deepEqual(relationKeys(y), relationKeys(x), ref);
        const pick = (e: Entity) => [e.title, e.description, e.type, e.lifecycle, e.owner, e.system, e.tags, e.labels, e.annotations, e.links, e.spec];
        assert.deepEqual(pick(y), pick(x), ref);
      }
      // and exporting the copy gives the same text
      assert.equal(await (await fresh.api('/api/v1/catalog/export')).text(), text);
    } finally {
      await examples.close();
    }
  });

  test('export filters by kind, namespace and owner', async () => {
    const kinds = async (q: string) => parseAllDocuments(await (await s.api(`/api/v1/catalog/export?${q}`)).text()).map((d) => (d.toJS() as { kind: string; metadata: { name: string } }));
    assert.ok((await kinds('kind=api')).every((d) => d.kind === 'API'));
    assert.equal((await kinds('kind=api')).length, 6);
    assert.deepEqual((await kinds('namespace=alternative')).map((d) => d.metadata.name), ['different-namespace']);
    const owned = await kinds('owner=team-a&kind=application');
    // different-namespace (namespace alternative) names its owner default/team-a
    assert.deepEqual(owned.map((d) => d.metadata.name).sort(), ['artist-lookup', 'different-namespace', 'wayback-archive', 'wayback-archive-storage', 'wayback-search', 'www-artist']);
    await expectProblem(await s.api('/api/v1/catalog/export?kind=widget'), 400, 'validation');
    await expectProblem(await s.api('/api/v1/catalog/export?limit=5'), 400, 'validation');
  });

  test('an empty export is an empty document', async () => {
    const text = await (await s.api('/api/v1/catalog/export?namespace=nowhere')).text();
    assert.equal(text, '');
  });
});
