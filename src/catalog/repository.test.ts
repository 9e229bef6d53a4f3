import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { createLogger } from '../logging.ts';
import { createDb, openStore, type Db, type Store } from '../store/db.ts';
import { MIGRATIONS, migrateToLatest } from '../store/migrate.ts';
import { hashDraft, refOf, type EntityDraft } from './model.ts';
import * as repo from './repository.ts';

/**
 * List responses are JSON written by PostgreSQL (listEntitiesJson): byte for byte what serialising the
 * entities in JavaScript gives, and what the catalog answered when it kept these columns as jsonb and
 * stored inverse relations (migration 0004 converts such a database).
 */

function draft(kind: EntityDraft['kind'], name: string, extra: Partial<EntityDraft> = {}): EntityDraft {
  return {
    kind, namespace: 'default', name, title: null, description: null, type: null, lifecycle: null, owner: null, system: null,
    tags: [], labels: {}, annotations: {}, links: [], spec: {}, relations: [], ...extra,
  };
}

/** Values that JSON writers disagree on: escapes, non-ASCII, integer-like and unusual keys, nulls, numbers. */
const ODD = {
  spec: {
    type: 'service', owner: 'team:default/a', lifecycle: 'x', '10': 1, '2': [1.5, -0, 1e21, 0.1, null, true], é: { z: null, a: 'ü' }, '': 'empty',
    'quote"key': 'back\\slash', nested: [{ b: 1, a: { '7': 'seven', d: [] } }], zz: 'line\nbreak\ttab\u0001\u2028',
  },
  labels: { 'app.kubernetes.io/name': 'x', a: 'b', '3': 'c' },
  annotations: { 'github.com/project-slug': 'acme/"x"', 'backstage.io/techdocs-ref': 'dir:.' },
  links: [{ url: 'https://example.com/a?b="c"', title: 'T ü' }],
};

function entities(): EntityDraft[] {
  return [
    draft('team', 'a', { title: 'Team "A"', description: 'first\nsecond', tags: ['x', 'c++'], spec: { type: 'team', children: [] } }),
    draft('application', 'odd', {
      title: 'Ödd \u0007 app', description: 'tab\there', type: 'service', lifecycle: 'experimental', owner: 'team:default/a', tags: ['go', 'tier-1'],
      ...ODD, relations: [{ type: 'ownedBy', target: 'team:default/a' }, { type: 'dependsOn', target: 'application:default/ghost' }],
    }),
    ...Array.from({ length: 7 }, (_, i) =>
      draft('application', `svc-${i}`, { owner: 'team:default/a', type: 'service', description: `svc ${i} payments`, tags: ['go'], spec: { owner: 'a', type: 'service', lifecycle: 'x' }, relations: [{ type: 'ownedBy', target: 'team:default/a' }] }),
    ),
  ];
}

const QUERIES: (Parameters<typeof repo.listEntities>[1])[] = [
  { limit: 100 }, { limit: 2 }, { kind: 'application', owner: 'a', limit: 3 }, { kind: ['team', 'application'], limit: 50 }, { tag: 'go', limit: 4 },
  { q: 'payments', limit: 5 }, { q: 'ödd', limit: 5 }, { q: '***', limit: 5 }, { namespace: 'default', type: 'service', lifecycle: 'experimental', limit: 5 },
];

async function pagesAsObjects(db: Db, q: Parameters<typeof repo.listEntities>[1]): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await repo.listEntities(db, { ...q, ...(cursor ? { cursor } : {}) });
    out.push(JSON.stringify({ items: page.items.map((r) => repo.entityView(r)), nextCursor: page.nextCursor }));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

async function pagesAsJson(db: Db, q: Parameters<typeof repo.listEntities>[1]): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await repo.listEntitiesJson(db, { ...q, ...(cursor ? { cursor } : {}) })).toString();
    out.push(page);
    cursor = (JSON.parse(page) as { nextCursor: string | null }).nextCursor ?? undefined;
  } while (cursor);
  return out;
}

let database: TestDatabase;
let store: Store;
before(async () => {
  database = await createTestDatabase();
  store = await openStore({ dataDir: '/nonexistent', databaseUrl: database.url, log: createLogger('silent'), poolSize: 3 });
});
after(async () => {
  await store?.close();
  await database?.drop();
});

test('list pages written by PostgreSQL are byte for byte the entities serialised in JavaScript', async () => {
  const out = await repo.upsertEntities(store.db, entities().map((d) => ({ draft: d, source: 'dir/"catalog".yaml' })));
  assert.equal(out.created.length, 9);
  for (const q of QUERIES) assert.deepEqual(await pagesAsJson(store.db, q), await pagesAsObjects(store.db, q), JSON.stringify(q));
});

