import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { refOf, type EntityDraft } from '../../src/catalog/model.ts';
import * as repo from '../../src/catalog/repository.ts';
import { createLogger } from '../../src/logging.ts';
import { MIGRATIONS, migrateToLatest } from '../../src/store/migrate.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import type { Kysely } from 'kysely';

/**
 * The store's conformance suite: the same assertions against every PostgreSQL the store can run on
 * (embedded in the data directory, or an external server). `connect` gives a database URL to a fresh,
 * empty database.
 */
export function draft(kind: EntityDraft['kind'], name: string, extra: Partial<EntityDraft> = {}): EntityDraft {
  return {
    kind, namespace: 'default', name, title: null, description: null, type: null, lifecycle: null, owner: null, system: null,
    tags: [], labels: {}, annotations: {}, links: [], spec: {}, relations: [], ...extra,
  };
}

export function storeConformance(label: string, connect: () => Promise<{ url: string; done(): Promise<void> }>): void {
  const log = createLogger('silent');
  let store: Store;
  let done: () => Promise<void>;

  test(`${label}: opens and migrates a fresh database; migrating again changes nothing`, async () => {
    const c = await connect();
    done = c.done;
    store = await openStore({ dataDir: '/nonexistent', databaseUrl: c.url, log, poolSize: 5 });
    const again = await migrateToLatest(store.db as unknown as Kysely<unknown>);
    assert.deepEqual(again.results, []);
    const tables = await sql<{ t: string }>`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`.execute(store.db);
    for (const t of ['api_tokens', 'entities', 'relations', 'user_accounts']) assert.ok(tables.rows.some((r) => r.t === t), t);
  });

  test(`${label}: two servers migrating the same new database at once apply each migration once`, async () => {
    const c = await connect();
    const [a, b] = await Promise.all([
      openStore({ dataDir: '/nonexistent', databaseUrl: c.url, log, poolSize: 2 }),
      openStore({ dataDir: '/nonexistent', databaseUrl: c.url, log, poolSize: 2 }),
    ]);
    const rows = await sql<{ name: string }>`SELECT name FROM pave_migrations`.execute(a.db);
    assert.deepEqual(rows.rows.map((r) => r.name).sort(), Object.keys(MIGRATIONS).sort());
    await a.close();
    await b.close();
    await c.done();
  });

  test(`${label}: upsert is idempotent and counts created, updated and unchanged`, async () => {
    const drafts = [
      draft('team', 'alpha', { relations: [] }),
      draft('application', 'shop', { owner: 'team:default/alpha', relations: [{ type: 'ownedBy', target: 'team:default/alpha' }] }),
    ];
    const first = await repo.upsertEntities(store.db, drafts.map((d) => ({ draft: d, source: 'test' })));
    assert.equal(first.created.length, 2);
    const again = await repo.upsertEntities(store.db, drafts.map((d) => ({ draft: d, source: 'test' })));
    assert.deepEqual([again.created.length, again.updated.length, again.unchanged], [0, 0, 2]);
    const shop = await repo.getEntity(store.db, 'application:default/shop');
    assert.equal(shop.version, 1);
    const changed = await repo.upsertEntities(store.db, [{ draft: { ...drafts[1]!, description: 'new' }, source: 'test' }]);
    assert.equal(changed.updated.length, 1);
    assert.equal((await repo.getEntity(store.db, 'application:default/shop')).version, 2);
  });

  test(`${label}: relations are stored both ways; unresolved targets stay visible`, async () => {
    const rel = await repo.relationsOf(store.db, 'team:default/alpha');
    assert.deepEqual(rel.map((r) => [r.type, r.targetRef, r.resolved]), [['ownerOf', 'application:default/shop', true]]);
    await repo.upsertEntities(store.db, [{ draft: draft('application', 'orphan', { owner: 'team:default/ghost', relations: [{ type: 'ownedBy', target: 'team:default/ghost' }] }), source: 'test' }]);
    const orphan = await repo.relationsOf(store.db, 'application:default/orphan');
    assert.deepEqual(orphan.map((r) => [r.type, r.targetRef, r.resolved, r.target]), [['ownedBy', 'team:default/ghost', false, null]]);
    const unresolved = await repo.unresolvedRelations(store.db, ['application:default/orphan', 'application:default/shop'], 10);
    assert.deepEqual(unresolved, { items: [{ source: 'application:default/orphan', type: 'ownedBy', target: 'team:default/ghost' }], count: 1 });
  });

  test(`${label}: a failed transaction writes nothing`, async () => {
    const before = await store.db.selectFrom('entities').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await assert.rejects(
      store.db.transaction().execute(async (tx) => {
        await repo.upsertEntities(tx, [{ draft: draft('team', 'doomed'), source: 'test' }]);
        throw new Error('boom');
      }),
      /boom/,
    );
    const after = await store.db.selectFrom('entities').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
    assert.equal(await repo.findEntity(store.db, 'team:default/doomed'), undefined);
  });

  test(`${label}: optimistic concurrency: a stale version is refused and changes nothing`, async () => {
    const current = await repo.getEntity(store.db, 'application:default/shop');
    const next = draft('application', 'shop', { owner: 'team:default/alpha', description: 'v3', relations: [{ type: 'ownedBy', target: 'team:default/alpha' }] });
    await repo.updateEntity(store.db, current.ref, current.version, next, 'test');
    await assert.rejects(repo.updateEntity(store.db, current.ref, current.version, { ...next, description: 'lost' }, 'test'), (e: Error & { status?: number }) => e.status === 412);
    assert.equal((await repo.getEntity(store.db, current.ref)).description, 'v3');
    const results = await Promise.allSettled([
      repo.updateEntity(store.db, current.ref, current.version + 1, { ...next, description: 'a' }, 'test'),
      repo.updateEntity(store.db, current.ref, current.version + 1, { ...next, description: 'b' }, 'test'),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
  });

  test(`${label}: keyset pages cover every entity once; filters and full-text search`, async () => {
    const many = Array.from({ length: 130 }, (_, i) =>
      draft('application', `svc-${String(i).padStart(3, '0')}`, {
        owner: i % 2 ? 'team:default/alpha' : 'team:default/beta',
        description: i % 10 === 0 ? 'handles payment refunds' : 'ordinary service',
        tags: i % 3 === 0 ? ['golang'] : ['node'],
        relations: [],
      }),
    );
    await repo.upsertEntities(store.db, many.map((d) => ({ draft: d, source: 'test' })));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await repo.listEntities(store.db, { kind: 'application', owner: 'alpha', limit: 20, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((e) => e.ref));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const expected = many.filter((d) => d.owner === 'team:default/alpha').map((d) => refOf(d.kind, d.namespace, d.name)).concat('application:default/shop').sort();
    assert.deepEqual(seen, expected);
    const refunds = await repo.listEntities(store.db, { q: 'refu pay', limit: 100 });
    assert.equal(refunds.items.length, 13);
    const golang = await repo.listEntities(store.db, { q: 'golang', kind: 'application', limit: 100 });
    assert.equal(golang.items.length, 44);
    const tag = await repo.listEntities(store.db, { tag: 'golang', owner: 'team:default/beta', limit: 100 });
    assert.equal(tag.items.length, many.filter((_, i) => i % 3 === 0 && i % 2 === 0).length);
    assert.deepEqual((await repo.listEntities(store.db, { q: '***', limit: 5 })).items, []);
  });

  test(`${label}: deleting an entity removes the relations it declared`, async () => {
    await repo.deleteEntity(store.db, 'application:default/shop', undefined);
    assert.deepEqual(await repo.relationsOf(store.db, 'team:default/alpha'), []);
    await store.close();
    await done();
  });
}
