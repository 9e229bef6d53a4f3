import { sql, type Kysely } from 'kysely';

/** Catalog entities, their relations, user accounts and API tokens. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION pave_search_document(name text, title text, description text, tags text[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT setweight(to_tsvector('simple', coalesce(name, '')), 'A')
          || setweight(to_tsvector('simple', coalesce(title, '')), 'A')
          || setweight(to_tsvector('simple', coalesce(array_to_string(tags, ' '), '')), 'B')
          || setweight(to_tsvector('simple', coalesce(description, '')), 'C')
    $$`.execute(db);

  await sql`
    CREATE TABLE entities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text COLLATE "C" NOT NULL UNIQUE,
      kind text NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      title text,
      description text,
      type text,
      lifecycle text,
      owner_ref text,
      system_ref text,
      tags text[] NOT NULL DEFAULT '{}',
      labels jsonb NOT NULL DEFAULT '{}',
      annotations jsonb NOT NULL DEFAULT '{}',
      links jsonb NOT NULL DEFAULT '[]',
      spec jsonb NOT NULL DEFAULT '{}',
      source text NOT NULL,
      content_hash text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      search tsvector GENERATED ALWAYS AS (pave_search_document(name, title, description, tags)) STORED,
      CONSTRAINT entities_ref_matches CHECK (ref = lower(kind || ':' || namespace || '/' || name))
    )`.execute(db);
  await sql`CREATE INDEX entities_kind_ref ON entities (kind, ref)`.execute(db);
  await sql`CREATE INDEX entities_owner_kind_ref ON entities (owner_ref, kind, ref)`.execute(db);
  await sql`CREATE INDEX entities_system_ref ON entities (system_ref)`.execute(db);
  await sql`CREATE INDEX entities_search ON entities USING gin (search)`.execute(db);
  await sql`CREATE INDEX entities_tags ON entities USING gin (tags)`.execute(db);

  // Relation rows are written in bulk on import: one row per declared relation and one per inverse,
  // de-duplicated per declaring entity (origin) before insertion, so they need no unique index.
  await sql`
    CREATE TABLE relations (
      origin_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
      source_ref text COLLATE "C" NOT NULL,
      type text NOT NULL,
      target_ref text COLLATE "C" NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX relations_source ON relations (source_ref)`.execute(db);
  await sql`CREATE INDEX relations_origin ON relations (origin_id)`.execute(db);

  await sql`
    CREATE TABLE user_accounts (
      user_id uuid PRIMARY KEY REFERENCES entities (id) ON DELETE CASCADE,
      roles text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE api_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
      name text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      UNIQUE (user_id, name)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE api_tokens, user_accounts, relations, entities`.execute(db);
  await sql`DROP FUNCTION pave_search_document`.execute(db);
}
