import { sql, type Transaction } from 'kysely';
import type { Entity, EntityListQuery, Relation } from '../contracts/catalog.ts';
import type { Page } from '../contracts/common.ts';
import { notFound, preconditionFailed } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { Database, EntityRow } from '../store/schema.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { hashDraft, refOf, relationRows, toRef, type EntityDraft } from './model.ts';
import { toTsQuery } from './search.ts';

/**
 * The catalog's store. Invariants: an entity's row and its relation rows change in one transaction;
 * a write whose content hash equals the stored one changes nothing (not even the version); relations
 * are kept by ref, so one whose target is not in the catalog stays, shown as unresolved.
 */
type Tx = Transaction<Database> | Db;

export interface StagedEntity {
  draft: EntityDraft;
  source: string;
}

export interface UpsertOutcome {
  created: { id: string; ref: string }[];
  updated: { id: string; ref: string }[];
  unchanged: number;
}

const BATCH = 2000;

/** Timestamps come formatted by PostgreSQL (see ENTITY_SELECT); a Date only from other callers. */
const toIso = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString());

export function entityView(row: EntityRecord, relations?: Relation[]): Entity {
  return {
    id: row.id,
    ref: row.ref,
    kind: row.kind as Entity['kind'],
    namespace: row.namespace,
    name: row.name,
    title: row.title,
    description: row.description,
    type: row.type,
    lifecycle: row.lifecycle,
    owner: row.owner_ref,
    system: row.system_ref,
    tags: row.tags,
    labels: row.labels,
    annotations: row.annotations,
    links: row.links,
    spec: row.spec,
    source: row.source,
    version: row.version,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    ...(relations ? { relations } : {}),
  };
}

const ENTITY_COLUMNS = [
  'id', 'ref', 'kind', 'namespace', 'name', 'title', 'description', 'type', 'lifecycle', 'owner_ref', 'system_ref',
  'tags', 'labels', 'annotations', 'links', 'spec', 'source', 'content_hash', 'version',
] as const;
/**
 * Entity columns, with the timestamps formatted as ISO 8601 by PostgreSQL: parsing them into Dates and
 * back was a fifth of a list request's CPU time.
 */
const isoUtc = (column: 'created_at' | 'updated_at') => sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as(column);
const ENTITY_SELECT = [...ENTITY_COLUMNS, isoUtc('created_at'), isoUtc('updated_at')] as const;
/** An entity row as this module reads it: timestamps as ISO strings. */
export type EntityRecord = Omit<EntityRow, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string };

async function replaceRelations(tx: Tx, rows: { id: string; ref: string; inserted: boolean }[], byRef: Map<string, EntityDraft>): Promise<void> {
  if (rows.length === 0) return;
  const updated = rows.filter((r) => !r.inserted).map((r) => r.id);
  if (updated.length) await tx.deleteFrom('relations').where('origin_id', 'in', updated).execute();
  const origin: string[] = [];
  const source: string[] = [];
  const type: string[] = [];
  const target: string[] = [];
  for (const r of rows) {
    for (const rel of relationRows(r.ref, byRef.get(r.ref)!.relations)) {
      origin.push(r.id);
      source.push(rel.source_ref);
      type.push(rel.type);
      target.push(rel.target_ref);
    }
  }
  for (let i = 0; i < origin.length; i += BATCH * 5) {
    const s = i + BATCH * 5;
    await sql`
      INSERT INTO relations (origin_id, source_ref, type, target_ref)
      SELECT * FROM unnest(${origin.slice(i, s)}::uuid[], ${source.slice(i, s)}::text[], ${type.slice(i, s)}::text[], ${target.slice(i, s)}::text[])`.execute(tx);
  }
}

/**
 * Inserts or updates many entities at once (unnest batches, one statement per 2,000); entities whose
 * content is unchanged are left alone. Runs inside the caller's transaction.
 */
