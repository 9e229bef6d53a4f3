/**
 * Signing in to the web portal through OpenID Connect, in a real browser (Debian's Chromium via
 * playwright-core): a signed-out deep link goes to the sign-in page, "Sign in with Test IdP" goes
 * through the provider's own login page (a real `oidc-provider` in this process), and the portal comes
 * back on the deep link with a cookie session, showing the user and the team the group mapping gave
 * them. A change made in the portal (creating an application) carries the CSRF header; signing out ends
 * the session on the server. Also: a local user's password sign-in. Needs `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Me } from '../../src/contracts/access.ts';
import { CHROMIUM, launchBrowser, PORTAL_INDEX, until } from '../support/browser.ts';
import { startTestIdp, type TestIdp } from '../support/oidc.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const TIMEOUT = 10_000;

describe('web portal: sign-in with OpenID Connect', { timeout: 90_000 }, () => {
  let idp: TestIdp;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: `/tmp/pave-portal-oidc-${name}.png`, fullPage: true });
  const sessionCookie = async () => (await context.cookies(server.url)).find((c) => c.name === 'pave_session');

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    idp = await startTestIdp({
      accounts: { kim: { password: 'kim-at-the-idp', claims: { email: 'kim.lee@example.com', email_verified: true, name: 'Kim Lee', preferred_username: 'kim', groups: ['eng-payments'] } } },
    });
    server = await startTestServer({
      auth: { oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: 'openid profile email groups', groupsClaim: 'groups', teamMapping: 'eng-payments=payments', displayName: 'Test IdP' } },
    });
    idp.register(`${server.url}/api/v1/auth/oidc/callback`);
    await server.api('/api/v1/users', { method: 'POST', json: { name: 'lee', displayName: 'Lee Local' } });
    await server.api('/api/v1/users/lee/password', { method: 'PUT', json: { password: 'lee-local-password' } });

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: server.url });
    context.setDefaultTimeout(TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      const url = msg.location().url;
      // the wrong password's 401 is expected, and the test provider's pages are not ours (no favicon)
      const expected = (/status of 401/.test(msg.text()) && url.endsWith('/api/v1/auth/password/login')) || url.startsWith(idp.issuer);
      if (msg.type() === 'error' && !expected) pageErrors.push(`console: ${msg.text()} (${url})`);
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await idp?.close();
  });

  it('goes through the provider and lands on the deep link, signed in with a cookie session', async () => {
    await page.goto('/teams/default/payments');
    await page.waitForURL((u) => u.pathname === '/sign-in');
    const button = page.getByRole('link', { name: 'Sign in with Test IdP' });
    await button.waitFor();
    await shot('sign-in');
    await button.click();

    // the provider's own login page
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.getByLabel('Username').fill('kim');
    await page.getByLabel('Password').fill('kim-at-the-idp');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL((u) => u.origin === server.url && u.pathname === '/teams/default/payments');
    await until('the user is shown', async () => /Kim Lee/.test(await page.getByTestId('signed-in-user').innerText().catch(() => '')));
    assert.match(await page.getByTestId('signed-in-user').innerText(), /user:default\/kim/);
    await page.getByRole('heading', { level: 1, name: /payments/i }).waitFor();
    await shot('signed-in');

    const cookie = await sessionCookie();
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(await page.evaluate('localStorage.getItem("pave.token")'), null, 'no token in the page');
    const me = (await (await fetch(`${server.url}/api/v1/me`, { headers: { cookie: `pave_session=${cookie.value}` } })).json()) as Me;
    assert.deepEqual(me.teams, ['team:default/payments']);
  });

  it('stays signed in across a reload', async () => {
    await page.reload();
    await until('the user is shown again', async () => /Kim Lee/.test(await page.getByTestId('signed-in-user').innerText().catch(() => '')));
  });

  it('changes made in the portal carry the CSRF header', async () => {
    await page.goto('/templates/node-service');
    const form = page.getByRole('form', { name: /Create an application/ });
    await form.getByRole('textbox', { name: /^Name/ }).fill('kims-service');
    const owner = form.getByRole('combobox', { name: /^Owner team/ });
    await until('the owner is her team', async () => /payments/i.test(await owner.inputValue()));
    const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/applications') && r.request().method() === 'POST');
    await form.getByRole('button', { name: 'Create application' }).click();
    const res = await created;
    assert.equal(res.status(), 201, await res.text());
    assert.ok(res.request().headers()['x-csrf-token'], 'the CSRF header was sent');
    assert.equal(res.request().headers().authorization, undefined, 'no bearer token');
    await page.waitForURL((u) => u.pathname === '/applications/default/kims-service');
  });

  it('signs out: the session ends on the server', async () => {
    const cookie = (await sessionCookie())!;
    const logout = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/logout'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    assert.equal((await logout).status(), 204);
    await page.waitForURL((u) => u.pathname === '/sign-in');
    const res = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: `pave_session=${cookie.value}` } });
    assert.equal(res.status, 401);
    assert.equal(await sessionCookie(), undefined, 'the cookie is gone');
    await page.goto('/teams');
    await page.waitForURL((u) => u.pathname === '/sign-in');
  });

  it('a local user signs in with a password', async () => {
    await page.getByRole('tab', { name: 'Local user' }).click();
    await page.getByLabel('User name').fill('lee');
    await page.getByLabel('Password', { exact: true }).fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill('lee-local-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/teams');
    await until('the user is shown', async () => /Lee Local/.test(await page.getByTestId('signed-in-user').innerText().catch(() => '')));
    await shot('password');
  });

  it('logged no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
