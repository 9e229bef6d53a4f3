/**
 * Delivery metrics in the web portal, in a real browser (Debian's Chromium via playwright-core): the
 * application page of a seeded application (test/metrics/seed.ts, shop only, placed some weeks back
 * so that the portal's default period of 90 days holds all of it) shows the four figures and the
 * charts with the seeded numbers, per week and per day, and says so when an environment type has no
 * releases. Needs `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { bucketStart } from '../../src/metrics/delivery.ts';
import { seedDeliveryHistory, type Seeded } from '../metrics/seed.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { CHROMIUM, signedInPortal, PORTAL_INDEX, until } from '../support/browser.ts';

const TIMEOUT = 10_000;
const H = 3600;
const DAY = 86_400;

describe('web portal: delivery metrics', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let seeded: Seeded;
  const pageErrors: string[] = [];
  const section = () => page.getByRole('region', { name: 'Delivery metrics' });
  const metrics = () => page.getByTestId('delivery-metrics');
  const text = (testId: string) => section().getByTestId(testId).innerText();
  /** The week (or day) buckets of the seed: base + d days, as the API names them. */
  const bucket = (d: number) => seeded.at(d);
  /** Bucket → value of the chart's marks of one series (bars or points). */
  async function marks(chart: string, series: string): Promise<Record<string, number>> {
    const loc: Locator = section().getByTestId(chart).locator(`[data-series="${series}"]`);
    const out: Record<string, number> = {};
    for (const el of await loc.all()) out[(await el.getAttribute('data-bucket'))!] = Number(await el.getAttribute('data-value'));
    return out;
  }
  async function shown(query: string): Promise<void> {
    await until(`the report for ${query} is shown`, async () => (await metrics().getAttribute('data-shown')) === query, TIMEOUT);
  }

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    server = await startTestServer();
    // a Monday 60 to 66 days back: the seed's day -3 to day 24 lie within the last 90 days
    seeded = await seedDeliveryHistory(server, { base: bucketStart(new Date(Date.now() - 60 * DAY * 1000), 'week'), apps: ['shop'] });

    ({ browser, page } = await signedInPortal(server, { timeout: TIMEOUT, errors: pageErrors, height: 1000 }));
    await page.goto('/applications/default/shop');
    await page.getByRole('heading', { level: 1, name: 'shop' }).waitFor();
    await section().waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the four figures of production over the last 90 days', async () => {
    await shown('production|90d|week');
    // changes: R0 (day -3, now inside the period), R1, R2, R4, R5, R6; rollback R3
    assert.equal(await text('delivery-frequency-value'), '0.47 / week'); // 6 changes in 90 days
    assert.equal(await text('delivery-frequency-detail'), '6 releases, 1 rollback in 90 days');
    // builds 1 (1 d 13 h), 2 (4 h), 3 (2 h, from creation), 4 (6 h), 5 (2 h): median 4 h, p90 6 h + 0.6 × 31 h = 1 d 0 h 36 min
    assert.equal(await text('delivery-lead-time-value'), '4 h');
    assert.equal(await text('delivery-lead-time-detail'), 'median; p90 1 d · 5 builds, 4 from commit');
    // R0, R1 and R6 followed by a failed deployment, R2 rolled back
    assert.equal(await text('delivery-failure-rate-value'), '66.7%');
    assert.equal(await text('delivery-failure-rate-detail'), '4 of 6 changes: 1 rolled back, 3 failed deployments after');
    // R0 3 d 12 h (failed deployment day -2 → R1), R1 1 d, R2 1 h; R6 not restored: median 1 d
    assert.equal(await text('delivery-restore-value'), '1 d');
    assert.equal(await text('delivery-restore-detail'), 'median; 3 of 4 failures restored');
    assert.deepEqual(pageErrors, []);
  });

  it('draws the charts with the seeded numbers, one mark per bucket that has one', async () => {
    // each chart is an image named by its caption
    for (const name of ['Releases per week', 'Lead time for changes (median)', 'Change failure rate', 'Time to restore (median)']) await section().getByRole('img', { name }).waitFor();
    assert.deepEqual(await marks('delivery-chart-releases', 'releases'), { [bucket(-7)]: 1, [bucket(0)]: 1, [bucket(7)]: 1, [bucket(14)]: 1, [bucket(21)]: 2 });
    assert.deepEqual(await marks('delivery-chart-releases', 'rollbacks'), { [bucket(7)]: 1 });
    assert.deepEqual(await marks('delivery-chart-lead-time', 'lead time'), { [bucket(-7)]: DAY + 13 * H, [bucket(0)]: 4 * H, [bucket(7)]: 2 * H, [bucket(14)]: 6 * H, [bucket(21)]: 2 * H });
    assert.deepEqual(await marks('delivery-chart-failure-rate', 'failure rate'), { [bucket(-7)]: 1, [bucket(0)]: 1, [bucket(7)]: 1, [bucket(14)]: 0, [bucket(21)]: 0.5 });
    assert.deepEqual(await marks('delivery-chart-restore', 'time to restore'), { [bucket(-7)]: 3 * DAY + 12 * H, [bucket(0)]: DAY, [bucket(7)]: H });
    // the stacked bar of week 2: a release, and a rollback on top of it
    const week2 = section().getByTestId('delivery-chart-releases').locator(`[data-bucket="${bucket(7)}"]`);
    assert.equal(await week2.count(), 2);
    const [release, rollback] = [await week2.nth(0).boundingBox(), await week2.nth(1).boundingBox()];
    assert.ok(release && rollback && Math.abs(rollback.y + rollback.height - release.y) < 1 && Math.abs(rollback.height - release.height) < 1, 'the rollback sits on the release, as tall');
    // a bar's height is its value: week 4's two releases are twice week 1's one
    const w1 = await section().getByTestId('delivery-chart-releases').locator(`[data-series="releases"][data-bucket="${bucket(0)}"]`).boundingBox();
    const w4 = await section().getByTestId('delivery-chart-releases').locator(`[data-series="releases"][data-bucket="${bucket(21)}"]`).boundingBox();
    assert.ok(w1 && w4 && Math.abs(w4.height - 2 * w1.height) < 1, `heights ${w1?.height} and ${w4?.height}`);
    // hovering names the bucket and the value
    assert.match(await week2.nth(1).locator('title').textContent() ?? '', /^week of [A-Z][a-z]{2} \d{1,2}: rollbacks 1$/);
    await section().scrollIntoViewIfNeeded();
    await section().screenshot({ path: '/tmp/pave-portal-delivery-metrics.png' });
  });

  it('per day: one bar per day with a release', async () => {
    await section().getByTestId('delivery-bucket').locator('label', { hasText: 'Days' }).click();
    await shown('production|90d|day');
    assert.deepEqual(await marks('delivery-chart-releases', 'releases'), { [bucket(-3)]: 1, [bucket(1)]: 1, [bucket(8)]: 1, [bucket(15)]: 1, [bucket(22)]: 1, [bucket(23)]: 1 });
    assert.equal(await text('delivery-frequency-value'), '0.07 / day');
  });

  it('another environment type without releases says so; a shorter period leaves the old releases out', async () => {
    await section().getByTestId('delivery-env-type').selectOption('staging');
    await shown('staging|90d|day');
    assert.equal(await text('delivery-empty'), 'No releases to staging environments in this period.');
    assert.equal(await text('delivery-failure-rate-value'), '—');
    await section().getByTestId('delivery-env-type').selectOption('production');
    await section().getByTestId('delivery-period').selectOption('30d');
    await shown('production|30d|day');
    assert.equal(await section().getByTestId('delivery-empty').count(), 1, 'the seeded history is older than 30 days');
    assert.deepEqual(pageErrors, []);
  });
});
