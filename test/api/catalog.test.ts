import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Entity } from '../../src/contracts/catalog.ts';
import type { Page } from '../../src/contracts/common.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { component, countEntities, descriptor, expectProblem, expectStatus, getEntity, group, importFiles, ok, paths, relationKeys } from './helpers.ts';

/** The catalog API: teams, users and applications, their relations, concurrency control, pagination, filters and search. */

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.close();
});

const post = (path: string, json: unknown) => s.api(path, { method: 'POST', json });
const patch = (path: string, json: unknown, etag?: string) => s.api(path, { method: 'PATCH', json, ...(etag === undefined ? {} : { headers: { 'if-match': etag } }) });
const del = (path: string, etag?: string) => s.api(path, { method: 'DELETE', ...(etag === undefined ? {} : { headers: { 'if-match': etag } }) });
const create = async (plural: string, json: Record<string, unknown>) => ok<Entity>(await post(`/api/v1/${plural}`, json), 201);
async function read(path: string): Promise<{ e: Entity; etag: string }> {
  const res = await s.api(path);
  const e = await ok<Entity>(res);
  return { e, etag: res.headers.get('etag') ?? '' };
}
async function list(query: string): Promise<Page<Entity>> {
  return ok<Page<Entity>>(await s.api(`/api/v1/entities?${query}`));
}
const refs = (p: Page<Entity>) => p.items.map((e) => e.ref);

describe('teams', () => {
  test('create, read, list, update and delete a team', async () => {
    const res = await post('/api/v1/teams', {
      name: 'payments',
      title: 'Payments',
      description: 'Moves money',
      type: 'department',
      tags: ['money', 'pci'],
      labels: { tier: 'one' },
      annotations: { 'pave.dev/slack': '#payments' },
      links: [{ url: 'https://wiki.example/payments', title: 'Wiki' }],
      email: 'payments@example.com',
    });
    const created = await ok<Entity>(res, 201);
    assert.equal(res.headers.get('etag'), '"1"');
    assert.equal(res.headers.get('location'), '/api/v1/teams/payments?namespace=default');
    assert.equal(created.ref, 'team:default/payments');
    assert.equal(created.kind, 'team');
    assert.equal(created.title, 'Payments');
    assert.equal(created.description, 'Moves money');
    assert.equal(created.type, 'department');
    assert.deepEqual(created.tags, ['money', 'pci']);
    assert.deepEqual(created.labels, { tier: 'one' });
    assert.deepEqual(created.annotations, { 'pave.dev/slack': '#payments' });
    assert.deepEqual(created.links, [{ url: 'https://wiki.example/payments', title: 'Wiki' }]);
    assert.equal((created.spec.profile as { email?: string }).email, 'payments@example.com');
    assert.equal(created.source, 'api');
    assert.equal(created.version, 1);
    assert.deepEqual(created.relations, []);

    const { e, etag } = await read('/api/v1/teams/payments');
    assert.equal(etag, '"1"');
    assert.deepEqual(e, created);
    assert.deepEqual((await read('/api/v1/entities/team/default/payments')).e, created);

    const teams = await ok<Page<Entity>>(await s.api('/api/v1/teams?limit=500'));
    assert.ok(teams.items.every((t) => t.kind === 'team'));
    assert.ok(teams.items.some((t) => t.ref === 'team:default/payments'));

    const pres = await patch('/api/v1/teams/payments', { description: 'Moves money, safely', tags: ['money'] }, etag);
    const updated = await ok<Entity>(pres);
    assert.equal(pres.headers.get('etag'), '"2"');
    assert.equal(updated.version, 2);
    assert.equal(updated.description, 'Moves money, safely');
    assert.deepEqual(updated.tags, ['money']);
    // fields not in the PATCH keep their values
    assert.equal(updated.title, 'Payments');
    assert.equal(updated.type, 'department', 'type is not reset to its create default');
    assert.deepEqual(updated.labels, { tier: 'one' });
    assert.deepEqual(updated.links, created.links);
    assert.equal((updated.spec.profile as { email?: string }).email, 'payments@example.com');
    assert.equal(updated.createdAt, created.createdAt);
    assert.ok(Date.parse(updated.updatedAt) >= Date.parse(created.updatedAt));

    await expectStatus(await del('/api/v1/teams/payments', '"2"'), 204);
    await expectProblem(await s.api('/api/v1/teams/payments'), 404, 'not-found');
    await expectProblem(await del('/api/v1/teams/payments'), 404, 'not-found');
  });

  test('a PATCH that changes nothing keeps the version', async () => {
    await create('teams', { name: 'steady', description: 'same' });
    const res = await patch('/api/v1/teams/steady', { description: 'same' }, '"1"');
    assert.equal((await ok<Entity>(res)).version, 1);
    assert.equal(res.headers.get('etag'), '"1"');
  });

  test('a name of one kind is not found as another', async () => {
    await create('teams', { name: 'only-a-team' });
    await expectProblem(await s.api('/api/v1/users/only-a-team'), 404);
    await expectProblem(await s.api('/api/v1/applications/only-a-team'), 404);
    await expectProblem(await del('/api/v1/users/only-a-team'), 404);
    await expectProblem(await patch('/api/v1/users/only-a-team', { description: 'x' }, '"1"'), 404);
  });

  test('namespaces keep equal names apart', async () => {
    await create('teams', { name: 'twin' });
    const other = await create('teams', { name: 'twin', namespace: 'other', description: 'elsewhere' });
    assert.equal(other.ref, 'team:other/twin');
    assert.equal((await read('/api/v1/teams/twin?namespace=other')).e.description, 'elsewhere');
    assert.equal((await read('/api/v1/teams/twin')).e.description, null);
    assert.deepEqual(refs(await list('namespace=other&kind=team')), ['team:other/twin']);
  });

  test('a duplicate create is a 409 and changes nothing', async () => {
    for (const [plural, json] of [
      ['teams', { name: 'dup-team', description: 'first' }],
      ['users', { name: 'dup-user', description: 'first' }],
    ] as const) {
      await create(plural, json);
      const p = await expectProblem(await post(`/api/v1/${plural}`, { ...json, description: 'second' }), 409, 'conflict');
      assert.match(p.detail ?? '', /already exists/);
      assert.equal((await read(`/api/v1/${plural}/${json.name}`)).e.description, 'first');
    }
    // names differing only in case are the same entity
    await expectProblem(await post('/api/v1/teams', { name: 'DUP-TEAM' }), 409);
  });
});

