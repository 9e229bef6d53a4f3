import { sql, type Kysely } from 'kysely';

/**
 * Jobs and servers, for several Pave servers on one PostgreSQL (src/jobs): a queue of jobs claimed
 * with `FOR UPDATE SKIP LOCKED` and held by a lease the running server renews, their progress events
 * (any server streams them), and the registry of running servers with their heartbeats.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE servers (
      id uuid PRIMARY KEY,
      host text NOT NULL,
      pid integer NOT NULL,
      version text NOT NULL,
      url text,
      started_at timestamptz NOT NULL DEFAULT now(),
      last_seen timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kind text NOT NULL,
      subject text,
      payload jsonb NOT NULL DEFAULT '{}',
      state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      concurrency_key text,
      actor jsonb,
      result json,
      error jsonb,
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
      takeovers integer NOT NULL DEFAULT 0,
      locked_by uuid,
      lease_expires_at timestamptz,
      heartbeat_at timestamptz,
      run_at timestamptz NOT NULL DEFAULT now(),
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz
    )`.execute(db);
  // result and event data are json, not jsonb: streamed back exactly as the handler wrote them (key order kept)
  // what a worker claims: queued jobs that are due, and running jobs whose lease ran out
  await sql`CREATE INDEX jobs_queued ON jobs (run_at) WHERE state = 'queued'`.execute(db);
  await sql`CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running'`.execute(db);
  await sql`CREATE INDEX jobs_list ON jobs (created_at DESC, id)`.execute(db);
  await sql`CREATE INDEX jobs_kind_state ON jobs (kind, state, created_at DESC)`.execute(db);
  // at most one queued or running job per concurrency key (e.g. one apply per environment)
  await sql`CREATE UNIQUE INDEX jobs_active_key ON jobs (concurrency_key) WHERE state IN ('queued', 'running')`.execute(db);

  await sql`
    CREATE TABLE job_events (
      id bigserial PRIMARY KEY,
      job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      at timestamptz NOT NULL DEFAULT now(),
      attempt integer NOT NULL,
      server_id uuid,
      type text NOT NULL,
      data json
    )`.execute(db);
  await sql`CREATE INDEX job_events_job ON job_events (job_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE job_events, jobs, servers`.execute(db);
}
