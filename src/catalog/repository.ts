import { CompiledQuery, sql, type Transaction } from 'kysely';
import { RELATION_PAIRS, type Entity, type EntityListQuery, type Relation } from '../contracts/catalog.ts';
import type { Page } from '../contracts/common.ts';
import { notFound, preconditionFailed } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { Database, EntityRow } from '../store/schema.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { hashDraft, jsonText, refOf, relationRows, toRef, type EntityDraft } from './model.ts';
import { toTsQuery } from './search.ts';

/**
 * The catalog's store. Invariants: an entity's row and its relation rows change in one transaction (one
 * statement, even); a write whose content hash equals the stored one changes nothing (not even the
 * version); relations are kept by ref, so one whose target is not in the catalog stays, shown as
 * unresolved. Only declared relations are stored; their inverses are derived when read (by target).
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

/**
 * Entities per write statement: enough to amortise a statement, small enough that its JSON (~330 KB)
 * and pg's copies of it stay small (larger batches grew the server's malloc heap by tens of MB).
 */
const BATCH = 250;

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
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const isoUtc = (column: 'created_at' | 'updated_at') => sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', ${sql.raw(ISO_UTC)})`.as(column);
const ENTITY_SELECT = [...ENTITY_COLUMNS, isoUtc('created_at'), isoUtc('updated_at')] as const;
/** An entity row as this module reads it: timestamps as ISO strings. */
export type EntityRecord = Omit<EntityRow, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string };

// ---- statements Kysely cannot express ---------------------------------------------------------------

/** pg's own query options: a named (prepared once per connection) statement, rows as arrays. */
interface PgQuery {
  text: string;
  name?: string;
  rowMode?: 'array';
}

/**
 * Runs a statement with pg's query options, which Kysely's compiled queries do not carry. Kysely's
 * PostgreSQL driver passes a compiled query's `sql` to pg's `client.query(sql, parameters)` as it is,
 * and pg takes a query config object in that place; the statement runs on the caller's connection
 * (transaction) like any other.
 */
async function pgQuery<R>(db: Tx, query: PgQuery, values: readonly unknown[]): Promise<R[]> {
  const compiled = { ...CompiledQuery.raw(query.text, [...values]), sql: query as unknown as string };
  const res = await db.executeQuery<R>(compiled);
  return res.rows;
}

// ---- writes -----------------------------------------------------------------------------------------

/**
 * One statement per batch: the entities come as one JSON array (json_to_recordset), the changed ones
 * are inserted or updated, the relations of the updated ones are replaced and those of the new ones
 * inserted. The statement's parts see the same snapshot, so the DELETE only removes relation rows that
 * existed before it. `labels`, `annotations`, `links` and `spec` are json columns: their text is kept
 * as sent (see jsonText), and list responses embed it as is.
 */
const UPSERT = `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS x(
      ref text, kind text, namespace text, name text, title text, description text, type text, lifecycle text, owner text, system text,
      tags text[], labels json, annotations json, links json, spec json, source text, hash text, rels json)
  ), written AS (
    INSERT INTO entities AS e (ref, kind, namespace, name, title, description, type, lifecycle, owner_ref, system_ref,
                               tags, labels, annotations, links, spec, source, content_hash)
    SELECT ref, kind, namespace, name, title, description, type, lifecycle, owner, system,
           tags, labels, annotations, links, spec, source, hash
    FROM input
    ON CONFLICT (ref) DO UPDATE SET
      name = excluded.name, title = excluded.title, description = excluded.description, type = excluded.type,
      lifecycle = excluded.lifecycle, owner_ref = excluded.owner_ref, system_ref = excluded.system_ref, tags = excluded.tags,
      labels = excluded.labels, annotations = excluded.annotations, links = excluded.links, spec = excluded.spec,
      source = excluded.source, content_hash = excluded.content_hash, version = e.version + 1, updated_at = now()
    WHERE e.content_hash IS DISTINCT FROM excluded.content_hash
    RETURNING e.id, e.ref, (e.xmax = 0) AS inserted
  ), cleared AS (
    DELETE FROM relations r USING written w WHERE r.origin_id = w.id AND NOT w.inserted
  ), related AS (
    INSERT INTO relations (origin_id, source_ref, type, target_ref)
    SELECT w.id, w.ref, rel ->> 0, rel ->> 1
    FROM written w JOIN input i ON i.ref = w.ref CROSS JOIN LATERAL json_array_elements(i.rels) AS rel
  )
  SELECT id, ref, inserted FROM written`;