describe('relations', () => {
  before(async () => {
    await create('users', { name: 'ann', displayName: 'Ann', email: 'ann@example.com' });
    await create('users', { name: 'ben' });
    await create('teams', { name: 'core', members: ['ann', 'user:default/ben'] });
    await create('teams', { name: 'web', parent: 'core' });
  });

  test('team members: hasMember on the team, memberOf on the user', async () => {
    const core = (await read('/api/v1/teams/core')).e;
    assert.deepEqual(relationKeys(core), ['hasMember user:default/ann', 'hasMember user:default/ben', 'parentOf team:default/web']);
    const ann = (await read('/api/v1/users/ann')).e;
    assert.deepEqual(relationKeys(ann), ['memberOf team:default/core']);
    const rel = core.relations?.find((r) => r.targetRef === 'user:default/ann');
    assert.deepEqual(rel, { type: 'hasMember', targetRef: 'user:default/ann', resolved: true, target: { kind: 'user', namespace: 'default', name: 'ann', title: 'Ann' } });
    assert.deepEqual(relationKeys((await read('/api/v1/teams/web')).e), ['childOf team:default/core']);
  });

  test('a user joining a team: memberOf on the user, hasMember on the team', async () => {
    await create('users', { name: 'cat', memberOf: ['web'] });
    assert.deepEqual(relationKeys((await read('/api/v1/users/cat')).e), ['memberOf team:default/web']);
    assert.ok(relationKeys((await read('/api/v1/teams/web')).e).includes('hasMember user:default/cat'));
  });

  test('an application owner: ownedBy on the application, ownerOf on the team', async () => {
    const app = await create('applications', { name: 'checkout', owner: 'core', lifecycle: 'production' });
    assert.equal(app.owner, 'team:default/core');
    assert.equal(app.type, 'service');
    assert.equal(app.lifecycle, 'production');
    assert.deepEqual(relationKeys(app), ['ownedBy team:default/core']);
    assert.ok(relationKeys((await read('/api/v1/teams/core')).e).includes('ownerOf application:default/checkout'));
    for (const owner of ['team:default/core', 'group:default/core', 'default/core']) {
      const name = `owned-${owner.replace(/[:/]/g, '-')}`;
      assert.equal((await create('applications', { name, owner })).owner, 'team:default/core', owner);
    }
  });

  test('dependencies between applications, both directions', async () => {
    await create('applications', { name: 'ledger', owner: 'core' });
    await create('applications', { name: 'billing', owner: 'core', dependsOn: ['component:ledger'] });
    assert.ok(relationKeys((await read('/api/v1/applications/billing')).e).includes('dependsOn application:default/ledger'));
    assert.ok(relationKeys((await read('/api/v1/applications/ledger')).e).includes('dependencyOf application:default/billing'));
  });

  test('changing the owner moves ownerOf to the new team', async () => {
    await create('applications', { name: 'mover', owner: 'core' });
    const { etag } = await read('/api/v1/applications/mover');
    const moved = await ok<Entity>(await patch('/api/v1/applications/mover', { owner: 'web' }, etag));
    assert.equal(moved.owner, 'team:default/web');
    assert.deepEqual(relationKeys(moved), ['ownedBy team:default/web']);
    assert.ok(relationKeys((await read('/api/v1/teams/web')).e).includes('ownerOf application:default/mover'));
    assert.ok(!relationKeys((await read('/api/v1/teams/core')).e).includes('ownerOf application:default/mover'));
  });

  test('references to entities that do not exist are a 400 naming the field, and write nothing', async () => {
    const before = await countEntities(s);
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['applications', { name: 'lost', owner: 'nobody' }, ['body.owner']],
      ['applications', { name: 'lost', owner: 'core', system: 'no-system' }, ['body.system']],
      ['teams', { name: 'lost', parent: 'no-parent' }, ['body.parent']],
      ['teams', { name: 'lost', members: ['ann', 'no-one'] }, ['body.members']],
      ['users', { name: 'lost', memberOf: ['no-team'] }, ['body.memberOf']],
    ];
    for (const [plural, json, want] of cases) {
      const p = await expectProblem(await post(`/api/v1/${plural}`, json), 400, 'validation');
      assert.deepEqual(paths(p), want, JSON.stringify(json));
    }
    const p = await expectProblem(await patch('/api/v1/applications/checkout', { owner: 'nobody' }, '"1"'), 400, 'validation');
    assert.deepEqual(paths(p), ['body.owner']);
    assert.equal((await read('/api/v1/applications/checkout')).e.owner, 'team:default/core');
    assert.equal(await countEntities(s), before);
  });

  test('a malformed reference is a 400 naming the field', async () => {
    const p = await expectProblem(await post('/api/v1/applications', { name: 'malformed', owner: 'not a ref!' }), 400, 'validation');
    assert.deepEqual(paths(p), ['body.owner']);
  });

  test('deleting a user removes the memberships they declared', async () => {
    await create('users', { name: 'leaver', memberOf: ['web'] });
    assert.ok(relationKeys((await read('/api/v1/teams/web')).e).includes('hasMember user:default/leaver'));
    await expectStatus(await del('/api/v1/users/leaver'), 204);
    assert.ok(!relationKeys((await read('/api/v1/teams/web')).e).includes('hasMember user:default/leaver'));
  });

  test('a team that owns applications cannot be deleted', async () => {
    await create('teams', { name: 'owner-team' });
    await create('applications', { name: 'owned-app', owner: 'owner-team' });
    for (const path of ['/api/v1/teams/owner-team', '/api/v1/entities/team/default/owner-team']) {
      const p = await expectProblem(await del(path), 409, 'conflict');
      assert.match(p.detail ?? '', /application:default\/owned-app/);
    }
    await read('/api/v1/teams/owner-team');
    await expectStatus(await del('/api/v1/applications/owned-app'), 204);
    await expectStatus(await del('/api/v1/teams/owner-team'), 204);
  });

  test('the only admin cannot be deleted', async () => {
    for (const path of ['/api/v1/users/admin', '/api/v1/entities/user/default/admin']) {
      const p = await expectProblem(await del(path), 409, 'conflict');
      assert.match(p.detail ?? '', /only admin/);
    }
    await ok(await s.api('/api/v1/me'));
  });

  test('users who are not admins can be deleted', async () => {
    await create('users', { name: 'temp' });
    await expectStatus(await del('/api/v1/entities/user/default/temp', '"1"'), 204);
    await expectProblem(await s.api('/api/v1/users/temp'), 404);
  });
});

