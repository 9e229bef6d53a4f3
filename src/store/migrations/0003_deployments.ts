import { sql, type Kysely } from 'kysely';

/**
 * Deployments: builds and their artifacts, versioned environment config, deployments (immutable: a
 * build + a sealed snapshot of config and resource outputs), and the release history of every
 * environment. Environments gain the released deployment and the environment they were cloned from.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // A build of an application, or an artifact registered by CI. Artifacts are addressed by digest.
  await sql`
    CREATE TABLE builds (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      entity_id uuid NOT NULL REFERENCES applications (entity_id) ON DELETE CASCADE,
      number integer NOT NULL,
      status text NOT NULL CHECK (status IN ('building', 'succeeded', 'failed')),
      origin text NOT NULL CHECK (origin IN ('build', 'registered')),
      source jsonb NOT NULL,
      source_digest text,
      artifact_kind text CHECK (artifact_kind IN ('local', 'image')),
      artifact_digest text,
      image text,
      processes jsonb NOT NULL DEFAULT '{}',
      release_command text,
      detected text[] NOT NULL DEFAULT '{}',
      reused boolean NOT NULL DEFAULT false,
      error text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      UNIQUE (entity_id, number)
    )`.execute(db);

  // Every change of an environment's variables or secrets is a new version; secrets are sealed.
  await sql`
    CREATE TABLE environment_configs (
      environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
      version integer NOT NULL,
      variables jsonb NOT NULL DEFAULT '{}',
      secret_names text[] NOT NULL DEFAULT '{}',
      secrets bytea,
      change text NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (environment_id, version)
    )`.execute(db);

  await sql`
    CREATE TABLE deployments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
      number integer NOT NULL,
      build_id uuid NOT NULL REFERENCES builds (id) ON DELETE RESTRICT,
      config_version integer NOT NULL,
      resource_versions jsonb NOT NULL DEFAULT '{}',
      processes jsonb NOT NULL DEFAULT '[]',
      snapshot bytea NOT NULL,
      status text NOT NULL CHECK (status IN ('starting', 'healthy', 'failed')),
      running text NOT NULL DEFAULT 'running' CHECK (running IN ('running', 'warm', 'stopped')),
      warm_until timestamptz,
      released_phase text CHECK (released_phase IN ('succeeded', 'failed')),
      error text,
      last_logs jsonb NOT NULL DEFAULT '[]',
      promoted_from text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      duration_ms integer,
      UNIQUE (environment_id, number)
    )`.execute(db);
  await sql`CREATE INDEX deployments_running ON deployments (running) WHERE running <> 'stopped'`.execute(db);

  await sql`
    CREATE TABLE releases (
      id bigserial PRIMARY KEY,
      environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
      deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
      previous_deployment_id uuid REFERENCES deployments (id) ON DELETE SET NULL,
      kind text NOT NULL CHECK (kind IN ('release', 'rollback', 'promote')),
      warm boolean NOT NULL DEFAULT false,
      duration_ms integer,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX releases_environment ON releases (environment_id, id DESC)`.execute(db);

  await sql`ALTER TABLE environments ADD COLUMN released_deployment_id uuid REFERENCES deployments (id) ON DELETE SET NULL`.execute(db);
  await sql`ALTER TABLE environments ADD COLUMN cloned_from text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE environments DROP COLUMN released_deployment_id, DROP COLUMN cloned_from`.execute(db);
  await sql`DROP TABLE releases, deployments, environment_configs, builds`.execute(db);
}