const str = (s: string | null) => (s === null ? 'null' : JSON.stringify(s));

/** One entity as an element of UPSERT's JSON array (written out: its json columns' text is jsonText's). */
function upsertElement({ draft: d, source }: StagedEntity): string {
  const ref = refOf(d.kind, d.namespace, d.name);
  let rels = '';
  for (const r of relationRows(ref, d.relations)) rels += `${rels ? ',' : ''}[${JSON.stringify(r.type)},${JSON.stringify(r.target_ref)}]`;
  return `{"ref":${str(ref)},"kind":${str(d.kind)},"namespace":${str(d.namespace)},"name":${str(d.name)},"title":${str(d.title)},` +
    `"description":${str(d.description)},"type":${str(d.type)},"lifecycle":${str(d.lifecycle)},"owner":${str(d.owner)},"system":${str(d.system)},` +
    `"tags":${JSON.stringify(d.tags)},"labels":${jsonText(d.labels)},"annotations":${jsonText(d.annotations)},"links":${jsonText(d.links)},` +
    `"spec":${jsonText(d.spec)},"source":${str(source)},"hash":${str(hashDraft(d))},"rels":[${rels}]}`;
}

/**
 * A JSON array written element by element into a Buffer: a batch's JSON lives outside the JS heap while
 * it waits for and goes to the database, instead of as strings that would outlive young-generation GCs.
 */
class BatchBuffer {
  count = 0;
  private buf = Buffer.allocUnsafe(64 * 1024);
  private length = 1;
  constructor() {
    this.reset();
  }
  reset(): this {
    this.buf[0] = 0x5b; // [
    this.length = 1;
    this.count = 0;
    return this;
  }
  add(element: string): void {
    const need = this.length + 1 + Buffer.byteLength(element) + 1;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    if (this.count++ > 0) this.buf[this.length++] = 0x2c; // ,
    this.length += this.buf.write(element, this.length);
  }
  /** The JSON array; valid until the next reset. */
  close(): Buffer {
    this.buf[this.length] = 0x5d; // ]
    return this.buf.subarray(0, this.length + 1);
  }
}

/**
 * Writes entities in batches inside the caller's transaction, overlapping the preparation of the next
 * batch (JSON, content hashes: server CPU) with the database's work on the previous one. Call `add`
 * for each entity (awaiting it), then `finish` once. `listAtMost` caps the created and updated entities
 * listed in the outcome (the counts are always complete).
 */
export class EntityWriter {
  readonly out: UpsertOutcome = { created: [], updated: [], unchanged: 0 };
  created = 0;
  updated = 0;
  private readonly tx: Tx;
  private readonly listAtMost: number;
  /** The batch being prepared: UPSERT's JSON array, as UTF-8 bytes outside the JS heap. */
  private batch = new BatchBuffer();
  /** The buffer of the batch last written, reused once that write is done. */
  private spare: BatchBuffer | undefined;
  private pending: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  constructor(tx: Tx, listAtMost = Infinity) {
    this.tx = tx;
    this.listAtMost = listAtMost;
  }

  async add(entity: StagedEntity): Promise<void> {
    this.batch.add(upsertElement(entity));
    if (this.batch.count >= BATCH) await this.flush();
  }

  private async write(batch: BatchBuffer): Promise<void> {
    // A Buffer parameter goes in binary format, which for json is its text.
    const rows = await pgQuery<[string, string, boolean]>(this.tx, { text: UPSERT, name: 'pave_catalog_upsert', rowMode: 'array' }, [batch.close()]);
    for (const [id, ref, inserted] of rows) {
      if (inserted) {
        if (this.created++ < this.listAtMost) this.out.created.push({ id, ref });
      } else if (this.updated++ < this.listAtMost) this.out.updated.push({ id, ref });
    }
    this.out.unchanged += batch.count - rows.length;
    this.spare = batch;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    await this.settle();
    this.batch = this.spare?.reset() ?? new BatchBuffer();
    this.spare = undefined;
    if (batch.count === 0) return;
    // Not awaited here: the caller prepares the next batch while this one runs; errors surface in settle().
    this.pending = this.write(batch).catch((error: unknown) => {
      this.failure = { error };
    });
  }