describe('optimistic concurrency', () => {
  before(async () => {
    await create('teams', { name: 'occ' });
  });

  test('GET gives the version as ETag; PATCH without If-Match is a 428', async () => {
    await create('applications', { name: 'occ-app', owner: 'occ', description: 'v1' });
    const { etag } = await read('/api/v1/applications/occ-app');
    assert.equal(etag, '"1"');
    const p = await expectProblem(await patch('/api/v1/applications/occ-app', { description: 'v2' }), 428, 'precondition-required');
    assert.match(p.detail ?? '', /If-Match/);
    assert.equal((await read('/api/v1/applications/occ-app')).e.description, 'v1');
  });

  test('PATCH with a stale If-Match is a 412 and leaves the data unchanged', async () => {
    await create('applications', { name: 'stale', owner: 'occ', description: 'first' });
    const first = await read('/api/v1/applications/stale');
    const second = await ok<Entity>(await patch('/api/v1/applications/stale', { description: 'second' }, first.etag));
    assert.equal(second.version, 2);
    const p = await expectProblem(await patch('/api/v1/applications/stale', { description: 'lost update' }, first.etag), 412, 'precondition-failed');
    assert.match(p.detail ?? '', /version 2/);
    const now = (await read('/api/v1/applications/stale')).e;
    assert.equal(now.description, 'second');
    assert.equal(now.version, 2);
    // a weak ETag of the current version is accepted
    assert.equal((await ok<Entity>(await patch('/api/v1/applications/stale', { description: 'third' }, 'W/"2"'))).version, 3);
    // a version from the future is stale too
    await expectProblem(await patch('/api/v1/applications/stale', { description: 'x' }, '"99"'), 412);
  });

  test('two concurrent PATCHes with the same If-Match: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `race-${round}`;
      await create('applications', { name, owner: 'occ', description: 'start' });
      const results = await Promise.all(['left', 'right'].map(async (side) => {
        const res = await patch(`/api/v1/applications/${name}`, { description: side }, '"1"');
        return { side, status: res.status, body: await res.text() };
      }));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 412], JSON.stringify(results));
      const winner = results.find((r) => r.status === 200)!;
      const final = (await read(`/api/v1/applications/${name}`)).e;
      assert.equal(final.description, winner.side);
      assert.equal(final.version, 2);
    }
  });

  test('DELETE with a stale If-Match is a 412 and the entity stays', async () => {
    await create('applications', { name: 'keep-me', owner: 'occ' });
    const { etag } = await read('/api/v1/applications/keep-me');
    await ok(await patch('/api/v1/applications/keep-me', { description: 'changed' }, etag));
    await expectProblem(await del('/api/v1/applications/keep-me', etag), 412, 'precondition-failed');
    await expectProblem(await del('/api/v1/entities/application/default/keep-me', etag), 412, 'precondition-failed');
    await read('/api/v1/applications/keep-me');
    await expectStatus(await del('/api/v1/applications/keep-me', '"2"'), 204);
  });

  test('PATCH keeps fields it does not name, including create defaults', async () => {
    await create('applications', { name: 'prod-app', owner: 'occ', lifecycle: 'production', type: 'website', tags: ['web'] });
    const e = await ok<Entity>(await patch('/api/v1/applications/prod-app', { description: 'now described' }, '"1"'));
    assert.equal(e.lifecycle, 'production', 'lifecycle is not reset to "experimental"');
    assert.equal(e.type, 'website', 'type is not reset to "service"');
    assert.deepEqual(e.tags, ['web']);
  });
});

