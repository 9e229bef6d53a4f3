import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Db } from '../../src/store/db.ts';
import type { TestServer } from '../support/server.ts';

/**
 * A delivery history with known answers, written straight into the store: two teams, three
 * applications, builds with known commit times (one without: a folder build), deployments (some
 * failed), releases, promotions and rollbacks at known times. The times are offsets from `base`, a
 * Monday at 00:00 UTC; the test period is [base, base + 28 days): four weeks.
 *
 * production, by week (W1 = base … base+7d):
 *
 *   shop (payments)
 *     before: R0 release of build 1 (day -3); a failed deployment (day -2)      (outside the period)
 *     W1  R1  promote of build 2 day 1 12:00, committed day 1 08:00             lead 4 h
 *             failed deployment day 2 09:00, ended day 7 12:00                  → R1 failed
 *     W2  R2  release of build 3 day 8 12:00, a folder build created day 8 10:00  lead 2 h (from creation); restores R1 after 24 h
 *         R3  rollback to R1's deployment day 8 13:00                           → R2 failed, restored after 1 h
 *     W3  R4  release of build 4 day 15 12:00, committed day 15 06:00          lead 6 h
 *     W4  R5  release of build 5 day 22 12:00, committed day 22 10:00          lead 2 h
 *         R6  release of build 5 again (a restart) day 23 12:00                 not measured again
 *             failed deployment day 24 10:00, ended 10:30                       → R6 failed, not restored
 *   billing (payments)
 *     W1  R7  release of build 1 day 3 12:00, committed day 3 00:00            lead 12 h
 *     W3  R8  release of build 2 day 17 00:00, committed day 16 00:00          lead 24 h
 *         R9  rollback to R7's deployment day 17 02:00                          → R8 failed, restored after 2 h
 *     (staging: a release of build 2 day 16 12:00: staging only)
 *   finder (search)
 *         a failed deployment day 9 20:00, before any release                   (belongs to no change)
 *     W2  R10 release of build 1 day 10 00:00, committed day 9 00:00           lead 24 h
 *   with `tail` (after the period):
 *             failed deployment day 29 10:00                                     → R10 failed
 *         R11 release of build 2 day 31 10:00                                    restores R10 after 48 h
 */

export const PAYMENTS = 'team:default/payments';
export const SEARCH = 'team:default/search';
export const SHOP = 'application:default/shop';
export const BILLING = 'application:default/billing';
export const FINDER = 'application:default/finder';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Seeded {
  base: Date;
  /** base + d days + h hours, ISO. */
  at(d: number, h?: number, m?: number): string;
}

async function ok(res: Response, status: number): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
}

