import { sql, type Kysely } from 'kysely';

/**
 * Runtime targets: where an application's deployments run. An application and an environment may
 * name a runtime (`local`, `kubernetes`, `gitops`) over the team profile's; null means "the next layer
 * decides" (environment, then application, then the team profile's environment type, then local).
 * Every deployment records the runtime and the target it went to (cluster, namespace, repository:
 * settings, never credentials), the objects it rendered (sealed: Secrets hold values), what happened
 * to each object, and for GitOps the commit, so that a rollback re-applies exactly what ran.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const runtime = (column: string) => sql.raw(`${column} text CHECK (${column} IN ('local', 'kubernetes', 'gitops'))`);
  await sql`ALTER TABLE applications ADD COLUMN ${runtime('runtime')}`.execute(db);
  await sql`ALTER TABLE environments ADD COLUMN ${runtime('runtime')}`.execute(db);
  await sql`ALTER TABLE deployments ADD COLUMN runtime text NOT NULL DEFAULT 'local' CHECK (runtime IN ('local', 'kubernetes', 'gitops'))`.execute(db);
  await sql`ALTER TABLE deployments ADD COLUMN target jsonb`.execute(db);
  await sql`ALTER TABLE deployments ADD COLUMN rendered bytea`.execute(db);
  await sql`ALTER TABLE deployments ADD COLUMN objects jsonb NOT NULL DEFAULT '[]'`.execute(db);
  await sql`ALTER TABLE deployments ADD COLUMN commit_sha text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const c of ['commit_sha', 'objects', 'rendered', 'target', 'runtime']) await sql`ALTER TABLE deployments DROP COLUMN ${sql.raw(c)}`.execute(db);
  await sql`ALTER TABLE environments DROP COLUMN runtime`.execute(db);
  await sql`ALTER TABLE applications DROP COLUMN runtime`.execute(db);
}