describe('imported entities through the API', () => {
  before(async () => {
    const content = [
      group('imp-org', { type: 'organization', children: ['imp-team'], extra: { keep: true } }),
      group('imp-team', { parent: 'imp-org', profile: { email: 'imp@example.com', picture: 'https://img.example/p.png' } }),
      component('imp-main', { owner: 'imp-team' }),
      component('imp-part', { owner: 'unknown-team', subcomponentOf: 'imp-main', lifecycle: 'production' }),
    ].join('---\n');
    const r = await importFiles(s, [{ location: 'imported.yaml', content }]);
    assert.equal(r.created, 4);
  });

  test('PATCH keeps the spec fields the API does not model', async () => {
    const org = await read('/api/v1/teams/imp-org');
    const e = await ok<Entity>(await patch('/api/v1/teams/imp-org', { description: 'patched' }, org.etag));
    assert.equal(e.description, 'patched');
    assert.equal(e.type, 'organization');
    assert.deepEqual(e.spec, { ...org.e.spec });
    assert.deepEqual(relationKeys(e), relationKeys(org.e));

    const team = await read('/api/v1/teams/imp-team');
    const t = await ok<Entity>(await patch('/api/v1/teams/imp-team', { email: 'new@example.com' }, team.etag));
    assert.deepEqual(t.spec.profile, { email: 'new@example.com', picture: 'https://img.example/p.png' });
    assert.deepEqual(relationKeys(t), relationKeys(team.e));
  });

  test('PATCH of an application whose owner is unresolved changes it and keeps its relations', async () => {
    const part = await read('/api/v1/applications/imp-part');
    assert.ok(part.e.relations?.some((r) => r.type === 'ownedBy' && !r.resolved));
    const e = await ok<Entity>(await patch('/api/v1/applications/imp-part', { description: 'patched' }, part.etag));
    assert.equal(e.description, 'patched');
    assert.equal(e.lifecycle, 'production');
    assert.equal(e.spec.subcomponentOf, 'imp-main');
    assert.deepEqual(relationKeys(e), ['ownedBy team:default/unknown-team', 'partOf application:default/imp-main']);
    assert.equal(e.source, 'imported.yaml', 'the source stays the import location');
    // a new unresolved reference is still refused
    const p = await expectProblem(await patch('/api/v1/applications/imp-part', { owner: 'another-unknown' }, '"2"'), 400);
    assert.deepEqual(paths(p), ['body.owner']);
  });
});

