import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { safeUrl } from '../logging.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

// timestamptz as Date, bigint counts as numbers where they fit.
pg.types.setTypeParser(20, (v) => Number(v));

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  /** 'embedded' (PostgreSQL in the data directory) or 'external' (PAVE_DATABASE_URL). */
  mode: 'embedded' | 'external';
  url: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createDb(url: string, max = 20): Db {
  // JIT compilation pays off for long analytical queries, not for Pave's short and bulk statements,
  // where it adds hundreds of milliseconds (e.g. to each 2,000-row catalog batch): off for our sessions.
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, application_name: 'pave', options: '-c jit=off' });
  pool.on('error', () => undefined); // a dropped idle connection is replaced on next use
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export interface OpenStoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  log: Logger;
  durable?: boolean;
  poolSize?: number;
}

/** Opens the store (embedded unless a database URL is given) and brings its schema up to date. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const embedded = opts.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: opts.dataDir, log: opts.log, durable: opts.durable ?? true });
  const url = opts.databaseUrl ?? embedded!.url;
  const db = createDb(url, opts.poolSize);
  try {
    const res = await migrateToLatest(db as Kysely<unknown>);
    const applied = res.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
    opts.log.info({ store: embedded ? 'embedded' : safeUrl(url), applied }, 'store ready');
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
  return {
    db,
    mode: embedded ? 'embedded' : 'external',
    url,
    async ping() {
      try {
        await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