/** Creates the teams and applications (through the API) and writes their history (into the store). */
export async function seedDeliveryHistory(s: TestServer, opts: { base: Date; tail?: boolean; apps?: ('shop' | 'billing' | 'finder')[] }): Promise<Seeded> {
  const base = opts.base;
  assert.equal(base.getUTCDay(), 1, 'base is a Monday');
  const at = (d: number, h = 0, m = 0) => new Date(base.getTime() + d * DAY + h * HOUR + m * 60_000).toISOString();
  const apps = opts.apps ?? ['shop', 'billing', 'finder'];
  const db: Db = s.store.db;

  for (const team of ['payments', 'search']) await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: team } }), 201);
  const owners = { shop: 'payments', billing: 'payments', finder: 'search' } as const;
  for (const name of apps) {
    await ok(await s.api('/api/v1/applications', {
      method: 'POST', json: { name, owner: owners[name], template: 'node-service', environments: [{ name: 'staging', type: 'staging' }, { name: 'production', type: 'production' }] },
    }), 201);
  }

  const entity = async (name: string) => (await db.selectFrom('entities').select('id').where('ref', '=', `application:default/${name}`).executeTakeFirstOrThrow()).id;
  const envId = async (name: string, env: string) =>
    (await db.selectFrom('environments').select('id').where('entity_id', '=', await entity(name)).where('name', '=', env).executeTakeFirstOrThrow()).id;
  const builds = new Map<string, string>();
  const build = async (app: string, number: number, created: string, commit: string | null) => {
    const row = await db
      .insertInto('builds')
      .values({
        entity_id: await entity(app), number, status: 'succeeded', origin: 'build', source: JSON.stringify(commit ? { git: { url: 'https://git.example/x.git', ref: 'main' } } : { path: '/src' }),
        artifact_kind: 'local', artifact_digest: `sha256:${String(number).padStart(64, '0')}`, processes: JSON.stringify({ web: 'node server.js' }), created_by: 'user:default/admin',
        created_at: created, finished_at: created, commit_time: commit,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    builds.set(`${app}/${number}`, row.id);
  };
  const numbers = new Map<string, number>();
  const deployment = async (app: string, env: string, buildNumber: number, created: string, status: 'healthy' | 'failed', finished = created) => {
    const environment = await envId(app, env);
    const n = (numbers.get(environment) ?? 0) + 1;
    numbers.set(environment, n);
    const row = await db
      .insertInto('deployments')
      .values({
        environment_id: environment, number: n, build_id: builds.get(`${app}/${buildNumber}`)!, config_version: 0, snapshot: Buffer.from('seeded'), status, running: 'stopped',
        created_by: 'user:default/admin', created_at: created, finished_at: finished, ...(status === 'failed' ? { error: 'GET /healthz answered 500' } : {}),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  };
  const release = async (app: string, env: string, deploymentId: string, kind: 'release' | 'rollback' | 'promote', time: string) => {
    await db.insertInto('releases').values({ environment_id: await envId(app, env), deployment_id: deploymentId, kind, created_by: 'user:default/admin', created_at: time }).execute();
  };

  if (apps.includes('shop')) {
    await build('shop', 1, at(-4), at(-4, -1));
    await build('shop', 2, at(1, 9), at(1, 8));
    await build('shop', 3, at(8, 10), null);
    await build('shop', 4, at(15, 7), at(15, 6));
    await build('shop', 5, at(22, 11), at(22, 10));
    const d1 = await deployment('shop', 'production', 1, at(-3, 11), 'healthy');
    await release('shop', 'production', d1, 'release', at(-3, 12));
    await deployment('shop', 'production', 1, at(-2), 'failed');
    const d2 = await deployment('shop', 'production', 2, at(1, 11), 'healthy');
    await release('shop', 'production', d2, 'promote', at(1, 12));
    await deployment('shop', 'production', 2, at(2, 9), 'failed', at(7, 12));
    const d3 = await deployment('shop', 'production', 3, at(8, 11), 'healthy');
    await release('shop', 'production', d3, 'release', at(8, 12));
    await release('shop', 'production', d2, 'rollback', at(8, 13));
    const d4 = await deployment('shop', 'production', 4, at(15, 11), 'healthy');
    await release('shop', 'production', d4, 'release', at(15, 12));
    const d5 = await deployment('shop', 'production', 5, at(22, 11), 'healthy');
    await release('shop', 'production', d5, 'release', at(22, 12));
    const d6 = await deployment('shop', 'production', 5, at(23, 11), 'healthy');
    await release('shop', 'production', d6, 'release', at(23, 12));
    await deployment('shop', 'production', 5, at(24, 10), 'failed', at(24, 10, 30));
  }
  if (apps.includes('billing')) {
    await build('billing', 1, at(3, 1), at(3));
    await build('billing', 2, at(16, 1), at(16));
    const d1 = await deployment('billing', 'production', 1, at(3, 11), 'healthy');
    await release('billing', 'production', d1, 'release', at(3, 12));
    const s1 = await deployment('billing', 'staging', 2, at(16, 11), 'healthy');
    await release('billing', 'staging', s1, 'release', at(16, 12));
    const d2 = await deployment('billing', 'production', 2, at(16, 23), 'healthy');
    await release('billing', 'production', d2, 'promote', at(17));
    await release('billing', 'production', d1, 'rollback', at(17, 2));
  }
  if (apps.includes('finder')) {
    await build('finder', 1, at(9, 1), at(9));
    await deployment('finder', 'production', 1, at(9, 20), 'failed');
    const d1 = await deployment('finder', 'production', 1, at(9, 23), 'healthy');
    await release('finder', 'production', d1, 'release', at(10));
    if (opts.tail) {
      await build('finder', 2, at(30, 1), at(30));
      await deployment('finder', 'production', 1, at(29, 10), 'failed');
      const d2 = await deployment('finder', 'production', 2, at(31, 9), 'healthy');
      await release('finder', 'production', d2, 'release', at(31, 10));
    }
  }
  // the store's own clock plays no part: every time above is explicit
  await sql`ANALYZE releases, deployments, builds`.execute(db);
  return { base, at };
}