export async function upsertEntities(tx: Tx, staged: StagedEntity[]): Promise<UpsertOutcome> {
  const out: UpsertOutcome = { created: [], updated: [], unchanged: 0 };
  for (let i = 0; i < staged.length; i += BATCH) {
    const batch = staged.slice(i, i + BATCH);
    const byRef = new Map<string, EntityDraft>();
    const cols = {
      ref: [] as string[], kind: [] as string[], namespace: [] as string[], name: [] as string[], title: [] as (string | null)[],
      description: [] as (string | null)[], type: [] as (string | null)[], lifecycle: [] as (string | null)[], owner: [] as (string | null)[],
      system: [] as (string | null)[], tags: [] as string[], labels: [] as string[], annotations: [] as string[], links: [] as string[],
      spec: [] as string[], source: [] as string[], hash: [] as string[],
    };
    for (const { draft: d, source } of batch) {
      const ref = refOf(d.kind, d.namespace, d.name);
      byRef.set(ref, d);
      cols.ref.push(ref); cols.kind.push(d.kind); cols.namespace.push(d.namespace); cols.name.push(d.name);
      cols.title.push(d.title); cols.description.push(d.description); cols.type.push(d.type); cols.lifecycle.push(d.lifecycle);
      cols.owner.push(d.owner); cols.system.push(d.system); cols.tags.push(JSON.stringify(d.tags)); cols.labels.push(JSON.stringify(d.labels));
      cols.annotations.push(JSON.stringify(d.annotations)); cols.links.push(JSON.stringify(d.links)); cols.spec.push(JSON.stringify(d.spec));
      cols.source.push(source); cols.hash.push(hashDraft(d));
    }
    const res = await sql<{ id: string; ref: string; inserted: boolean }>`
      INSERT INTO entities (ref, kind, namespace, name, title, description, type, lifecycle, owner_ref, system_ref,
                            tags, labels, annotations, links, spec, source, content_hash)
      SELECT u.ref, u.kind, u.namespace, u.name, u.title, u.description, u.type, u.lifecycle, u.owner, u.system,
             ARRAY(SELECT jsonb_array_elements_text(u.tags::jsonb)), u.labels::jsonb, u.annotations::jsonb, u.links::jsonb,
             u.spec::jsonb, u.source, u.hash
      FROM unnest(${cols.ref}::text[], ${cols.kind}::text[], ${cols.namespace}::text[], ${cols.name}::text[], ${cols.title}::text[],
                  ${cols.description}::text[], ${cols.type}::text[], ${cols.lifecycle}::text[], ${cols.owner}::text[], ${cols.system}::text[],
                  ${cols.tags}::text[], ${cols.labels}::text[], ${cols.annotations}::text[], ${cols.links}::text[], ${cols.spec}::text[],
                  ${cols.source}::text[], ${cols.hash}::text[])
           AS u(ref, kind, namespace, name, title, description, type, lifecycle, owner, system, tags, labels, annotations, links, spec, source, hash)
      ON CONFLICT (ref) DO UPDATE SET
        name = excluded.name, title = excluded.title, description = excluded.description, type = excluded.type,
        lifecycle = excluded.lifecycle, owner_ref = excluded.owner_ref, system_ref = excluded.system_ref, tags = excluded.tags,
        labels = excluded.labels, annotations = excluded.annotations, links = excluded.links, spec = excluded.spec,
        source = excluded.source, content_hash = excluded.content_hash, version = entities.version + 1, updated_at = now()
      WHERE entities.content_hash IS DISTINCT FROM excluded.content_hash
      RETURNING id, ref, (xmax = 0) AS inserted`.execute(tx);
    for (const row of res.rows) (row.inserted ? out.created : out.updated).push({ id: row.id, ref: row.ref });
    out.unchanged += batch.length - res.rows.length;
    await replaceRelations(tx, res.rows, byRef);
  }
  return out;
}

/** Updates one entity if its version is still `expectedVersion`; 412 otherwise. */
export async function updateEntity(db: Db, ref: string, expectedVersion: number | undefined, draft: EntityDraft, source: string): Promise<EntityRecord> {
  return db.transaction().execute(async (tx) => {
    const current = await tx.selectFrom('entities').select(['id', 'version', 'content_hash']).where('ref', '=', ref).forUpdate().executeTakeFirst();
    if (!current) throw notFound(`entity ${ref}`);
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw preconditionFailed(`${ref} is at version ${current.version}, not ${expectedVersion}: someone changed it since you read it; read it again and retry`);
    }
    const hash = hashDraft(draft);
    if (hash !== current.content_hash) {
      await upsertEntities(tx, [{ draft, source }]);
    }
    return tx.selectFrom('entities').select(ENTITY_SELECT).where('ref', '=', ref).executeTakeFirstOrThrow();
  });
}

export async function deleteEntity(db: Db, ref: string, expectedVersion: number | undefined): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const current = await tx.selectFrom('entities').select(['id', 'version']).where('ref', '=', ref).forUpdate().executeTakeFirst();
    if (!current) throw notFound(`entity ${ref}`);
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw preconditionFailed(`${ref} is at version ${current.version}, not ${expectedVersion}; read it again and retry`);
    }
    await tx.deleteFrom('entities').where('id', '=', current.id).execute();
  });
}

