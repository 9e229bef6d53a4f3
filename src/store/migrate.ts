import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import * as m0001 from './migrations/0001_catalog.ts';
import * as m0002 from './migrations/0002_platform_resources.ts';
import * as m0003 from './migrations/0003_deployments.ts';
import * as m0004 from './migrations/0004_catalog_perf.ts';
import * as m0005 from './migrations/0005_actions_audit.ts';
import * as m0007 from './migrations/0007_identity.ts';
import * as m0008 from './migrations/0008_rbac.ts';
import * as m0009 from './migrations/0009_metrics.ts';
import * as m0010 from './migrations/0010_fleet.ts';
import * as m0011 from './migrations/0011_jobs.ts';
import * as m0012 from './migrations/0012_runtime_targets.ts';

/**
 * Numbered migrations, applied in order at start. Kysely's migrator takes a PostgreSQL advisory lock,
 * so several Pave servers starting against one database apply each migration exactly once.
 * Invariant: a released migration is never edited; a change is a new numbered file.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_catalog': m0001,
  '0002_platform_resources': m0002,
  '0003_deployments': m0003,
  '0004_catalog_perf': m0004,
  '0005_actions_audit': m0005,
  '0007_identity': m0007,
  '0008_rbac': m0008,
  '0009_metrics': m0009,
  '0010_fleet': m0010,
  '0011_jobs': m0011,
  '0012_runtime_targets': m0012,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'pave_migrations', migrationLockTableName: 'pave_migrations_lock' });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(result.error as Error).message ?? String(result.error)}`, { cause: result.error });
  }
  return result;
}
