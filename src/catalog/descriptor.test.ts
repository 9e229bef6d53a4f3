import { BACKSTAGE_FIXTURES } from '../../test/support/fixtures.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Entity } from '../contracts/catalog.ts';
import { DescriptorError, draftFromDescriptor, parseCatalogFile } from './descriptor.ts';
import { toDescriptor, toYamlDocuments } from './export.ts';
import { parseRef, refOf, toRef, type EntityDraft } from './model.ts';

const FIXTURES = BACKSTAGE_FIXTURES;
const INVALID = 'components/invalid-component.yaml';

const files = (readdirSync(FIXTURES, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((location) => ({ location, parsed: parseCatalogFile(location, readFileSync(join(FIXTURES, location), 'utf8')) }));
const drafts = files.flatMap((f) => f.parsed.drafts.map((d) => d.draft));

function find(kind: string, name: string, namespace = 'default'): EntityDraft {
  const d = drafts.find((x) => x.kind === kind && x.name === name && x.namespace === namespace);
  assert.ok(d, `fixture ${kind}:${namespace}/${name} not found`);
  return d;
}

function entityFrom(d: EntityDraft): Entity {
  const { relations: _relations, ...rest } = d;
  return {
    ...rest,
    id: '00000000-0000-4000-8000-000000000000',
    ref: refOf(d.kind, d.namespace, d.name),
    source: 'test',
    version: 1,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}

function component(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'svc', ...metadata },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-a', ...spec },
  };
}

function throwsAt(doc: unknown, path: string | null, message?: RegExp): void {
  assert.throws(
    () => draftFromDescriptor(doc),
    (err: unknown) => {
      assert.ok(err instanceof DescriptorError, `expected DescriptorError, got ${String(err)}`);
      assert.equal(err.path, path);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('Backstage fixtures', () => {
  test('there are fixture files to read', () => {
    assert.equal(files.length, 37);
  });

  test('every file except the invalid component imports without error', () => {
    for (const f of files) {
      if (f.location === INVALID) continue;
      assert.deepEqual(f.parsed.errors, [], f.location);
    }
  });

  test('counts per kind', () => {
    const counts: Record<string, number> = {};
    for (const d of drafts) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
    assert.deepEqual(counts, { team: 9, user: 17, application: 14, api: 6, system: 3, domain: 3, resource: 1 });
    assert.equal(files.reduce((n, f) => n + f.parsed.skipped, 0), 1, 'the one Location in acme/org.yaml');
    assert.deepEqual(files.find((f) => f.location === 'acme/org.yaml')?.parsed.drafts.map((d) => d.document), [0]);
  });

  test('document indexes follow the file', () => {
    const teamA = files.find((f) => f.location === 'acme/team-a-group.yaml')!.parsed;
    assert.deepEqual(teamA.drafts.map((d) => [d.document, d.draft.kind, d.draft.namespace, d.draft.name]), [
      [0, 'team', 'default', 'team-a'],
      [1, 'user', 'default', 'breanna.davison'],
      [2, 'user', 'default', 'janelle.dawe'],
      [3, 'user', 'default', 'nigel.manning'],
      [4, 'user', 'default', 'guest'],
      [5, 'user', 'development', 'guest'],
    ]);
  });

  test('the invalid component yields exactly one error at metadata.name', () => {
    const parsed = files.find((f) => f.location === INVALID)!.parsed;
    assert.equal(parsed.drafts.length, 0);
    assert.equal(parsed.errors.length, 1);
    const [err] = parsed.errors;
    assert.equal(err!.location, INVALID);
    assert.equal(err!.document, 0);
    assert.equal(err!.path, 'metadata.name');
    assert.equal(err!.ref, 'application:default/invalid component');
    assert.match(err!.message, /^metadata\.name must be 1-63 characters .*\(got "invalid component"\)$/);
  });

  test('petstore component', () => {
    const d = find('application', 'petstore');
    assert.equal(d.owner, 'team:default/sre');
    assert.equal(d.system, null);
    assert.equal(d.type, 'service');
    assert.equal(d.lifecycle, 'production');
    assert.equal(d.title, null);
    assert.equal(d.description, 'The Petstore is an example API used to show features of the OpenAPI spec.');
    assert.deepEqual(d.links, [{ url: 'https://github.com/chahatd/backstage', title: 'GitHub Repo', icon: 'github' }]);
    assert.deepEqual(d.relations, [
      { type: 'ownedBy', target: 'team:default/sre' },
      { type: 'providesApi', target: 'api:default/petstore' },
      { type: 'providesApi', target: 'api:default/streetlights' },
      { type: 'providesApi', target: 'api:default/playback-order' },
      { type: 'consumesApi', target: 'api:default/searcher' },
    ]);
    assert.deepEqual(d.spec['providesApis'], ['petstore', 'streetlights', 'playback-order'], 'spec keeps the refs as written');
  });

  test('component refs with explicit kinds and system/subcomponent relations', () => {
    assert.deepEqual(find('application', 'artist-lookup').relations, [
      { type: 'ownedBy', target: 'team:default/team-a' },
      { type: 'partOf', target: 'system:default/artist-engagement-portal' },
      { type: 'dependsOn', target: 'resource:default/artists-db' },
    ]);
    assert.equal(find('application', 'artist-lookup').system, 'system:default/artist-engagement-portal');
    assert.deepEqual(find('application', 'www-artist').relations, [
      { type: 'ownedBy', target: 'team:default/team-a' },
      { type: 'partOf', target: 'system:default/artist-engagement-portal' },
      { type: 'consumesApi', target: 'application:default/artist-lookup' },
    ]);
    assert.deepEqual(find('application', 'wayback-archive-storage').relations, [
      { type: 'ownedBy', target: 'team:default/team-a' },
      { type: 'partOf', target: 'application:default/wayback-archive' },
    ]);
    assert.equal(find('application', 'wayback-archive-storage').system, null);
    assert.equal(find('application', 'playback-order').owner, 'user:default/guest');
  });

  test('different-namespace component keeps the explicit owner namespace', () => {
    const d = find('application', 'different-namespace', 'alternative');
    assert.equal(d.owner, 'team:default/team-a');
    assert.deepEqual(d.relations, [{ type: 'ownedBy', target: 'team:default/team-a' }]);
  });

  test('users and groups', () => {
    const breanna = find('user', 'breanna.davison');
    assert.deepEqual(breanna.relations, [{ type: 'memberOf', target: 'team:default/team-a' }]);
    assert.equal(breanna.title, null, 'no displayName, no title');
    assert.equal(breanna.owner, null);
    assert.equal(find('user', 'janelle.dawe').title, 'Janelle Dawe');
    assert.deepEqual(find('user', 'guest', 'development').relations, [{ type: 'memberOf', target: 'team:default/team-a' }]);

    const teamA = find('team', 'team-a');
    assert.deepEqual(teamA.relations, [{ type: 'childOf', target: 'team:default/backstage' }]);
    assert.equal(teamA.type, 'team');
    assert.equal(teamA.title, null);
    assert.equal(find('team', 'team-b').title, 'Team B');
    assert.deepEqual(find('team', 'backstage').relations, [
      { type: 'childOf', target: 'team:default/infrastructure' },
      { type: 'parentOf', target: 'team:default/team-a' },
      { type: 'parentOf', target: 'team:default/team-b' },
    ]);
    assert.deepEqual(find('team', 'acme-corp').relations, [{ type: 'parentOf', target: 'team:default/infrastructure' }]);
  });

  test('systems, domains, resources and APIs', () => {
    const portal = find('system', 'artist-engagement-portal');
    assert.equal(portal.system, null);
    assert.equal(portal.title, 'Artist Engagement Portal');
    assert.deepEqual(portal.tags, ['portal']);
    assert.deepEqual(portal.relations, [
      { type: 'ownedBy', target: 'team:default/team-a' },
      { type: 'partOf', target: 'domain:default/artists' },
    ]);
    assert.equal(find('system', 'podcast').owner, 'user:default/team-b', 'user:team-b stays a user ref');
    assert.equal(find('system', 'audio-playback').type, 'feature-set');
    assert.equal(find('domain', 'playback').owner, 'user:default/frank.tiernan');
    assert.equal(find('domain', 'artists').title, 'Artists');
    assert.deepEqual(find('resource', 'artists-db').relations, [
      { type: 'ownedBy', target: 'team:default/team-a' },
      { type: 'partOf', target: 'system:default/artist-engagement-portal' },
    ]);
    const spotify = find('api', 'spotify');
    assert.deepEqual(spotify.spec['definition'], {
      $text: 'https://github.com/APIs-guru/openapi-directory/blob/dab6854d4d599aafb0eb36e6c7ae1fe0c37509b7/APIs/spotify.com/2021.4.2/openapi.yaml',
    });
    assert.equal(spotify.lifecycle, 'production');
    assert.equal(spotify.annotations['backstage.io/definition-at-location'], 'url:https://raw.githubusercontent.com/APIs-guru/openapi-directory/master/APIs/spotify.com/v1/swagger.yaml');
    assert.match(String(find('api', 'hello-world').spec['definition']), /service Greeter/);
  });

  test('export round-trips every valid fixture document', () => {
    assert.equal(drafts.length, 53);
    for (const d of drafts) assert.deepEqual(draftFromDescriptor(toDescriptor(entityFrom(d))), d, refOf(d.kind, d.namespace, d.name));
  });

  test('exported YAML re-imports to the same drafts', () => {
    const yaml = toYamlDocuments(drafts.map(entityFrom));
    const again = parseCatalogFile('export.yaml', yaml);
    assert.deepEqual(again.errors, []);
    assert.equal(again.skipped, 0);
    assert.deepEqual(
      again.drafts.map((d) => d.draft),
      drafts,
    );
    assert.deepEqual(
      again.drafts.map((d) => d.document),
      drafts.map((_, i) => i),
    );
  });
});

describe('toDescriptor', () => {
  test('Backstage shape; default namespace and empty fields omitted', () => {
    assert.deepEqual(toDescriptor(entityFrom(find('application', 'wayback-archive'))), {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'wayback-archive', description: 'Archive of the wayback machine' },
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a', providesApis: ['wayback-archive'] },
    });
    const other = toDescriptor(entityFrom(find('application', 'different-namespace', 'alternative')));
    assert.deepEqual(other['metadata'], {
      name: 'different-namespace',
      namespace: 'alternative',
      description: 'Example of a Component in a different namespace',
    });
    assert.equal(toDescriptor(entityFrom(find('team', 'backstage')))['kind'], 'Group');
    assert.equal(toDescriptor(entityFrom(find('api', 'petstore')))['kind'], 'API');
  });

  test('toYamlDocuments of nothing is empty', () => {
    assert.equal(toYamlDocuments([]), '');
  });
});

describe('parseCatalogFile', () => {
  test('one broken document does not stop the others', () => {
    const content = [
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: first\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n',
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: no-owner\nspec:\n  type: service\n  lifecycle: production\n',
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken: yaml\n',
      '# only a comment\n',
      'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: somewhere\nspec:\n  targets: [./a.yaml]\n',
      'apiVersion: backstage.io/v1alpha1\nkind: Template\nmetadata:\n  name: tpl\nspec: {}\n',
      'apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: last\n  namespace: ops\nspec:\n  memberOf: [admins]\n',
    ].join('---\n');
    const r = parseCatalogFile('multi.yaml', content);
    assert.deepEqual(
      r.drafts.map((d) => [d.document, d.draft.kind, d.draft.name]),
      [
        [0, 'application', 'first'],
        [6, 'user', 'last'],
      ],
    );
    assert.deepEqual(r.drafts[1]!.draft.relations, [{ type: 'memberOf', target: 'team:ops/admins' }]);
    assert.equal(r.skipped, 1);
    assert.equal(r.errors.length, 3);
    const [missing, syntax, unknown] = r.errors;
    assert.deepEqual(missing, { location: 'multi.yaml', document: 1, ref: 'application:default/no-owner', message: 'spec.owner is required', path: 'spec.owner' });
    assert.equal(syntax!.document, 2);
    assert.equal(syntax!.location, 'multi.yaml');
    assert.equal(syntax!.path, null);
    assert.equal(syntax!.ref, null);
    assert.match(syntax!.message, /^YAML syntax error: /);
    assert.equal(unknown!.document, 5);
    assert.equal(unknown!.path, 'kind');
    assert.equal(unknown!.ref, 'template:default/tpl');
    assert.match(unknown!.message, /"Template".*Group, User, Component, System, Domain, API, Resource/);
  });

  test('empty content and empty documents yield nothing', () => {
    assert.deepEqual(parseCatalogFile('empty.yaml', ''), { drafts: [], errors: [], skipped: 0 });
    assert.deepEqual(parseCatalogFile('empty.yaml', '---\n---\n# nothing\n'), { drafts: [], errors: [], skipped: 0 });
  });

  test('a non-mapping document is an error', () => {
    const r = parseCatalogFile('list.yaml', '- a\n- b\n');
    assert.deepEqual(r.errors, [{ location: 'list.yaml', document: 0, ref: null, message: 'document must be a mapping with apiVersion, kind, metadata and spec', path: null }]);
  });
});

describe('draftFromDescriptor', () => {
  test('a minimal component', () => {
    assert.deepEqual(draftFromDescriptor(component({ system: 'shop', extra: { kept: true } })), {
      kind: 'application',
      namespace: 'default',
      name: 'svc',
      title: null,
      description: null,
      type: 'service',
      lifecycle: 'production',
      owner: 'team:default/team-a',
      system: 'system:default/shop',
      tags: [],
      labels: {},
      annotations: {},
      links: [],
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a', system: 'shop', extra: { kept: true } },
      relations: [
        { type: 'ownedBy', target: 'team:default/team-a' },
        { type: 'partOf', target: 'system:default/shop' },
      ],
    });
  });

  test('refs default to the entity namespace; explicit kinds and namespaces win', () => {
    const d = draftFromDescriptor(
      component(
        { owner: 'Group:platform/Core', dependsOn: ['resource:db', 'db2', 'component:other/lib'], dependencyOf: ['web'] },
        { namespace: 'shop' },
      ),
    );
    assert.equal(d.owner, 'team:platform/core');
    assert.deepEqual(d.relations, [
      { type: 'ownedBy', target: 'team:platform/core' },
      { type: 'dependsOn', target: 'resource:shop/db' },
      { type: 'dependsOn', target: 'application:shop/db2' },
      { type: 'dependsOn', target: 'application:other/lib' },
      { type: 'dependencyOf', target: 'application:shop/web' },
    ]);
  });

  test('relations are deduplicated', () => {
    const d = draftFromDescriptor(component({ providesApis: ['a', 'api:a', 'api:default/a'], consumesApis: ['a'] }));
    assert.deepEqual(d.relations, [
      { type: 'ownedBy', target: 'team:default/team-a' },
      { type: 'providesApi', target: 'api:default/a' },
      { type: 'consumesApi', target: 'api:default/a' },
    ]);
  });

  test('accepts backstage.io/v1beta1 and any kind casing', () => {
    const d = draftFromDescriptor({ ...component({}), apiVersion: 'backstage.io/v1beta1', kind: 'component' });
    assert.equal(d.kind, 'application');
  });

  test('lenient defaults for Group children and User memberOf', () => {
    const group = draftFromDescriptor({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'g' }, spec: { type: 'team', members: ['ann'] } });
    assert.deepEqual(group.spec, { type: 'team', members: ['ann'], children: [] });
    assert.deepEqual(group.relations, [{ type: 'hasMember', target: 'user:default/ann' }]);
    const user = draftFromDescriptor({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'u' } });
    assert.deepEqual(user.spec, { memberOf: [] });
    assert.deepEqual(user.relations, []);
  });

  test('metadata.title wins over the profile displayName', () => {
    const d = draftFromDescriptor({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'u', title: 'T' }, spec: { profile: { displayName: 'D' } } });
    assert.equal(d.title, 'T');
  });

  test('API definition: text or a single placeholder', () => {
    const api = (definition: unknown) => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'API', metadata: { name: 'a' }, spec: { type: 'openapi', lifecycle: 'production', owner: 'team-a', definition } });
    assert.deepEqual(draftFromDescriptor(api({ $json: 'https://x.example/a.json' })).spec['definition'], { $json: 'https://x.example/a.json' });
    throwsAt(api(undefined), 'spec.definition', /^spec\.definition is required$/);
    throwsAt(api({ $text: 'a', $yaml: 'b' }), 'spec.definition', /placeholder/);
    throwsAt(api(42), 'spec.definition');
  });

  test('missing spec.owner on a Component', () => {
    const doc = component({});
    delete (doc['spec'] as Record<string, unknown>)['owner'];
    throwsAt(doc, 'spec.owner', /^spec\.owner is required$/);
  });

  test('missing or wrongly typed spec fields', () => {
    throwsAt({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'x' } }, 'spec', /^spec is required$/);
    throwsAt(component({ lifecycle: 3 }), 'spec.lifecycle', /must be a string/);
    throwsAt(component({ type: '' }), 'spec.type', /must not be empty/);
    throwsAt(component({ providesApis: 'petstore' }), 'spec.providesApis', /must be a list/);
    throwsAt({ apiVersion: 'backstage.io/v1alpha1', kind: 'Resource', metadata: { name: 'r' }, spec: { owner: 'x' } }, 'spec.type', /required/);
    throwsAt({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'g' }, spec: {} }, 'spec.type', /required/);
    throwsAt({ apiVersion: 'backstage.io/v1alpha1', kind: 'System', metadata: { name: 's' }, spec: {} }, 'spec.owner', /required/);
    throwsAt({ apiVersion: 'backstage.io/v1alpha1', kind: 'Domain', metadata: { name: 'd' }, spec: { owner: ['a'] } }, 'spec.owner', /must be a string/);
  });

  test('bad apiVersion', () => {
    throwsAt({ ...component({}), apiVersion: 'backstage.io/v2' }, 'apiVersion', /^apiVersion must be one of backstage\.io\/v1alpha1, backstage\.io\/v1beta1/);
    const doc = component({});
    delete doc['apiVersion'];
    throwsAt(doc, 'apiVersion', /^apiVersion is required$/);
  });

  test('unknown kind names the kind and the supported ones', () => {
    throwsAt({ ...component({}), kind: 'Template' }, 'kind', /unsupported kind "Template"; supported kinds are Group, User, Component, System, Domain, API, Resource/);
    throwsAt({ ...component({}), kind: 'Location' }, 'kind', /"Location" \(it is read but not kept\)/);
    throwsAt({ ...component({}), kind: 7 }, 'kind', /must be a string/);
  });

  test('malformed refs are errors at their path', () => {
    throwsAt(component({ owner: 'team a' }), 'spec.owner', /^spec\.owner is not a valid entity reference/);
    throwsAt(component({ providesApis: ['ok', 'api:bad/ref/x'] }), 'spec.providesApis[1]');
    throwsAt(component({ system: ':nokind' }), 'spec.system');
    throwsAt({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'g' }, spec: { type: 't', children: [], parent: 'a/b/c' } }, 'spec.parent');
  });

  test('non-object documents', () => {
    for (const doc of [null, undefined, 'text', 42, ['a'], true]) throwsAt(doc, null, /^document must be a mapping/);
  });

  test('metadata rules', () => {
    throwsAt(component({}, { name: undefined }), 'metadata.name', /^metadata\.name is required$/);
    throwsAt(component({}, { name: 'a'.repeat(64) }), 'metadata.name', /at most 63 characters/);
    throwsAt(component({}, { name: 'a--b' }), 'metadata.name');
    throwsAt(component({}, { namespace: 'Upper' }), 'metadata.namespace');
    throwsAt(component({}, { title: 5 }), 'metadata.title', /must be a string/);
    throwsAt(component({}, { tags: ['ok', 'go 1.15'] }), 'metadata.tags[1]', /\(got "go 1\.15"\)/);
    throwsAt(component({}, { tags: ['Upper'] }), 'metadata.tags[0]');
    throwsAt(component({}, { labels: { a: 1 } }), 'metadata.labels.a', /must be a string/);
    throwsAt(component({}, { annotations: { 'x.io/flag': true } }), 'metadata.annotations["x.io/flag"]');
    throwsAt({ ...component({}), metadata: 'svc' }, 'metadata', /must be a mapping/);
    const ok = draftFromDescriptor(component({}, { name: 'A_b.c-1', tags: ['c++', 'c#', 'k8s:prod', 'a-b'] }));
    assert.deepEqual(ok.tags, ['c++', 'c#', 'k8s:prod', 'a-b']);
  });

  test('links', () => {
    throwsAt(component({}, { links: [{ url: 'not a url' }] }), 'metadata.links[0].url', /must be a valid url/);
    throwsAt(component({}, { links: [{ title: 'no url' }] }), 'metadata.links[0].url', /required/);
    throwsAt(component({}, { links: [{ url: 'https://a.example', colour: 'red' }] }), 'metadata.links[0]', /unknown field colour/);
    const d = draftFromDescriptor(component({}, { links: [{ url: 'https://a.example', title: 'A', icon: 'web', type: 'docs' }] }));
    assert.deepEqual(d.links, [{ url: 'https://a.example', title: 'A', icon: 'web', type: 'docs' }]);
  });

  test('the input document is not shared with the draft', () => {
    const doc = component({ consumesApis: ['a'] });
    const d = draftFromDescriptor(doc);
    (d.spec['consumesApis'] as string[]).push('b');
    assert.deepEqual((doc['spec'] as Record<string, unknown>)['consumesApis'], ['a']);
  });
});