  private async settle(): Promise<void> {
    if (this.pending) await this.pending;
    this.pending = undefined;
    if (this.failure) throw this.failure.error;
  }

  async finish(): Promise<UpsertOutcome> {
    await this.flush();
    await this.settle();
    return this.out;
  }
}

/**
 * Inserts or updates many entities at once (one statement per 250); entities whose content is
 * unchanged are left alone. Runs inside the caller's transaction.
 */
export async function upsertEntities(tx: Tx, staged: StagedEntity[]): Promise<UpsertOutcome> {
  const writer = new EntityWriter(tx);
  for (const s of staged) await writer.add(s);
  return writer.finish();
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

// ---- reads ------------------------------------------------------------------------------------------

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
  const rows = await pgQuery<[string]>(db, { text: 'SELECT ref FROM entities WHERE ref = ANY($1::text[])', rowMode: 'array' }, [refs]);
  return new Set(rows.map((r) => r[0]));
}

/** The inverse of a relation type, in SQL (from RELATION_PAIRS). */
const INVERSE_TYPE = `CASE r.type ${Object.entries(RELATION_PAIRS)
  .flatMap(([forward, inverse]) => [`WHEN '${forward}' THEN '${inverse}'`, `WHEN '${inverse}' THEN '${forward}'`])
  .join(' ')} END`;

/**
 * Relations of an entity, both directions, with whether each target exists: those it declares, and the
 * inverses of those other entities declare with it as their target.
 */
export async function relationsOf(db: Db, ref: string): Promise<Relation[]> {
  const rows = await pgQuery<{ type: string; target_ref: string; kind: string | null; namespace: string | null; name: string | null; title: string | null }>(db, {
    name: 'pave_catalog_relations',
    text: `
      SELECT DISTINCT x.type, x.target_ref, e.kind, e.namespace, e.name, e.title
      FROM (
        SELECT r.type, r.target_ref FROM relations r JOIN entities o ON o.id = r.origin_id WHERE o.ref = $1
        UNION ALL
        SELECT ${INVERSE_TYPE}, r.source_ref FROM relations r WHERE r.target_ref = $1
      ) AS x (type, target_ref)
      LEFT JOIN entities e ON e.ref = x.target_ref
      ORDER BY x.type, x.target_ref`,
  }, [ref]);
  return rows.map((r) => ({
    type: r.type,
    targetRef: r.target_ref,
    resolved: r.kind !== null,
    target: r.kind ? { kind: r.kind, namespace: r.namespace!, name: r.name!, title: r.title } : null,
  }));
}

// ---- lists ------------------------------------------------------------------------------------------

type ListQuery = Partial<EntityListQuery> & { limit: number };

/**
 * The WHERE clause and parameters of a list query, and the key of its shape (which filters are set):
 * statements of the same shape have the same text, so they are prepared once per connection.
 * `plannedEachTime` marks shapes whose best plan depends on the values (full-text search, tags), which
 * are left unnamed so that PostgreSQL plans them with the actual values.
 */
interface ListFilter {
  where: string;
  values: unknown[];
  shape: string;
  plannedEachTime: boolean;
  /** A search without any searchable word: nothing matches. */
  empty: boolean;
}

function listFilter(q: ListQuery): ListFilter {
  const conditions: string[] = [];
  const values: unknown[] = [];
  let shape = '';
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const kinds = q.kind === undefined ? [] : Array.isArray(q.kind) ? q.kind : [q.kind];
  if (kinds.length === 1) conditions.push(`kind = ${param(kinds[0])}`);
  else if (kinds.length > 1) conditions.push(`kind IN (${kinds.map(param).join(', ')})`);
  shape += `k${kinds.length}`;
  const add = (key: string, condition: (p: string) => string, value: unknown) => {
    conditions.push(condition(param(value)));
    shape += key;
  };
  if (q.namespace) add('n', (p) => `namespace = ${p}`, q.namespace);
  if (q.owner) add('o', (p) => `owner_ref = ${p}`, toRef(q.owner, { kind: 'team' }) ?? q.owner.toLowerCase());
  if (q.system) add('s', (p) => `system_ref = ${p}`, toRef(q.system, { kind: 'system' }) ?? q.system.toLowerCase());
  if (q.type) add('t', (p) => `type = ${p}`, q.type);
  if (q.lifecycle) add('l', (p) => `lifecycle = ${p}`, q.lifecycle);
  if (q.tag) add('g', (p) => `tags @> ARRAY[${p}::text]`, q.tag);
  let empty = false;
  if (q.q !== undefined) {
    const ts = toTsQuery(q.q);
    if (ts) add('q', (p) => `search @@ to_tsquery('simple', ${p})`, ts);
    else empty = true;
  }
  if (q.cursor) add('c', (p) => `ref > ${p}`, decodeCursor(q.cursor));
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values, shape, plannedEachTime: Boolean(q.tag || q.q !== undefined), empty };
}

