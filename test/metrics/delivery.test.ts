/**
 * Delivery metrics from a seeded history with known answers (test/metrics/seed.ts): each figure, each
 * bucket and each application, for the whole platform, a team, an application and another environment
 * type, through the HTTP API (which computes them in SQL over releases, deployments and builds).
 * Every expected number is worked out by hand from the seed's timeline, not read from the code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeliveryReport } from '../../src/contracts/metrics.ts';
import type { CreatedTokenSchema } from '../../src/contracts/access.ts';
import type { z } from 'zod';
import { expectProblem, ok } from '../api/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { BILLING, FINDER, PAYMENTS, SEARCH, seedDeliveryHistory, SHOP, type Seeded } from './seed.ts';

const H = 3600;
/** Monday 2 March 2026, 00:00 UTC: the period is its four weeks. */
const BASE = new Date('2026-03-02T00:00:00Z');
const SINCE = BASE.toISOString();
const UNTIL = '2026-03-30T00:00:00.000Z';

let s: TestServer;
let seeded: Seeded;

async function report(query: Record<string, string>, headers?: Record<string, string>): Promise<DeliveryReport> {
  const q = new URLSearchParams({ since: SINCE, until: UNTIL, ...query });
  return ok<DeliveryReport>(await s.api(`/api/v1/metrics/delivery?${q}`, headers ? { headers } : {}));
}

before(async () => {
  s = await startTestServer();
  seeded = await seedDeliveryHistory(s, { base: BASE, tail: true });
});
after(async () => {
  await s?.close();
});

describe('delivery metrics of production, all applications, by week', () => {
  let r: DeliveryReport;
  before(async () => {
    r = await report({});
  });

  test('scope and period', () => {
    assert.deepEqual(r.scope, { application: null, team: null, environmentType: 'production' });
    assert.deepEqual(r.period, { since: SINCE, until: UNTIL, days: 28, bucket: 'week' });
  });

  test('deployment frequency: 8 changes (releases and promotions) and 2 rollbacks in 28 days', () => {
    // shop R1 R2 R4 R5 R6, billing R7 R8, finder R10; rollbacks R3, R9. R0 is before, R11 after the period; billing's staging release is not production
    assert.deepEqual(r.deploymentFrequency, { releases: 8, rollbacks: 2, perDay: 0.286, perWeek: 2 });
  });

  test('lead time: seven builds, from commit time (or creation for the folder build)', () => {
    // 2 h (shop 3, from creation), 2 h (shop 5), 4 h (shop 2), 6 h (shop 4), 12 h (billing 1), 24 h (billing 2), 24 h (finder 1); shop 5's second release is not measured again
    assert.deepEqual(r.leadTime, { measured: 7, fromCommit: 6, medianSeconds: 6 * H, p90Seconds: 24 * H });
  });

  test('change failure rate: 5 of 8 changes failed, 2 rolled back and 3 followed by a failed deployment', () => {
    // R2 and R8 rolled back; R1 (failed deployment day 2), R6 (day 24), R10 (day 29, after the period: what follows is read from the whole history)
    assert.deepEqual(r.changeFailureRate, { changes: 8, failed: 5, rolledBack: 2, failedDeployment: 3, rate: 0.625 });
  });

  test('time to restore: four of five failures restored, median 13 h', () => {
    // R2 1 h (rollback), R8 2 h (rollback), R1 24 h (failed deployment ended day 7 12:00 → R2 day 8 12:00), R10 48 h (→ R11); R6 not restored
    // median of 1, 2, 24, 48 h = 13 h; p90 = 24 h + 0.7 × 24 h = 40.8 h
    assert.deepEqual(r.timeToRestore, { failures: 5, restored: 4, medianSeconds: 13 * H, p90Seconds: 40.8 * H });
  });

  test('one point per week, with the known figures of each', () => {
    assert.deepEqual(r.series, [
      // W1: R1 (shop, 4 h), R7 (billing, 12 h); R1 failed, restored after 24 h
      { start: '2026-03-02T00:00:00.000Z', end: '2026-03-09T00:00:00.000Z', releases: 2, rollbacks: 0, leadTimeMedianSeconds: 8 * H, failed: 1, changeFailureRate: 0.5, restored: 1, timeToRestoreMedianSeconds: 24 * H },
      // W2: R2 (shop, 2 h), R10 (finder, 24 h), rollback R3; both failed, restored after 1 h and 48 h
      { start: '2026-03-09T00:00:00.000Z', end: '2026-03-16T00:00:00.000Z', releases: 2, rollbacks: 1, leadTimeMedianSeconds: 13 * H, failed: 2, changeFailureRate: 1, restored: 2, timeToRestoreMedianSeconds: 24.5 * H },
      // W3: R4 (shop, 6 h), R8 (billing, 24 h), rollback R9; R8 failed, restored after 2 h
      { start: '2026-03-16T00:00:00.000Z', end: '2026-03-23T00:00:00.000Z', releases: 2, rollbacks: 1, leadTimeMedianSeconds: 15 * H, failed: 1, changeFailureRate: 0.5, restored: 1, timeToRestoreMedianSeconds: 2 * H },
      // W4: R5 (shop, 2 h), R6 (shop 5 again: not measured); R6 failed, not restored
      { start: '2026-03-23T00:00:00.000Z', end: '2026-03-30T00:00:00.000Z', releases: 2, rollbacks: 0, leadTimeMedianSeconds: 2 * H, failed: 1, changeFailureRate: 0.5, restored: 0, timeToRestoreMedianSeconds: null },
    ]);
  });

  test('the figures of each application', () => {
    assert.deepEqual(r.applications, [
      { application: BILLING, team: PAYMENTS, releases: 2, rollbacks: 1, leadTimeMedianSeconds: 18 * H, failed: 1, changeFailureRate: 0.5, timeToRestoreMedianSeconds: 2 * H },
      { application: FINDER, team: SEARCH, releases: 1, rollbacks: 0, leadTimeMedianSeconds: 24 * H, failed: 1, changeFailureRate: 1, timeToRestoreMedianSeconds: 48 * H },
      { application: SHOP, team: PAYMENTS, releases: 5, rollbacks: 1, leadTimeMedianSeconds: 3 * H, failed: 3, changeFailureRate: 0.6, timeToRestoreMedianSeconds: 12.5 * H },
    ]);
  });
});

