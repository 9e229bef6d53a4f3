import { sql, type Kysely } from 'kysely';

/**
 * Golden actions and the audit log: one row per action run (parameters masked, output kept), an
 * append-only audit log whose events are hash-chained, and an environment's replica count set by
 * scaling.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE action_runs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      entity_id uuid NOT NULL REFERENCES applications (entity_id) ON DELETE CASCADE,
      environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
      action text NOT NULL,
      title text NOT NULL,
      source text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('operation', 'http', 'command', 'lifecycle')),
      params jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed-out')),
      summary text,
      result jsonb,
      error text,
      output jsonb NOT NULL DEFAULT '[]',
      timeout_ms integer NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      duration_ms integer
    )`.execute(db);
  await sql`CREATE INDEX action_runs_environment ON action_runs (environment_id, created_at DESC)`.execute(db);

  // Append-only: no API updates or deletes a row; each row's hash covers the previous row's hash.
  await sql`
    CREATE TABLE audit_events (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      target text NOT NULL,
      outcome text NOT NULL,
      request_id text,
      details jsonb NOT NULL DEFAULT '{}',
      prev_hash text NOT NULL,
      hash text NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX audit_events_target ON audit_events (target, id)`.execute(db);
  await sql`CREATE INDEX audit_events_actor ON audit_events (actor, id)`.execute(db);

  await sql`ALTER TABLE environments ADD COLUMN replicas integer CHECK (replicas BETWEEN 1 AND 100)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE environments DROP COLUMN replicas`.execute(db);
  await sql`DROP TABLE audit_events, action_runs`.execute(db);
}
