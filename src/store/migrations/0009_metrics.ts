import { sql, type Kysely } from 'kysely';

/**
 * Delivery metrics: the commit time of a build (git builds know it; folder and archive builds and
 * registered artifacts do not, and their lead time starts at the build's creation), and indexes for
 * reading an environment's releases and failed deployments in time order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE builds ADD COLUMN commit_time timestamptz`.execute(db);
  await sql`CREATE INDEX releases_environment_time ON releases (environment_id, created_at)`.execute(db);
  await sql`CREATE INDEX deployments_failed ON deployments (environment_id, created_at) WHERE status = 'failed'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX deployments_failed`.execute(db);
  await sql`DROP INDEX releases_environment_time`.execute(db);
  await sql`ALTER TABLE builds DROP COLUMN commit_time`.execute(db);
}