describe('pagination', () => {
  const names: string[] = [];
  before(async () => {
    // 120 teams with names that sort differently by case, punctuation and digits
    for (let i = 0; i < 120; i++) {
      const n = String(i).padStart(3, '0');
      names.push(i % 4 === 0 ? `pg-${n}` : i % 4 === 1 ? `PG.${n}` : i % 4 === 2 ? `pg_${n}` : `pg${n}x`);
    }
    const half = names.slice(0, 60).map((n) => group(n, { type: 'team' }, { labels: { set: 'pages' } })).join('---\n');
    const r = await importFiles(s, [{ location: 'pages.yaml', content: half }]);
    assert.equal(r.created, 60);
    for (const n of names.slice(60)) await create('teams', { name: n, labels: { set: 'pages' } });
  });

  test('walking pages of 50 sees every entity exactly once, in ref order', async () => {
    const all = new Set(names.map((n) => `team:default/${n.toLowerCase()}`));
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<Entity> = await list(`limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      sizes.push(page.items.length);
      seen.push(...refs(page));
      cursor = page.nextCursor;
      assert.ok(++pages < 100);
    } while (cursor);
    const total = await countEntities(s);
    assert.equal(seen.length, total, 'every entity once');
    assert.equal(new Set(seen).size, seen.length, 'no entity twice');
    for (const ref of all) assert.ok(seen.includes(ref), ref);
    assert.deepEqual(seen, [...seen].sort(), 'ordered by ref');
    assert.ok(sizes.slice(0, -1).every((n) => n === 50), JSON.stringify(sizes));
    assert.ok(sizes.at(-1)! <= 50 && sizes.at(-1)! > 0);
  });

  test('pages within a filter, and the last page has no cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Entity> = await ok<Page<Entity>>(await s.api(`/api/v1/teams?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      seen.push(...refs(page).filter((r) => r.startsWith('team:default/pg')));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 120);
    assert.deepEqual(seen, [...seen].sort());
    const exact = await list('kind=team&q=pg&limit=120');
    assert.equal(exact.items.length, 120, 'q=pg finds the 120');
    assert.equal(exact.nextCursor, null, 'a page that ends exactly at the end has no cursor');
  });

  test('entities created during the walk do not repeat entries', async () => {
    const first = await list('kind=team&limit=10');
    await create('teams', { name: 'aaa-early' }); // sorts before the cursor
    const second = await list(`kind=team&limit=10&cursor=${encodeURIComponent(first.nextCursor!)}`);
    assert.ok(refs(second).every((r) => r > refs(first).at(-1)!));
    assert.ok(!refs(second).includes('team:default/aaa-early'));
  });

  test('the default page size is 50 and at most 500 can be asked for', async () => {
    assert.equal((await list('')).items.length, 50);
    assert.ok((await list('limit=500')).items.length > 120);
  });
});