describe('delivery metrics, scoped', () => {
  test('a team: the applications it owns', async () => {
    const r = await report({ team: 'payments' });
    assert.equal(r.scope.team, PAYMENTS);
    assert.deepEqual(r.deploymentFrequency, { releases: 7, rollbacks: 2, perDay: 0.25, perWeek: 1.75 });
    // 2, 2, 4, 6, 12, 24 h: median 5 h; p90 = 12 h + 0.5 × 12 h
    assert.deepEqual(r.leadTime, { measured: 6, fromCommit: 5, medianSeconds: 5 * H, p90Seconds: 18 * H });
    assert.deepEqual(r.changeFailureRate, { changes: 7, failed: 4, rolledBack: 2, failedDeployment: 2, rate: 0.5714 });
    // 1, 2, 24 h restored, R6 not: median 2 h; p90 = 2 h + 0.8 × 22 h
    assert.deepEqual(r.timeToRestore, { failures: 4, restored: 3, medianSeconds: 2 * H, p90Seconds: 19.6 * H });
    assert.deepEqual(r.applications.map((a) => a.application), [BILLING, SHOP]);
    assert.deepEqual(r.series.map((p) => p.releases), [2, 1, 2, 2]);
    // a team ref works as well as its name
    assert.deepEqual((await report({ team: 'team:default/payments' })).deploymentFrequency, r.deploymentFrequency);
  });

  test('an application, by name or ref', async () => {
    const r = await report({ application: 'shop' });
    assert.equal(r.scope.application, SHOP);
    assert.deepEqual(r.deploymentFrequency, { releases: 5, rollbacks: 1, perDay: 0.179, perWeek: 1.25 });
    // 2, 2, 4, 6 h: median 3 h; p90 = 4 h + 0.7 × 2 h
    assert.deepEqual(r.leadTime, { measured: 4, fromCommit: 3, medianSeconds: 3 * H, p90Seconds: 5.4 * H });
    assert.deepEqual(r.changeFailureRate, { changes: 5, failed: 3, rolledBack: 1, failedDeployment: 2, rate: 0.6 });
    // 1 h and 24 h: median 12.5 h; p90 = 1 h + 0.9 × 23 h
    assert.deepEqual(r.timeToRestore, { failures: 3, restored: 2, medianSeconds: 12.5 * H, p90Seconds: 21.7 * H });
    assert.deepEqual(await report({ application: SHOP }), r);
    // a team and an application: both hold
    assert.equal((await report({ application: 'shop', team: 'search' })).deploymentFrequency.releases, 0);
  });

  test('another environment type: staging', async () => {
    const r = await report({ environmentType: 'staging' });
    assert.deepEqual(r.deploymentFrequency, { releases: 1, rollbacks: 0, perDay: 0.036, perWeek: 0.25 });
    assert.deepEqual(r.leadTime, { measured: 1, fromCommit: 1, medianSeconds: 12 * H, p90Seconds: 12 * H });
    assert.deepEqual(r.changeFailureRate, { changes: 1, failed: 0, rolledBack: 0, failedDeployment: 0, rate: 0 });
    assert.deepEqual(r.timeToRestore, { failures: 0, restored: 0, medianSeconds: null, p90Seconds: null });
    assert.deepEqual(r.applications.map((a) => a.application), [BILLING]);
  });

  test('by day: 28 points, empty days included', async () => {
    const r = await report({ bucket: 'day' });
    assert.equal(r.series.length, 28);
    assert.equal(r.series[0]!.start, SINCE);
    assert.equal(r.series.at(-1)!.end, UNTIL);
    const day = (d: number) => r.series[d]!;
    assert.deepEqual(day(8), { start: seeded.at(8), end: seeded.at(9), releases: 1, rollbacks: 1, leadTimeMedianSeconds: 2 * H, failed: 1, changeFailureRate: 1, restored: 1, timeToRestoreMedianSeconds: H });
    assert.deepEqual(day(17), { start: seeded.at(17), end: seeded.at(18), releases: 1, rollbacks: 1, leadTimeMedianSeconds: 24 * H, failed: 1, changeFailureRate: 1, restored: 1, timeToRestoreMedianSeconds: 2 * H });
    assert.deepEqual(day(0), { start: SINCE, end: seeded.at(1), releases: 0, rollbacks: 0, leadTimeMedianSeconds: null, failed: 0, changeFailureRate: null, restored: 0, timeToRestoreMedianSeconds: null });
    assert.deepEqual(r.series.flatMap((p, i) => (p.releases ? [`${i}:${p.releases}`] : [])), ['1:1', '3:1', '8:1', '10:1', '15:1', '17:1', '22:1', '23:1']);
    // the figures do not depend on the buckets
    const weekly = await report({});
    assert.deepEqual({ ...r, series: [], period: null }, { ...weekly, series: [], period: null });
  });

  test('the next period: R11 is a change (lead time from its commit), and R10 is not in it', async () => {
    const r = await report({ since: UNTIL, until: seeded.at(35) });
    assert.deepEqual(r.deploymentFrequency, { releases: 1, rollbacks: 0, perDay: 0.143, perWeek: 1 });
    // finder build 2: committed day 30 00:00, released day 31 10:00
    assert.deepEqual(r.leadTime, { measured: 1, fromCommit: 1, medianSeconds: 34 * H, p90Seconds: 34 * H });
    assert.deepEqual(r.changeFailureRate, { changes: 1, failed: 0, rolledBack: 0, failedDeployment: 0, rate: 0 });
  });

  test('since as a span back from until, and a period that starts mid-week', async () => {
    assert.deepEqual(await report({ since: '4w' }), await report({}));
    assert.deepEqual(await report({ since: '28d' }), await report({}));
    const r = await report({ since: seeded.at(3), until: seeded.at(10) });
    // Thursday to Thursday: R7 (day 3 12:00) and R2 (day 8); the buckets are the weeks that hold the period
    assert.deepEqual(r.series.map((p) => [p.start, p.releases]), [[SINCE, 1], [seeded.at(7), 1]]);
    assert.equal(r.period.days, 7);
  });

  test('an empty scope: zeros and nulls, never an error', async () => {
    const r = await report({ since: '2025-01-06', until: '2025-02-03' });
    assert.deepEqual(r.deploymentFrequency, { releases: 0, rollbacks: 0, perDay: 0, perWeek: 0 });
    assert.deepEqual(r.leadTime, { measured: 0, fromCommit: 0, medianSeconds: null, p90Seconds: null });
    assert.deepEqual(r.changeFailureRate, { changes: 0, failed: 0, rolledBack: 0, failedDeployment: 0, rate: null });
    assert.deepEqual(r.applications, []);
    assert.equal(r.series.length, 4);
  });
});

