/**
 * `pave metrics`, spawned for real against a real server holding the seeded delivery history
 * (test/metrics/seed.ts): `-o json` is the API's report with the known answers, the table shows them
 * for people, and the options reach the query.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { duration, percent } from '../../src/cli/commands/metrics.ts';
import type { DeliveryReport } from '../../src/contracts/metrics.ts';
import { cliSandbox, type Cli, type CliResult } from '../cli/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { PAYMENTS, seedDeliveryHistory, SHOP } from './seed.ts';

const H = 3600;
const PERIOD = ['--since', '2026-03-02', '--until', '2026-03-30'];

describe('pave metrics', () => {
  let server: TestServer;
  let cli: Cli;
  const pave = (...args: string[]) => cli.run(args, { env: { PAVE_URL: server.url, PAVE_TOKEN: server.token } });
  const ok = (r: CliResult) => assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const report = async (...args: string[]) => {
    const r = await pave('metrics', ...args, '-o', 'json');
    ok(r);
    return JSON.parse(r.stdout) as DeliveryReport;
  };

  before(async () => {
    server = await startTestServer();
    cli = cliSandbox();
    await seedDeliveryHistory(server, { base: new Date('2026-03-02T00:00:00Z'), tail: true });
  });
  after(async () => {
    cli?.cleanup();
    await server?.close();
  });

  test('-o json is the API\'s report, with the known answers', async () => {
    const r = await report(...PERIOD);
    const api = (await (await server.api('/api/v1/metrics/delivery?since=2026-03-02&until=2026-03-30')).json()) as DeliveryReport;
    assert.deepEqual(r, api);
    assert.deepEqual(r.deploymentFrequency, { releases: 8, rollbacks: 2, perDay: 0.286, perWeek: 2 });
    assert.deepEqual(r.leadTime, { measured: 7, fromCommit: 6, medianSeconds: 6 * H, p90Seconds: 24 * H });
    assert.deepEqual(r.changeFailureRate, { changes: 8, failed: 5, rolledBack: 2, failedDeployment: 3, rate: 0.625 });
    assert.deepEqual(r.timeToRestore, { failures: 5, restored: 4, medianSeconds: 13 * H, p90Seconds: 40.8 * H });
    assert.deepEqual(r.series.map((p) => p.releases), [2, 2, 2, 2]);
  });

  test('--app, --team, --env-type and --bucket reach the query', async () => {
    const shop = await report('--app', 'shop', ...PERIOD);
    assert.equal(shop.scope.application, SHOP);
    assert.deepEqual(shop.changeFailureRate, { changes: 5, failed: 3, rolledBack: 1, failedDeployment: 2, rate: 0.6 });
    const team = await report('--team', 'payments', ...PERIOD);
    assert.equal(team.scope.team, PAYMENTS);
    assert.equal(team.deploymentFrequency.releases, 7);
    const staging = await report('--env-type', 'staging', ...PERIOD);
    assert.equal(staging.deploymentFrequency.releases, 1);
    const daily = await report('--bucket', 'day', '--since', '4w', '--until', '2026-03-30');
    assert.equal(daily.series.length, 28);
    assert.equal(daily.period.since, '2026-03-02T00:00:00.000Z');
  });

  test('the table: the four figures, one row per week, one row per application', async () => {
    const r = await pave('metrics', ...PERIOD);
    ok(r);
    const out = r.stdout;
    assert.match(out, /^Delivery metrics of all applications, production environments, 2026-03-02 to 2026-03-30 \(28 days\)$/m);
    assert.match(out, /^Deployment frequency:\s+2\/week, 0\.286\/day \(8 changes, 2 rollbacks\)$/m);
    assert.match(out, /^Lead time for changes:\s+median 6h, p90 1d \(7 builds, 6 from their commit time\)$/m);
    assert.match(out, /^Change failure rate:\s+62\.5% \(5 of 8: 2 rolled back, 3 followed by a failed deployment\)$/m);
    assert.match(out, /^Time to restore:\s+median 13h, p90 1d 16h \(4 of 5 failures restored\)$/m);
    assert.match(out, /^WEEK OF\s+RELEASES\s+ROLLBACKS\s+LEAD TIME\s+FAILED\s+FAILURE RATE\s+TIME TO RESTORE$/m);
    assert.match(out, /^2026-03-02\s+2\s+0\s+8h\s+1\s+50%\s+1d$/m);
    assert.match(out, /^2026-03-09\s+2\s+1\s+13h\s+2\s+100%\s+1d$/m);
    assert.match(out, /^2026-03-16\s+2\s+1\s+15h\s+1\s+50%\s+2h$/m);
    assert.match(out, /^2026-03-23\s+2\s+0\s+2h\s+1\s+50%\s+-$/m);
    assert.match(out, /^application:default\/shop\s+team:default\/payments\s+5\s+1\s+3h\s+60%\s+12h 30m$/m);
    assert.match(out, /^application:default\/finder\s+team:default\/search\s+1\s+0\s+1d\s+100%\s+2d$/m);
  });

  test('an empty period says so, and bad options are refused before any request', async () => {
    const r = await pave('metrics', '--since', '2025-01-06', '--until', '2025-02-03', '--bucket', 'week');
    ok(r);
    assert.match(r.stdout, /^Lead time for changes:\s+no build released in the period$/m);
    assert.match(r.stdout, /^Change failure rate:\s+no change in the period$/m);
    const bad = await pave('metrics', '--since', 'last-tuesday');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--since.*span back/);
    const badType = await pave('metrics', '--env-type', 'qa');
    assert.notEqual(badType.code, 0);
    assert.match(badType.stderr, /Allowed choices are development, staging, production, preview/);
    const unknown = await pave('metrics', '--app', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: application application:default\/nope does not exist$/m);
  });

  test('durations and rates for people', () => {
    assert.deepEqual([0, 42, 60, 324, 3600, 19_440, 86_400, 146_880, 172_800].map(duration), ['0s', '42s', '1m', '5m 24s', '1h', '5h 24m', '1d', '1d 16h', '2d']);
    assert.equal(duration(null), '-');
    assert.deepEqual([0, 0.5714, 0.625, 1, null].map(percent), ['0%', '57.1%', '62.5%', '100%', '-']);
  });
});
