/**
 * The web portal in a real browser (Debian's Chromium via playwright-core) against a real server with
 * the Backstage example catalog. Needs the built portal: run `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page } from 'playwright-core';
import { BACKSTAGE_FIXTURES } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { CHROMIUM, launchBrowser, PORTAL_INDEX } from '../support/browser.ts';

const TIMEOUT = 10_000;

/** Polls `cond` until it holds (the browser's DOM is read through locators, so this file needs no DOM types). */
async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + TIMEOUT;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) return yamlFiles(p);
      return /\.ya?ml$/.test(f) ? [p] : [];
    });
}

describe('web portal', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  // One snapshot of the rows: a list that re-renders between reading its rows and their refs cannot split the answer.
  const rowRefs = async () => page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ref')));
  const storedToken = async () => {
    const state = await page.context().storageState();
    return state.origins.find((o) => o.origin === server.url)?.localStorage.find((e) => e.name === 'pave.token')?.value ?? null;
  };
  const shot = (name: string) => page.screenshot({ path: `/tmp/pave-portal-${name}.png`, fullPage: true });

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) {
      throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    }
    server = await startTestServer();
    const files = yamlFiles(BACKSTAGE_FIXTURES).map((p) => ({ location: path.relative(BACKSTAGE_FIXTURES, p), content: readFileSync(p, 'utf8') }));
    const res = await server.api('/api/v1/catalog/import', { method: 'POST', json: { files } });
    assert.equal(res.status, 200, await res.clone().text());
    const result = (await res.json()) as { created: number };
    assert.ok(result.created > 40, `imported ${result.created} entities`);

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url });
    context.setDefaultTimeout(TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // The wrong token's 401 and the missing entity's 404 are on purpose; the browser logs both requests.
      // So is the golden path's 404 on an application page: these applications are only in the catalog.
      const expected =
        (/status of (401|404)/.test(msg.text()) && /\/api\/v1\/(me|entities\/api\/default\/no-such-api)$/.test(msg.location().url)) ||
        (/status of 404/.test(msg.text()) && /\/api\/v1\/applications\/[^/]+\/golden-path\?/.test(msg.location().url));
      if (msg.type() === 'error' && !expected) pageErrors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sends a signed-out deep link to sign-in, rejects a wrong token, and comes back after sign-in', async () => {
    await page.goto('/applications/default/wayback-archive');
    await page.waitForURL((u) => u.pathname === '/sign-in');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/applications/default/wayback-archive');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();

    await page.getByLabel('API token').fill('pave_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByRole('alert').filter({ hasText: 'not accepted' });
    await error.waitFor();
    assert.match(await error.innerText(), /the token is not known/);
    assert.equal(await storedToken(), null);
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    await shot('sign-in-error');

    await page.getByLabel('API token').fill(server.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/applications/default/wayback-archive');
    await page.getByRole('heading', { level: 1, name: 'wayback-archive' }).waitFor();
    assert.equal(await storedToken(), server.token);
    assert.match(await page.getByTestId('signed-in-user').innerText(), /Administrator/);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  });

  it('searches the catalog, with the search in the URL', async () => {
    await page.getByRole('navigation').getByRole('link', { name: /Catalog/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor();
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    // 53 entities: a first page of 50, then the rest.
    assert.equal(await rows.count(), 50, 'the first page of the whole catalog is listed before searching');
    await page.getByRole('button', { name: 'Load more' }).click();
    await until('the second page is shown', async () => (await rows.count()) > 50);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'no more pages');

    await page.getByRole('searchbox', { name: 'Search catalog entities' }).fill('wayback');
    await page.waitForURL((u) => u.searchParams.get('q') === 'wayback');
    await until('the search results are shown', async () => {
      const refs = await rowRefs();
      return refs.length > 0 && refs.length < 20 && refs.every((r) => r?.includes('wayback'));
    });
    const refs = await rowRefs();
    for (const ref of ['application:default/wayback-archive', 'application:default/wayback-search', 'api:default/wayback-archive']) {
      assert.ok(refs.includes(ref), `${ref} is among the results: ${refs.join(', ')}`);
    }
    assert.ok(!refs.some((r) => r?.includes('petstore')), `petstore is not a result: ${refs.join(', ')}`);
    assert.ok(refs.every((r) => r?.includes('wayback')), `every result is about wayback: ${refs.join(', ')}`);
    await shot('catalog');

    // The same search, as a deep link, narrowed to one kind.
    await page.goto('/catalog?q=wayback&kind=api');
    await until('only the two APIs are shown', async () => (await rows.count()) === 2);
    assert.deepEqual((await rowRefs()).sort(), ['api:default/wayback-archive', 'api:default/wayback-search']);
    assert.equal(await page.getByRole('searchbox', { name: 'Search catalog entities' }).inputValue(), 'wayback');

    // The owner filter, as a deep link, on the applications list.
    await page.goto('/applications?owner=team-d');
    await page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
    await until('the applications are shown', async () => (await rows.count()) > 0);
    const owned = await rowRefs();
    assert.ok(owned.includes('application:default/wayback-archive-ingestion') && !owned.includes('application:default/wayback-archive'), owned.join(', '));
    assert.match(await page.getByRole('combobox', { name: 'Owner' }).inputValue(), /team-d/);
  });

  it('shows an application with its owner, relations and relations graph', async () => {
    await page.goto('/catalog?q=wayback');
    await page.locator('tbody a[href="/applications/default/wayback-archive"]').click();
    await page.waitForURL((u) => u.pathname === '/applications/default/wayback-archive');
    await page.getByRole('heading', { level: 1, name: 'wayback-archive' }).waitFor();

    const about = page.getByRole('region', { name: 'About' });
    assert.equal(await about.getByRole('link', { name: 'team-a' }).getAttribute('href'), '/teams/default/team-a');
    assert.match(await about.innerText(), /production/);

    const relations = page.getByRole('region', { name: 'Relations', exact: true });
    const text = await relations.innerText();
    for (const s of [/Owned by/i, /Provides API/i, /Has part/i, /wayback-archive-storage/, /wayback-archive-ingestion/]) assert.match(text, s);

    const graph = page.getByTestId('relations-graph');
    await graph.locator('.react-flow__node').first().waitFor();
    assert.equal(await graph.locator('.react-flow__node').count(), 5, 'the application and its four neighbours');
    assert.ok((await graph.locator('.react-flow__edge').count()) >= 4, 'edges to the neighbours');
    assert.ok(await graph.getByText('Owned by', { exact: true }).isVisible(), 'edges are labelled with the relation type');
    await shot('application');

    // A node opens its entity's page.
    await graph.locator('.react-flow__node', { hasText: 'wayback-archive-storage' }).click();
    await page.waitForURL((u) => u.pathname === '/applications/default/wayback-archive-storage');
    await page.getByRole('heading', { level: 1, name: 'wayback-archive-storage' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'wayback-archive' }).waitFor();
  });

  it('shows a team with its members, applications and parent', async () => {
    await page.getByRole('region', { name: 'About' }).getByRole('link', { name: 'team-a' }).click();
    await page.waitForURL((u) => u.pathname === '/teams/default/team-a');
    await page.getByRole('heading', { level: 1, name: 'team-a' }).waitFor();

    const members = page.getByRole('list', { name: 'Members' });
    await members.waitFor();
    const names = await members.innerText();
    for (const m of ['Janelle Dawe', 'Nigel Manning', 'breanna.davison', 'Guest User']) assert.match(names, new RegExp(m));

    const apps = page.getByRole('region', { name: 'Applications' });
    await apps.locator('tbody tr').first().waitFor();
    assert.ok(await apps.getByRole('link', { name: 'wayback-archive', exact: true }).isVisible());
    assert.match(await page.getByRole('region', { name: 'Parent and child teams' }).innerText(), /Backstage/);
    await page.getByTestId('relations-graph').locator('.react-flow__node').first().waitFor();
    await shot('team');
  });

  it('has a generic entity page, a 404 page and signs out', async () => {
    await page.goto('/entities/user/default/janelle.dawe');
    await page.getByRole('heading', { level: 1, name: 'Janelle Dawe' }).waitFor();
    assert.match(await page.getByRole('region', { name: 'Relations', exact: true }).innerText(), /Member of/i);

    await page.goto('/entities/api/default/no-such-api');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await page.goto('/no/such/page');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/sign-in');
    assert.equal(await storedToken(), null);
    await page.goto('/teams');
    await page.waitForURL((u) => u.pathname === '/sign-in' && u.searchParams.get('next') === '/teams');
  });

  it('logged no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
