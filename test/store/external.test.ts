import { test } from 'node:test';
import { createTestDatabase, LOCAL_PG_URL, localPostgresAvailable } from '../support/postgres.ts';
import { storeConformance } from './conformance.ts';

// The conformance suite against an external PostgreSQL server (the local one; required when CI=true).
const available = await localPostgresAvailable();
if (available) {
  storeConformance('external', async () => {
    const db = await createTestDatabase(LOCAL_PG_URL);
    return { url: db.url, done: db.drop };
  });
} else if (process.env.CI === 'true') {
  test('external PostgreSQL is required in CI', () => {
    throw new Error(`CI=true but no PostgreSQL answers at ${LOCAL_PG_URL}`);
  });
} else {
  test(`external store suite skipped: no PostgreSQL at ${LOCAL_PG_URL}`, { skip: 'start the local PostgreSQL server to run it' }, () => undefined);
}
