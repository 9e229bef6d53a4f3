import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../../src/logging.ts';
import { startEmbeddedPostgres, type EmbeddedHandle } from '../../src/store/embedded.ts';

/**
 * Databases for tests. The local PostgreSQL server (PAVE_TEST_PG_URL, default 127.0.0.1:5432) is used
 * when it answers; with CI=true a missing server fails the run. Elsewhere, tests fall back to one
 * embedded PostgreSQL per test process, and say so once.
 */
export const LOCAL_PG_URL = process.env.PAVE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CI = process.env.CI === 'true';

export async function localPostgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: LOCAL_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

let embedded: Promise<EmbeddedHandle> | undefined;

/** A throw-away embedded PostgreSQL for this test process (stopped at exit). */
export function sharedEmbedded(): Promise<EmbeddedHandle> {
  embedded ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-test-'));
    const h = await startEmbeddedPostgres({ dataDir: dir, log: createLogger('silent'), durable: false });
    process.once('beforeExit', () => void h.stop());
    return h;
  })();
  return embedded;
}

let adminUrl: Promise<string> | undefined;
async function serverUrl(): Promise<string> {
  adminUrl ??= (async () => {
    if (await localPostgresAvailable()) return LOCAL_PG_URL;
    if (CI) throw new Error(`CI=true and the local PostgreSQL server at ${LOCAL_PG_URL} does not answer; start it (see README, Development)`);
    process.stderr.write(`# local PostgreSQL at ${LOCAL_PG_URL} not reachable: using an embedded PostgreSQL for these tests\n`);
    return (await sharedEmbedded()).url;
  })();
  return adminUrl;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on `server` (default: local server, or the embedded fallback). */
export async function createTestDatabase(server?: string): Promise<TestDatabase> {
  const base = server ?? (await serverUrl());
  const name = `pave_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