test('json columns hold what jsonb gave back, compact', async () => {
  const all = await sql<{ labels: string; annotations: string; links: string; spec: string; jl: string; ja: string; jk: string; js: string }>`
    SELECT labels::text AS labels, annotations::text AS annotations, links::text AS links, spec::text AS spec,
           labels::jsonb::text AS jl, annotations::jsonb::text AS ja, links::jsonb::text AS jk, spec::jsonb::text AS js FROM entities`.execute(store.db);
  assert.ok(all.rows.length >= 9);
  for (const r of all.rows) {
    // What the catalog answered when these columns were jsonb: JSON.stringify(JSON.parse(jsonb text)).
    assert.equal(r.labels, JSON.stringify(JSON.parse(r.jl)));
    assert.equal(r.annotations, JSON.stringify(JSON.parse(r.ja)));
    assert.equal(r.links, JSON.stringify(JSON.parse(r.jk)));
    assert.equal(r.spec, JSON.stringify(JSON.parse(r.js)));
  }
});

test('inverse relations are derived from the declaring rows', async () => {
  const team = await repo.relationsOf(store.db, 'team:default/a');
  assert.deepEqual(team.map((r) => `${r.type} ${r.targetRef} ${r.resolved}`), [
    'ownerOf application:default/odd true', ...Array.from({ length: 7 }, (_, i) => `ownerOf application:default/svc-${i} true`),
  ]);
  const odd = await repo.relationsOf(store.db, 'application:default/odd');
  assert.deepEqual(odd.map((r) => `${r.type} ${r.targetRef} ${r.resolved}`), ['dependsOn application:default/ghost false', 'ownedBy team:default/a true']);
  assert.deepEqual((await repo.relationsOf(store.db, 'application:default/ghost')).map((r) => `${r.type} ${r.targetRef}`), ['dependencyOf application:default/odd']);
  const rows = await store.db.selectFrom('relations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(rows.n), 2 + 7, 'one row per declared relation');
});

test('migration 0004 turns a database of the earlier format into one that answers the same bytes', async () => {
  const old = await createTestDatabase();
  const db = createDb(old.url, 2);
  try {
    const migrator = new Migrator({ db: db as unknown as Kysely<unknown>, provider: { getMigrations: async () => MIGRATIONS }, migrationTableName: 'pave_migrations', migrationLockTableName: 'pave_migrations_lock' });
    const to3 = await migrator.migrateTo('0003_deployments');
    assert.equal(to3.error, undefined);
    // Entities and relations as the catalog wrote them before 0004: jsonb, and every relation with its stored inverse.
    const inverse: Record<string, string> = { ownedBy: 'ownerOf', dependsOn: 'dependencyOf' };
    for (const d of entities()) {
      const ref = refOf(d.kind, d.namespace, d.name);
      const row = await sql<{ id: string }>`
        INSERT INTO entities (ref, kind, namespace, name, title, description, type, lifecycle, owner_ref, system_ref, tags, labels, annotations, links, spec, source, content_hash)
        VALUES (${ref}, ${d.kind}, ${d.namespace}, ${d.name}, ${d.title}, ${d.description}, ${d.type}, ${d.lifecycle}, ${d.owner}, ${d.system}, ${d.tags}::text[],
                ${JSON.stringify(d.labels)}::jsonb, ${JSON.stringify(d.annotations)}::jsonb, ${JSON.stringify(d.links)}::jsonb, ${JSON.stringify(d.spec)}::jsonb, 'api', ${hashDraft(d)})
        RETURNING id`.execute(db);
      for (const r of d.relations) {
        await sql`INSERT INTO relations (origin_id, source_ref, type, target_ref) VALUES (${row.rows[0]!.id}, ${ref}, ${r.type}, ${r.target}), (${row.rows[0]!.id}, ${r.target}, ${inverse[r.type]!}, ${ref})`.execute(db);
      }
    }
    // What the catalog answered then: the rows parsed and serialised in JavaScript, and relations from the stored rows.
    const before: string[] = [];
    for (const q of QUERIES) before.push(...(await pagesAsObjects(db, q)));
    const oldRelations = async (ref: string) =>
      (await sql<{ type: string; target_ref: string; kind: string | null }>`
        SELECT DISTINCT r.type, r.target_ref, e.kind FROM relations r LEFT JOIN entities e ON e.ref = r.target_ref
        WHERE r.source_ref = ${ref} ORDER BY r.type, r.target_ref`.execute(db)).rows.map((r) => `${r.type} ${r.target_ref} ${r.kind !== null}`);
    const refs = ['team:default/a', 'application:default/odd', 'application:default/ghost', 'application:default/svc-3'];
    const relationsBefore = await Promise.all(refs.map(oldRelations));

    await db.destroy();

    // A server starting on it: migrates, then answers from fresh connections.
    const migrated = createDb(old.url, 2);
    try {
      await migrateToLatest(migrated as unknown as Kysely<unknown>);
      const after: string[] = [];
      for (const q of QUERIES) after.push(...(await pagesAsJson(migrated, q)));
      assert.deepEqual(after, before);
      const relationsAfter = await Promise.all(refs.map(async (ref) => (await repo.relationsOf(migrated, ref)).map((r) => `${r.type} ${r.targetRef} ${r.resolved}`)));
      assert.deepEqual(relationsAfter, relationsBefore);
      const n = await migrated.selectFrom('relations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 2 + 7, 'stored inverses removed');
    } finally {
      await migrated.destroy();
    }
  } finally {
    await db.destroy().catch(() => undefined);
    await old.drop();
  }
});
