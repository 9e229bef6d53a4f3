/**
 * The audit log in the web portal, in a real browser (Debian's Chromium via playwright-core) against a
 * real server: an admin opens the Audit page from the navigation, filters by actor, sees the events,
 * exports them as JSON lines, and verifies the chain, before and after tampering in the store. A
 * non-admin gets no Audit page. Needs `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page } from 'playwright-core';
import type { AuditEvent } from '../../src/contracts/audit.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { CHROMIUM, launchBrowser, PORTAL_INDEX, until } from '../support/browser.ts';

const TIMEOUT = 10_000;

describe('web portal: audit log', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let dana: string;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: `/tmp/pave-portal-audit-${name}.png`, fullPage: true });
  const rows = () => page.getByTestId('audit-events').locator('tbody tr');

  async function signIn(p: Page, token: string): Promise<void> {
    await p.goto('/sign-in');
    await p.getByLabel('API token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL((u) => u.pathname === '/catalog');
  }

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    server = await startTestServer({ platform: null });
    const post = async (path: string, json: unknown, token?: string) => {
      const res = await server.api(path, { method: 'POST', json, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
      assert.equal(res.status, 201, `${path}: ${await res.clone().text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await post('/api/v1/users', { name: 'dana' });
    dana = String((await post('/api/v1/users/dana/tokens', { name: 'portal' })).token);
    await post('/api/v1/teams', { name: 'audit-web', title: 'Audit web' });
    await post('/api/v1/tokens', { name: 'dana-laptop' }, dana);
    const denied = await server.api('/api/v1/platform/sync', { method: 'POST', headers: { authorization: `Bearer ${dana}` } });
    assert.equal(denied.status, 403);

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url, acceptDownloads: true });
    context.setDefaultTimeout(TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
    await signIn(page, server.token);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens from the navigation and lists the events, newest first', async () => {
    await page.getByRole('navigation').getByRole('link', { name: /Audit/ }).click();
    await page.waitForURL((u) => u.pathname === '/audit');
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await rows().first().waitFor();
    const ids = (await rows().evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-event-id')))));
    assert.ok(ids.length >= 5, `${ids.length} events`);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    const text = await page.getByTestId('audit-events').innerText();
    assert.match(text, /createTeam/);
    assert.match(text, /team:default\/audit-web/);
    assert.match(text, /syncPlatform/);
    await shot('list');
  });

  it('filters by actor, kept in the URL', async () => {
    await page.getByRole('textbox', { name: 'Actor' }).fill('dana');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.get('actor') === 'dana');
    await until('only dana\'s events are shown', async () => {
      const actors = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-actor')));
      return actors.length > 0 && actors.every((a) => a === 'user:default/dana');
    });
    const outcomes = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-outcome')));
    assert.deepEqual(outcomes.sort(), ['denied', 'succeeded']);
    assert.match(await page.getByTestId('audit-events').innerText(), /syncPlatform[\s\S]*denied[\s\S]*createToken[\s\S]*succeeded/i);
    await shot('filtered');
  });

  it('exports the filtered events as JSON lines', async () => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON lines' }).click()]);
    assert.match(file.suggestedFilename(), /^pave-audit-.*\.jsonl$/);
    const lines = readFileSync((await file.path())!, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    assert.equal(lines.length, 2);
    assert.ok(lines.every((e) => e.actor === 'user:default/dana'));
    assert.ok(lines[0]!.id < lines[1]!.id, 'oldest first');
  });

  it('verifies the chain, and shows where it broke after tampering', async () => {
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const result = page.getByTestId('audit-verification');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-ok'), 'true');
    assert.match(await result.innerText(), /The chain holds[\s\S]*\d+ events checked/);
    await shot('verified');

    const victim = await server.store.db.selectFrom('audit_events').select('id').orderBy('id').offset(1).limit(1).executeTakeFirstOrThrow();
    await server.store.db.updateTable('audit_events').set({ actor: 'user:default/someone-else' }).where('id', '=', victim.id).execute();
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await until('the break is shown', async () => (await result.getAttribute('data-ok').catch(() => null)) === 'false');
    assert.match(await result.innerText(), new RegExp(`broken at event ${victim.id}`));
    await shot('broken');
  });

  it('is for admins only', async () => {
    const other = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url });
    const p = await other.newPage();
    await signIn(p, dana);
    assert.equal(await p.getByRole('navigation').getByRole('link', { name: /Audit/ }).count(), 0, 'no Audit entry in the navigation');
    await p.goto('/audit');
    await p.getByText('Only admins may read the audit log.').waitFor();
    await other.close();
  });

  it('logged no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
