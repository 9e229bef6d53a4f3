import { sql, type Kysely } from 'kysely';

/**
 * Golden patterns and resources: platform objects (templates, add-ons, resource types, resource
 * definitions, team profiles) as loaded from platform-as-code, platform secrets, applications made
 * from templates with their add-ons, environments, and resource instances.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per published version of a template or add-on (immutable once published), and per
  // revision of an unversioned object (resource type, resource definition, team profile).
  await sql`
    CREATE TABLE platform_objects (
      kind text NOT NULL,
      name text NOT NULL,
      version text NOT NULL,
      content jsonb NOT NULL,
      digest text NOT NULL,
      source text NOT NULL,
      current boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (kind, name, version)
    )`.execute(db);
  await sql`CREATE INDEX platform_objects_current ON platform_objects (kind, name) WHERE current`.execute(db);

  await sql`
    CREATE TABLE platform_syncs (
      id bigserial PRIMARY KEY,
      source text NOT NULL,
      revision text,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      loaded integer NOT NULL DEFAULT 0,
      published integer NOT NULL DEFAULT 0,
      errors jsonb NOT NULL DEFAULT '[]'
    )`.execute(db);

  await sql`
    CREATE TABLE platform_secrets (
      name text PRIMARY KEY,
      sealed bytea NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by text NOT NULL
    )`.execute(db);

  await sql`
    CREATE TABLE applications (
      entity_id uuid PRIMARY KEY REFERENCES entities (id) ON DELETE RESTRICT,
      template text NOT NULL,
      template_version text NOT NULL,
      inputs jsonb NOT NULL DEFAULT '{}',
      workload jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE application_addons (
      entity_id uuid NOT NULL REFERENCES applications (entity_id) ON DELETE CASCADE,
      name text NOT NULL,
      addon text NOT NULL,
      version text NOT NULL,
      inputs jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (entity_id, name)
    )`.execute(db);

  await sql`
    CREATE TABLE environments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      entity_id uuid NOT NULL REFERENCES applications (entity_id) ON DELETE RESTRICT,
      name text NOT NULL,
      type text NOT NULL CHECK (type IN ('development', 'staging', 'production', 'preview')),
      status text NOT NULL DEFAULT 'active',
      expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (entity_id, name)
    )`.execute(db);

  // A resource instance. Deleting its environment is refused while it exists (no orphans).
  await sql`
    CREATE TABLE resources (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      uid text NOT NULL UNIQUE,
      environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE RESTRICT,
      name text NOT NULL,
      type text NOT NULL,
      class text NOT NULL,
      res_id text NOT NULL,
      origin text NOT NULL,
      params jsonb NOT NULL DEFAULT '{}',
      depends_on text[] NOT NULL DEFAULT '{}',
      status text NOT NULL CHECK (status IN ('pending', 'provisioning', 'ready', 'failed', 'deleting', 'deleted')),
      outputs jsonb NOT NULL DEFAULT '{}',
      secret_outputs bytea,
      state bytea,
      definition text,
      definition_version text,
      driver text,
      applied_digest text,
      error text,
      attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (environment_id, name)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE resources, environments, application_addons, applications, platform_secrets, platform_syncs, platform_objects`.execute(db);
}