const RECORD_COLUMNS = `${ENTITY_COLUMNS.join(', ')}, to_char(created_at AT TIME ZONE 'UTC', ${ISO_UTC}) AS created_at, to_char(updated_at AT TIME ZONE 'UTC', ${ISO_UTC}) AS updated_at`;

/** Filtered, searchable, keyset-paginated list ordered by ref. */
export async function listEntities(db: Db, q: ListQuery): Promise<Page<EntityRecord>> {
  const f = listFilter(q);
  if (f.empty) return { items: [], nextCursor: null };
  const limit = param(f.values, q.limit + 1);
  const text = `SELECT ${RECORD_COLUMNS} FROM entities ${f.where} ORDER BY ref LIMIT ${limit}`;
  const rows = await pgQuery<EntityRecord>(db, { text, ...(f.plannedEachTime ? {} : { name: `pave_catalog_records_${f.shape}` }) }, f.values);
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]!.ref) : null };
}

function param(values: unknown[], value: unknown): string {
  values.push(value);
  return `$${values.length}`;
}

/**
 * The entity as the API shows it in lists, as JSON built by PostgreSQL (row_to_json: compact, keys in
 * this order, strings escaped as JSON.stringify does), so that a page goes from the database to the
 * client without being parsed and serialised again. Must match entityView.
 */
const ENTITY_JSON_COLUMNS = `id, ref, kind, namespace, name, title, description, type, lifecycle, owner_ref AS owner, system_ref AS system,
  tags, labels, annotations, links, spec, source, version,
  to_char(created_at AT TIME ZONE 'UTC', ${ISO_UTC}) AS "createdAt", to_char(updated_at AT TIME ZONE 'UTC', ${ISO_UTC}) AS "updatedAt"`;

/**
 * The same page as listEntities, as the UTF-8 JSON of the API's response body ({items, nextCursor}):
 * PostgreSQL writes each entity's JSON, this process only copies them into one Buffer and adds the
 * cursor, which goes to the socket as it is. (Joining them in SQL too, with string_agg, cost the
 * database more than it saved here; joining strings here made garbage the size of the page twice.)
 */
export async function listEntitiesJson(db: Db, q: ListQuery): Promise<Buffer> {
  const statement = pageStatement(q);
  if (!statement) return Buffer.from('{"items":[],"nextCursor":null}');
  const rows = await pgQuery<[string, string]>(db, { text: statement.text, rowMode: 'array', ...(statement.name ? { name: statement.name } : {}) }, statement.values);
  const more = rows.length > q.limit;
  if (more) rows.length = q.limit;
  const head = '{"items":[';
  const tail = `],"nextCursor":${more ? JSON.stringify(encodeCursor(rows[rows.length - 1]![0])) : 'null'}}`;
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, rows.length - 1);
  for (const row of rows) size += Buffer.byteLength(row[1]);
  const body = Buffer.allocUnsafe(size);
  let at = body.write(head, 0);
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) body[at++] = 0x2c; // ,
    at += body.write(rows[i]![1], at);
  }
  body.write(tail, at);
  return body;
}

/**
 * The statement behind listEntitiesJson (one more row than the page, to know whether another follows),
 * its prepared statement's name when it has one, or undefined when nothing can match. The benchmark
 * EXPLAINs it.
 */