describe('refs', () => {
  test('parseRef maps Backstage kinds and applies defaults', () => {
    assert.deepEqual(parseRef('group:default/team-a'), { kind: 'team', namespace: 'default', name: 'team-a' });
    assert.deepEqual(parseRef('Component:x'), { kind: 'application', namespace: 'default', name: 'x' });
    assert.deepEqual(parseRef('team-a', { kind: 'group', namespace: 'ops' }), { kind: 'team', namespace: 'ops', name: 'team-a' });
    assert.deepEqual(parseRef('default/team-a', { kind: 'group', namespace: 'alternative' }), { kind: 'team', namespace: 'default', name: 'team-a' });
    assert.deepEqual(parseRef('user:team-b', { kind: 'group' }), { kind: 'user', namespace: 'default', name: 'team-b' });
    assert.equal(parseRef('team-a'), undefined, 'no kind and no default kind');
    assert.equal(parseRef('a b', { kind: 'group' }), undefined);
    assert.equal(parseRef('a/b/c', { kind: 'group' }), undefined);
  });

  test('toRef gives full lower-case refs', () => {
    assert.equal(toRef('user:team-b', { kind: 'group' }), 'user:default/team-b');
    assert.equal(toRef('group:default/team-a'), 'team:default/team-a');
    assert.equal(toRef('component:x'), 'application:default/x');
    assert.equal(toRef('API:Shop/Orders'), 'api:shop/orders');
    assert.equal(toRef('resource:artists-db', { kind: 'component' }), 'resource:default/artists-db');
    assert.equal(toRef('not valid!', { kind: 'group' }), undefined);
  });
});