describe('delivery metrics: requests', () => {
  test('the default period is the last 30 days', async () => {
    const r = await ok<DeliveryReport>(await s.api('/api/v1/metrics/delivery'));
    assert.equal(r.period.days, 30);
    assert.ok(Math.abs(Date.parse(r.period.until) - Date.now()) < 60_000);
    assert.equal(r.period.bucket, 'week');
    assert.equal(r.scope.environmentType, 'production');
  });

  test('bad queries are 400s naming the field; unknown applications and teams are 404s', async () => {
    const bad = async (q: string, path: string) => {
      const p = await expectProblem(await s.api(`/api/v1/metrics/delivery?${q}`), 400);
      assert.ok((p.errors ?? []).some((e) => e.path === path), `${q}: ${JSON.stringify(p.errors)}`);
    };
    await bad(`since=${UNTIL}&until=${SINCE}`, 'query.since');
    await bad('bucket=month', 'query.bucket');
    await bad('environmentType=qa', 'query.environmentType');
    await bad('since=yesterday', 'query.since');
    await bad('since=2020-01-01&until=2026-01-01&bucket=day', 'query.bucket');
    await bad('rbac-probe=1', 'query.rbac-probe');
    await expectProblem(await s.api('/api/v1/metrics/delivery?application=nope'), 404, 'not-found');
    await expectProblem(await s.api('/api/v1/metrics/delivery?team=nope'), 404, 'not-found');
  });

  test('permissions: application.read for the application or team; for every team without either', async () => {
    type CreatedToken = z.infer<typeof CreatedTokenSchema>;
    await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'searcher' } }), 201);
    await ok(await s.api('/api/v1/role-bindings', { method: 'POST', json: { subject: 'user:searcher', role: 'viewer', team: 'search' } }), 201);
    const token = (await ok<CreatedToken>(await s.api('/api/v1/users/searcher/tokens', { method: 'POST', json: { name: 'm' } }), 201)).token;
    const as = { authorization: `Bearer ${token}` };
    assert.equal((await report({ team: 'search' }, as)).deploymentFrequency.releases, 1);
    assert.equal((await report({ application: 'finder' }, as)).deploymentFrequency.releases, 1);
    await expectProblem(await s.api(`/api/v1/metrics/delivery?team=payments`, { headers: as }), 403, 'forbidden');
    await expectProblem(await s.api(`/api/v1/metrics/delivery?application=shop`, { headers: as }), 403, 'forbidden');
    await expectProblem(await s.api(`/api/v1/metrics/delivery`, { headers: as }), 403, 'forbidden');
  });

  test('the OpenAPI document describes the route with the definitions', async () => {
    const doc = await ok<{ paths: Record<string, { get?: { operationId: string; description?: string } }> }>(await s.api('/api/v1/openapi.json'));
    const op = doc.paths['/api/v1/metrics/delivery']?.get;
    assert.equal(op?.operationId, 'getDeliveryMetrics');
    for (const words of ['Deployment frequency', 'Lead time for changes', 'Change failure rate', 'Time to restore', 'commit time', 'rollback']) assert.ok(op?.description?.includes(words), words);
  });
});
