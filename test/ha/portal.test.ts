/**
 * The Jobs page of the web portal, in a real browser (Debian's Chromium via playwright-core) against a
 * real server: an admin opens it from the navigation, sees this server in the registry and the apply
 * job it just ran, opens its events; a job that starts while the page is open shows up without a
 * reload (the page polls). A developer (no audit.read) has no Jobs entry. Needs `npm run build:portal` first
 * (PAVE_TEST_PORTAL_DIR: another build).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchBrowser, PORTAL_INDEX, signedInPortal, until } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const TIMEOUT = 10_000;
const portalDir = process.env.PAVE_TEST_PORTAL_DIR ?? path.dirname(PORTAL_INDEX);
let s: TestServer;
let browser: Browser | undefined;
const errors: string[] = [];

const apply = async (app: string) => {
  const res = await s.api(`/api/v1/applications/${app}/environments/development/apply`, { method: 'POST' });
  assert.equal(res.status, 200, await res.clone().text());
  return res.headers.get('x-pave-job')!;
};

before(async () => {
  if (!existsSync(path.join(portalDir, 'index.html'))) throw new Error(`the portal is not built (${portalDir}/index.html is missing): run "npm run build:portal" before this test`);
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
  s = await startTestServer({ portalDir });
  assert.equal((await s.api('/api/v1/teams', { method: 'POST', json: { name: 'web' } })).status, 201);
  for (const name of ['alpha', 'beta']) {
    const workload = { apiVersion: 'score.dev/v1b1', metadata: { name }, containers: { web: { image: '.' } }, resources: {} };
    assert.equal((await s.api('/api/v1/applications', { method: 'POST', json: { name, owner: 'web', template: 'node-service', workload } })).status, 201);
  }
});
after(async () => {
  await browser?.close();
  await s?.close();
});

test('an admin follows the jobs and servers on the Jobs page, live', { timeout: 60_000 }, async () => {
  const first = await apply('alpha');
  // its events, as NDJSON, without following
  const lines = (await (await s.api(`/api/v1/jobs/${first}/events`)).text()).trim().split('\n').map((l) => (JSON.parse(l) as { event: { type: string } }).event.type);
  assert.deepEqual(lines, ['claimed', 'succeeded']);
  const portal = await signedInPortal({ url: s.url, token: s.token }, { timeout: TIMEOUT, errors });
  browser = portal.browser;
  const page = portal.page;
  await page.getByRole('link', { name: /Jobs/ }).click();
  await page.waitForURL((u) => u.pathname === '/jobs');
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();

  const servers = page.getByTestId('servers');
  await servers.getByText('(this one)').waitFor();
  assert.match(await page.getByLabel('Servers').innerText(), /A single-server installation: 1 server is running\. Job lease 15 s\./);
  assert.match(await servers.innerText(), new RegExp(`\\b${process.pid}\\b`));

  const row = page.locator(`tr[data-job="${first}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'succeeded');
  assert.match(await row.innerText(), /resources\.apply\s+alpha\/development\s+succeeded\s+1\s/i);
  await row.getByRole('button', { name: `Show the events of job ${first.slice(0, 8)}` }).click();
  const events = page.getByTestId('job-events');
  await events.getByText(/#1 started on /).waitFor();
  await events.getByText(/#1 succeeded/).waitFor();
  await page.screenshot({ path: '/tmp/pave-portal-jobs.png', fullPage: true });

  // a job started now appears without a reload
  const second = await apply('beta');
  await page.locator(`tr[data-job="${second}"][data-state="succeeded"]`).waitFor({ timeout: TIMEOUT });

  // filters live in the URL
  await page.getByLabel('Kind').fill('fleet.upgrade');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No jobs match these filters.').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('kind'), 'fleet.upgrade');
  assert.deepEqual(errors, []);
});

test('a developer has no Jobs page', { timeout: 60_000 }, async () => {
  assert.equal((await s.api('/api/v1/users', { method: 'POST', json: { name: 'dev' } })).status, 201);
  const token = String(((await (await s.api('/api/v1/users/dev/tokens', { method: 'POST', json: { name: 'portal' } })).json()) as { token: string }).token);
  assert.equal((await fetch(`${s.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${token}` } })).status, 403);
  browser ??= await launchBrowser();
  {
    const context = await browser.newContext({ baseURL: s.url });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    await page.goto('/sign-in');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/catalog');
    await until('the navigation to show', async () => (await page.getByRole('link', { name: /Catalog/ }).count()) > 0);
    assert.equal(await page.getByRole('link', { name: /^Jobs/ }).count(), 0);
    await page.goto('/jobs');
    await page.getByText(/Only who may read the audit log \(admins, platform engineers\) may see the jobs/).waitFor();
    await context.close();
  }
});
