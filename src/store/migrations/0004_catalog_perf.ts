import { sql, type Kysely } from 'kysely';

/**
 * Catalog performance (bulk import, list throughput):
 *
 * - Relations keep only the rows their entities declare; inverses are derived when read, by target
 *   (relations_target), instead of being stored as a second row each. relations_source is no longer
 *   read (an entity's own rows are found through relations_origin).
 * - labels, annotations, links and spec become json: their text is stored compact, with the keys in the
 *   order jsonb had them, and list responses embed it as it is instead of parsing and serialising every
 *   entity. Rows already stored are rewritten in that form.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // A row whose source is not the entity that declared it is a stored inverse.
  await sql`DELETE FROM relations r USING entities o WHERE o.id = r.origin_id AND r.source_ref <> o.ref`.execute(db);
  await sql`DROP INDEX relations_source`.execute(db);
  await sql`CREATE INDEX relations_target ON relations (target_ref)`.execute(db);

  // jsonb text with no null object fields (json_strip_nulls would drop them) and no integer-like keys
  // (which JavaScript would put first) compacts in SQL; the other rows are compacted below.
  const compact = (column: string) =>
    sql.raw(`CASE WHEN jsonb_strip_nulls(${column}) = ${column} AND ${column}::text !~ '"(0|[1-9][0-9]*)": ' THEN json_strip_nulls(${column}::json) ELSE ${column}::json END`);
  await sql`
    ALTER TABLE entities
      ALTER labels DROP DEFAULT, ALTER annotations DROP DEFAULT, ALTER links DROP DEFAULT, ALTER spec DROP DEFAULT`.execute(db);
  await sql`
    ALTER TABLE entities
      ALTER labels TYPE json USING ${compact('labels')},
      ALTER annotations TYPE json USING ${compact('annotations')},
      ALTER links TYPE json USING ${compact('links')},
      ALTER spec TYPE json USING ${compact('spec')}`.execute(db);
  await sql`
    ALTER TABLE entities
      ALTER labels SET DEFAULT '{}', ALTER annotations SET DEFAULT '{}', ALTER links SET DEFAULT '[]', ALTER spec SET DEFAULT '{}'`.execute(db);

  // Rows that may still hold jsonb's spaced text: parsed and written again as JSON.stringify writes them.
  const spaced = sql.raw(`(labels::text ~ '": |, ' OR annotations::text ~ '": |, ' OR links::text ~ '": |, ' OR spec::text ~ '": |, ')`);
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await sql<{ id: string; labels: unknown; annotations: unknown; links: unknown; spec: unknown }>`
      SELECT id, labels, annotations, links, spec FROM entities WHERE id > ${after}::uuid AND ${spaced} ORDER BY id LIMIT 500`.execute(db);
    if (rows.rows.length === 0) break;
    const col = (k: 'labels' | 'annotations' | 'links' | 'spec') => rows.rows.map((r) => JSON.stringify(r[k]));
    await sql`
      UPDATE entities e SET labels = u.labels::json, annotations = u.annotations::json, links = u.links::json, spec = u.spec::json
      FROM unnest(${rows.rows.map((r) => r.id)}::uuid[], ${col('labels')}::text[], ${col('annotations')}::text[], ${col('links')}::text[], ${col('spec')}::text[])
        AS u(id, labels, annotations, links, spec)
      WHERE e.id = u.id`.execute(db);
    after = rows.rows[rows.rows.length - 1]!.id;
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE entities
      ALTER labels DROP DEFAULT, ALTER annotations DROP DEFAULT, ALTER links DROP DEFAULT, ALTER spec DROP DEFAULT`.execute(db);
  await sql`
    ALTER TABLE entities
      ALTER labels TYPE jsonb USING labels::jsonb, ALTER annotations TYPE jsonb USING annotations::jsonb,
      ALTER links TYPE jsonb USING links::jsonb, ALTER spec TYPE jsonb USING spec::jsonb`.execute(db);
  await sql`
    ALTER TABLE entities
      ALTER labels SET DEFAULT '{}', ALTER annotations SET DEFAULT '{}', ALTER links SET DEFAULT '[]', ALTER spec SET DEFAULT '{}'`.execute(db);
  await sql`DROP INDEX relations_target`.execute(db);
  await sql`CREATE INDEX relations_source ON relations (source_ref)`.execute(db);
  await sql`
    INSERT INTO relations (origin_id, source_ref, type, target_ref)
    SELECT origin_id, target_ref,
           CASE type WHEN 'ownedBy' THEN 'ownerOf' WHEN 'ownerOf' THEN 'ownedBy' WHEN 'partOf' THEN 'hasPart' WHEN 'hasPart' THEN 'partOf'
                     WHEN 'dependsOn' THEN 'dependencyOf' WHEN 'dependencyOf' THEN 'dependsOn' WHEN 'providesApi' THEN 'apiProvidedBy'
                     WHEN 'apiProvidedBy' THEN 'providesApi' WHEN 'consumesApi' THEN 'apiConsumedBy' WHEN 'apiConsumedBy' THEN 'consumesApi'
                     WHEN 'memberOf' THEN 'hasMember' WHEN 'hasMember' THEN 'memberOf' WHEN 'childOf' THEN 'parentOf' WHEN 'parentOf' THEN 'childOf' END,
           source_ref
    FROM relations`.execute(db);
}