export function pageStatement(q: ListQuery): { text: string; values: unknown[]; name: string | undefined } | undefined {
  const f = listFilter(q);
  if (f.empty) return undefined;
  const limit = param(f.values, q.limit + 1);
  const text = `SELECT t.ref, row_to_json(t)::text FROM (SELECT ${ENTITY_JSON_COLUMNS} FROM entities ${f.where} ORDER BY ref LIMIT ${limit}) t ORDER BY t.ref`;
  return { text, values: f.values, name: f.plannedEachTime ? undefined : `pave_catalog_page_${f.shape}` };
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

// ---- unresolved relations ---------------------------------------------------------------------------

export interface UnresolvedRelations {
  items: { source: string; type: string; target: string }[];
  count: number;
}

/** Relations declared by the given entities whose target is not in the catalog. */
export async function unresolvedRelations(db: Tx, refs: string[], limit: number): Promise<UnresolvedRelations> {
  if (refs.length === 0) return { items: [], count: 0 };
  const rows = await pgQuery<{ source: string; type: string; target: string; n: number }>(db, {
    text: `
      SELECT o.ref AS source, r.type, r.target_ref AS target, count(*) OVER ()::int AS n
      FROM relations r JOIN entities o ON o.id = r.origin_id
      WHERE o.ref = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM entities t WHERE t.ref = r.target_ref)
      ORDER BY 1, 2, 3 LIMIT $2`,
  }, [refs, limit]);
  return { items: rows.map(({ source, type, target }) => ({ source, type, target })), count: rows[0]?.n ?? 0 };
}

/**
 * Of relations declared by entities being written, those whose target is not in the catalog (the
 * entities being written are, already): what unresolvedRelations answers for their refs, without
 * reading the relations back.
 */
export async function unresolvedAmong(db: Tx, declared: { source: string; type: string; target: string }[], limit: number): Promise<UnresolvedRelations> {
  const found = await existingRefs(db, [...new Set(declared.map((r) => r.target))]);
  const missing = declared.filter((r) => !found.has(r.target));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  missing.sort((a, b) => cmp(a.source, b.source) || cmp(a.type, b.type) || cmp(a.target, b.target));
  return { items: missing.slice(0, limit), count: missing.length };
}

// ---- statistics -------------------------------------------------------------------------------------

interface AnalyzeState {
  /** Entity rows written since the last ANALYZE began. */
  written: number;
  /** Bulk writes in progress. */
  active: number;
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}
const analyzeState = new WeakMap<Db, AnalyzeState>();

/** How long no bulk write must have been in progress before a due ANALYZE runs: a series of imports gets one at its end. */
const ANALYZE_QUIET_MS = 200;

/**
 * Call when a bulk write (an import) begins; call the function it returns when it ended, with the rows
 * it wrote. Keeps the planner's statistics of the catalog's tables fresh (autovacuum, which would, may be
 * off), so that it knows their size and the search terms' frequencies: ANALYZE runs in the background,
 * one at a time, and never fails a write. It runs at once when the entities were never analyzed or have
 * more than doubled since; otherwise once no bulk write has been in progress for a moment, if more than
 * a tenth of them changed (autovacuum's rule). ANALYZE reads up to 30,000 rows, ~0.5 s at 100,000
 * entities, so a series of import requests gets a few, not one per request.
 */
export function bulkWriteStarted(db: Db, log?: (err: unknown) => void): (rows: number) => void {
  let state = analyzeState.get(db);
  if (!state) analyzeState.set(db, (state = { written: 0, active: 0, running: undefined, timer: undefined }));
  const st = state;
  st.active++;
  clearTimeout(st.timer);
  let ended = false;
  return (rows) => {
    if (ended) return;
    ended = true;
    st.active--;
    st.written += rows;
    if (st.written === 0) return;
    analyzeIfDue(db, st, false, log);
    if (st.active === 0) quietCheckLater(db, st, log);
  };
}

function quietCheckLater(db: Db, state: AnalyzeState, log?: (err: unknown) => void): void {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    if (state.active > 0) return; // the bulk write in progress checks again when it ends
    if (state.running) quietCheckLater(db, state, log);
    else analyzeIfDue(db, state, true, log);
  }, ANALYZE_QUIET_MS);
  state.timer.unref();
}

function analyzeIfDue(db: Db, state: AnalyzeState, quiet: boolean, log?: (err: unknown) => void): void {
  if (state.running) return;
  state.running = (async () => {
    const c = await sql<{ tuples: number }>`SELECT reltuples::float8 AS tuples FROM pg_class WHERE oid = 'entities'::regclass`.execute(db);
    const tuples = c.rows[0]?.tuples ?? -1;
    if (tuples < 0 || state.written > tuples || (quiet && state.written > 0.1 * tuples + 500)) {
      state.written = 0;
      await sql`ANALYZE entities, relations`.execute(db);
    }
  })()
    .catch((err: unknown) => log?.(err))
    .finally(() => {
      state.running = undefined;
    });
}