export async function findEntity(db: Tx, ref: string): Promise<EntityRecord | undefined> {
  return db.selectFrom('entities').select(ENTITY_SELECT).where('ref', '=', ref).executeTakeFirst();
}

export async function getEntity(db: Db, ref: string): Promise<EntityRecord> {
  const row = await findEntity(db, ref);
  if (!row) throw notFound(`entity ${ref}`);
  return row;
}

export async function existingRefs(db: Tx, refs: string[]): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const rows = await db.selectFrom('entities').select('ref').where('ref', 'in', refs).execute();
  return new Set(rows.map((r) => r.ref));
}

/** Relations of an entity, both directions (inverses are stored), with whether each target exists. */
export async function relationsOf(db: Db, ref: string): Promise<Relation[]> {
  const rows = await sql<{ type: string; target_ref: string; kind: string | null; namespace: string | null; name: string | null; title: string | null }>`
    SELECT DISTINCT r.type, r.target_ref, e.kind, e.namespace, e.name, e.title
    FROM relations r LEFT JOIN entities e ON e.ref = r.target_ref
    WHERE r.source_ref = ${ref}
    ORDER BY r.type, r.target_ref`.execute(db);
  return rows.rows.map((r) => ({
    type: r.type,
    targetRef: r.target_ref,
    resolved: r.kind !== null,
    target: r.kind ? { kind: r.kind, namespace: r.namespace!, name: r.name!, title: r.title } : null,
  }));
}

/** Filtered, searchable, keyset-paginated list ordered by ref. */
export async function listEntities(db: Db, q: Partial<EntityListQuery> & { limit: number }): Promise<Page<EntityRecord>> {
  let query = db.selectFrom('entities').select(ENTITY_SELECT).orderBy('ref').limit(q.limit + 1);
  const kinds = q.kind === undefined ? [] : Array.isArray(q.kind) ? q.kind : [q.kind];
  if (kinds.length) query = query.where('kind', 'in', kinds);
  if (q.namespace) query = query.where('namespace', '=', q.namespace);
  if (q.owner) query = query.where('owner_ref', '=', toRef(q.owner, { kind: 'team' }) ?? q.owner.toLowerCase());
  if (q.system) query = query.where('system_ref', '=', toRef(q.system, { kind: 'system' }) ?? q.system.toLowerCase());
  if (q.type) query = query.where('type', '=', q.type);
  if (q.lifecycle) query = query.where('lifecycle', '=', q.lifecycle);
  if (q.tag) query = query.where(sql<boolean>`tags @> ARRAY[${q.tag}]::text[]`);
  if (q.q !== undefined) {
    const ts = toTsQuery(q.q);
    if (!ts) return { items: [], nextCursor: null };
    query = query.where(sql<boolean>`search @@ to_tsquery('simple', ${ts})`);
  }
  if (q.cursor) query = query.where('ref', '>', decodeCursor(q.cursor));
  const rows = await query.execute();
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]!.ref) : null };
}

/** Every entity matching the filter, in pages, for export. */
export async function* allEntities(db: Db, q: Partial<EntityListQuery>): AsyncGenerator<EntityRecord[]> {
  let cursor: string | undefined;
  do {
    const page = await listEntities(db, { ...q, limit: 1000, ...(cursor ? { cursor } : {}) });
    yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** Relations declared by the given entities whose target is not in the catalog. */
export async function unresolvedRelations(db: Tx, refs: string[], limit: number): Promise<{ items: { source: string; type: string; target: string }[]; count: number }> {
  if (refs.length === 0) return { items: [], count: 0 };
  const base = sql`
    FROM relations r JOIN entities o ON o.id = r.origin_id
    WHERE o.ref = ANY(${refs}::text[]) AND r.source_ref = o.ref
      AND NOT EXISTS (SELECT 1 FROM entities t WHERE t.ref = r.target_ref)`;
  const [items, count] = await Promise.all([
    sql<{ source: string; type: string; target: string }>`SELECT r.source_ref AS source, r.type, r.target_ref AS target ${base} ORDER BY 1, 2, 3 LIMIT ${limit}`.execute(db),
    sql<{ n: number }>`SELECT count(*)::int AS n ${base}`.execute(db),
  ]);
  return { items: items.rows, count: count.rows[0]?.n ?? 0 };
}