describe('filters and search', () => {
  before(async () => {
    await create('teams', { name: 'search-a' });
    await create('teams', { name: 'search-b' });
    await create('applications', { name: 'payments-api', owner: 'search-a', title: 'Payment Gateway', description: 'Takes card payments in euro and dollar', tags: ['pci', 'java'], type: 'service', lifecycle: 'production' });
    await create('applications', { name: 'books', owner: 'search-a', title: 'General Ledger', description: 'Double-entry bookkeeping in euro', tags: ['finance'], type: 'service' });
    await create('applications', { name: 'storefront', owner: 'search-b', title: 'Shop', description: 'The web shop', tags: ['web', 'java'], type: 'website', lifecycle: 'production' });
    const apis = [descriptor('API', 'payments-rest', { type: 'openapi', lifecycle: 'production', owner: 'search-a', definition: 'openapi: 3.1.0' })];
    await importFiles(s, [{ location: 'apis.yaml', content: apis.join('---\n') }]);
  });

  test('owner and kind combine (AND); repeated kinds are OR-ed', async () => {
    assert.deepEqual(refs(await list('owner=search-a')).sort(), ['api:default/payments-rest', 'application:default/books', 'application:default/payments-api']);
    assert.deepEqual(refs(await list('owner=search-a&kind=application')), ['application:default/books', 'application:default/payments-api']);
    assert.deepEqual(refs(await list('owner=team:default/search-a&kind=api')), ['api:default/payments-rest']);
    assert.deepEqual(refs(await list('owner=group:search-a&kind=api&kind=application')).sort(), ['api:default/payments-rest', 'application:default/books', 'application:default/payments-api']);
    assert.deepEqual(refs(await ok<Page<Entity>>(await s.api('/api/v1/applications?owner=search-b'))), ['application:default/storefront']);
    assert.deepEqual(refs(await list('owner=no-such-team')), []);
  });

  test('type, lifecycle and tag filters', async () => {
    assert.deepEqual(refs(await list('owner=search-a&lifecycle=production')).sort(), ['api:default/payments-rest', 'application:default/payments-api']);
    assert.deepEqual(refs(await list('kind=application&type=website&q=shop')), ['application:default/storefront']);
    assert.deepEqual(refs(await list('tag=java')), ['application:default/payments-api', 'application:default/storefront']);
    assert.deepEqual(refs(await list('tag=java&owner=search-b')), ['application:default/storefront']);
  });

  test('search matches name, title, description and tags by word prefix', async () => {
    const q = async (text: string) => refs(await list(`kind=application&q=${encodeURIComponent(text)}`));
    assert.deepEqual(await q('payments'), ['application:default/payments-api'], 'name');
    assert.deepEqual(await q('paym'), ['application:default/payments-api'], 'name prefix');
    assert.deepEqual(await q('gateway'), ['application:default/payments-api'], 'title');
    assert.deepEqual(await q('Gener'), ['application:default/books'], 'title prefix, case-insensitive');
    assert.deepEqual(await q('bookkeeping'), ['application:default/books'], 'description');
    assert.deepEqual(await q('euro'), ['application:default/books', 'application:default/payments-api'], 'description, two hits');
    assert.deepEqual(await q('pci'), ['application:default/payments-api'], 'tag');
    assert.deepEqual(await q('java'), ['application:default/payments-api', 'application:default/storefront'], 'tag, two hits');
  });

  test('several words must all match', async () => {
    const q = async (text: string) => refs(await list(`kind=application&q=${encodeURIComponent(text)}`));
    assert.deepEqual(await q('euro card'), ['application:default/payments-api']);
    assert.deepEqual(await q('euro ledg'), ['application:default/books']);
    assert.deepEqual(await q('java web shop'), ['application:default/storefront']);
    assert.deepEqual(await q('euro web'), []);
  });

  test('search combines with other filters and survives odd input', async () => {
    assert.deepEqual(refs(await list('q=payments')).sort(), ['api:default/payments-rest', 'application:default/payments-api']);
    assert.deepEqual(refs(await list('q=payments&kind=api')), ['api:default/payments-rest']);
    for (const odd of ["pay'ments", 'a & b | !c', ':*', '(euro)', '\\', '   ', '-', 'zzzzzz']) {
      const page = await list(`q=${encodeURIComponent(odd)}`);
      assert.ok(Array.isArray(page.items), odd);
    }
    assert.deepEqual(refs(await list('q=%20%20')), []);
  });
});
