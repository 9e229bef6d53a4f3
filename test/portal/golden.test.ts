/**
 * Golden paths in the web portal, in a real browser (Debian's Chromium via playwright-core) against a
 * real server with the sample platform: the template gallery, a template's README and generated form,
 * creating an application that really provisions PostgreSQL on this machine's services, plan, adding an
 * add-on (Redis) and applying it with live progress. The application is deleted afterwards, through the
 * API, so no database or Redis user is left on the shared services. Needs `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Locator, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.ts';
import { CHROMIUM, launchBrowser, PORTAL_INDEX, until } from '../support/browser.ts';

const TIMEOUT = 10_000;
/** Provisioning talks to real services; give it more room than a page load. */
const PROVISION_TIMEOUT = 30_000;


describe('web portal: golden paths', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  // Unique per run: resources are named after the application on services other runs share.
  const app = `golden-${randomBytes(3).toString('hex')}`;
  const team = 'storefront';
  const taken = 'legacy-storefront';
  // Dialogs are shot as the viewport shows them; pages whole.
  const shot = (name: string, fullPage = true) => page.screenshot({ path: `/tmp/pave-portal-golden-${name}.png`, fullPage });

  /** The text of what describes a form control: its description and its error (aria-describedby). */
  async function describedBy(control: Locator): Promise<string> {
    const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
    const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).innerText()));
    return texts.join(' | ');
  }
  const resourceRow = (name: string) => page.getByTestId('resources-table').locator(`tr[data-resource="${name}"]`);

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) {
      throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    }
    server = await startTestServer();
    let res = await server.api('/api/v1/teams', { method: 'POST', json: { name: team, title: 'Storefront', members: ['admin'] } });
    assert.equal(res.status, 201, await res.text());
    // A catalog-only application (no template): its page shows no golden path, and its name is taken.
    res = await server.api('/api/v1/applications', { method: 'POST', json: { name: taken, owner: team } });
    assert.equal(res.status, 201, await res.text());

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url });
    context.setDefaultTimeout(TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    if (process.env.PAVE_TEST_TRACE) page.on('response', async (r) => r.url().includes('/resources') && console.log(Date.now(), r.url(), (await r.text()).slice(0, 150)));
    if (process.env.PAVE_TEST_TRACE) page.on('request', (r) => console.log(Date.now(), r.method(), r.url()));
    page.on('console', (msg) => {
      // On purpose: the taken name's 409, and the 404 of the catalog-only application's golden path.
      const url = msg.location().url;
      const expected =
        (/status of 409/.test(msg.text()) && /\/api\/v1\/applications$/.test(url)) ||
        (/status of 404/.test(msg.text()) && url.includes(`/api/v1/applications/${taken}/golden-path`));
      if (msg.type() === 'error' && !expected) pageErrors.push(`console: ${msg.text()} (${url})`);
    });

    await page.goto('/sign-in');
    await page.getByLabel('API token').fill(server.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/catalog');
  });

  after(async () => {
    await browser?.close();
    if (server) {
      // Leaves nothing on the shared PostgreSQL and Redis: deleting the application deletes its resources.
      const res = await server.api(`/api/v1/applications/${app}`, { method: 'DELETE' });
      assert.ok(res.status === 204 || res.status === 404, `${res.status} ${await res.text()}`);
      await server.close();
    }
  });

  it('lists templates and add-ons in the gallery', async () => {
    await page.getByRole('navigation').getByRole('link', { name: /Templates/ }).click();
    await page.waitForURL((u) => u.pathname === '/templates');
    await page.getByRole('heading', { level: 1, name: 'Templates' }).waitFor();
    const card = page.getByRole('article', { name: 'Node.js service' });
    await card.waitFor();
    const text = await card.innerText();
    for (const s of [/v1\.0\.0/, /An HTTP service on Node\.js/, /Not used yet/, /node/]) assert.match(text, s);
    assert.equal(await card.getByRole('link', { name: /Create application/ }).getAttribute('href'), '/templates/node-service#create');
    assert.match(await page.getByTestId('platform-source').innerText(), /Published from .*platform; last synced/);
    await shot('gallery');

    await page.getByRole('tab', { name: /Add-ons/ }).click();
    await page.waitForURL((u) => u.searchParams.get('tab') === 'addons');
    const postgres = page.getByRole('article', { name: 'PostgreSQL' });
    await postgres.waitFor();
    assert.match(await postgres.getByRole('list', { name: 'Resources it provisions' }).innerText(), /db: postgres/);
    const injected = await postgres.getByRole('list', { name: 'Environment variables it injects' }).innerText();
    for (const v of ['DATABASE_URL', 'PGHOST', 'PGPASSWORD']) assert.match(injected, new RegExp(v));
    assert.equal(await page.getByRole('article').count(), 6, 'six add-ons in the sample platform');
    await shot('addons');
  });

  it('shows a template with its README and a form generated from its inputs', async () => {
    await page.getByRole('tab', { name: /Templates/ }).click();
    await page.getByRole('article', { name: 'Node.js service' }).getByRole('link', { name: /Create application/ }).click();
    await page.waitForURL((u) => u.pathname === '/templates/node-service' && u.hash === '#create');
    await page.getByRole('heading', { level: 1, name: 'Node.js service' }).waitFor();
    // The button leads to the form: the keyboard is in its first field.
    await until('the name field has the focus', async () => (await page.evaluate('document.activeElement?.getAttribute("data-input")')) === 'name');

    const readme = page.getByRole('region', { name: 'README' });
    await readme.getByRole('heading', { name: 'What your code must do' }).waitFor();
    assert.equal(await readme.getByRole('heading', { level: 2 }).count(), 1, 'the README headings sit under the section (only its own title is an h2)');
    assert.ok((await readme.locator('li').count()) >= 3, 'lists are rendered');
    assert.ok((await readme.locator('code', { hasText: 'PORT' }).count()) > 0, 'inline code is rendered');
    assert.ok((await readme.locator('table td', { hasText: 'set by the platform team' }).count()) > 0, 'tables are rendered');

    const form = page.getByRole('form', { name: /Create an application/ });
    // The size input is an enum: a select of its values, prefilled with the default.
    const size = form.getByRole('combobox', { name: /^Size/ });
    assert.equal(await size.inputValue(), 'small');
    await size.click();
    const options = await page.getByRole('listbox').getByRole('option').allInnerTexts();
    assert.deepEqual(options.map((o) => o.trim()), ['small', 'medium', 'large']);
    await page.getByRole('option', { name: 'medium' }).click();
    assert.equal(await size.inputValue(), 'medium');
    // Integers get a number box with their default; the platform team's input is read-only.
    assert.equal(await form.getByRole('textbox', { name: /^Port/ }).inputValue(), '8080');
    assert.equal(await form.getByRole('textbox', { name: /^Health path/ }).inputValue(), '/healthz');
    const nodeVersion = form.getByRole('combobox', { name: /^Node\.js version/ });
    assert.equal(await nodeVersion.inputValue(), '24');
    assert.notEqual(await nodeVersion.getAttribute('readonly'), null, 'nodeVersion is read-only');
    assert.match(await describedBy(nodeVersion), /Set by the platform team/);
    // The owner team's profile: what its development environment gets by default.
    assert.match(await form.getByTestId('team-profile').innerText(), /storefront's development defaults .*runtime local · replicas 1/);
    await shot('template');
  });

  it('checks inputs against the schema and maps server errors onto the fields', async () => {
    const form = page.getByRole('form', { name: /Create an application/ });
    await form.getByRole('textbox', { name: /^Name/ }).fill(taken);
    // The owner is one of the user's teams already; choosing it again keeps it.
    const owner = form.getByRole('combobox', { name: /^Owner team/ });
    assert.equal(await owner.inputValue(), 'Storefront (storefront)');
    await owner.click();
    await page.getByRole('option', { name: /Storefront/ }).click();
    assert.equal(await owner.inputValue(), 'Storefront (storefront)');
    await form.getByRole('checkbox', { name: /PostgreSQL/ }).check();
    const addonSize = form.getByRole('group', { name: 'PostgreSQL inputs' }).getByRole('combobox', { name: /^Size/ });
    assert.equal(await addonSize.inputValue(), 'small', 'the chosen add-on shows its own inputs');

    // A port below the schema's minimum: caught in the browser, shown on the field, nothing sent.
    const port = form.getByRole('textbox', { name: /^Port/ });
    await port.fill('80');
    await form.getByRole('button', { name: 'Create application' }).click();
    await until('the port is marked invalid', async () => (await port.getAttribute('aria-invalid')) === 'true');
    await shot('form-error');
    assert.match(await describedBy(port), /must be at least 1024/);
    assert.equal(await page.evaluate('document.activeElement?.getAttribute("data-input")'), 'port', 'the first field in error has the focus');

    // The name is taken: the server's 409 lands on the name field.
    await port.fill('8080');
    assert.notEqual(await port.getAttribute('aria-invalid'), 'true', 'fixing the field clears its error');
    await form.getByRole('button', { name: 'Create application' }).click();
    const name = form.getByRole('textbox', { name: /^Name/ });
    await until('the name is marked invalid', async () => (await name.getAttribute('aria-invalid')) === 'true');
    assert.match(await describedBy(name), /already exists/);
    assert.equal(new URL(page.url()).pathname, '/templates/node-service');
  });

  it('creates the application and provisions its development environment with live progress', async () => {
    const form = page.getByRole('form', { name: /Create an application/ });
    await form.getByRole('textbox', { name: /^Name/ }).fill(app);
    await form.getByRole('button', { name: 'Create application' }).click();
    await page.waitForURL((u) => u.pathname === `/applications/default/${app}`);
    await page.getByRole('heading', { level: 1, name: app }).waitFor();

    // The apply streams into the log, then the resource is ready with its secret masked.
    const log = page.getByRole('log', { name: 'Apply progress of development' });
    await log.waitFor();
    await until('postgres is provisioning or ready in the log', async () => /postgres\s+(provisioning|ready)/.test(await log.innerText()), PROVISION_TIMEOUT);
    await until('postgres is ready', async () => (await resourceRow('postgres').getAttribute('data-status').catch(() => null)) === 'ready' && /ready/.test(await log.innerText()), PROVISION_TIMEOUT);
    await page.getByRole('status').filter({ hasText: 'development matches the application' }).waitFor();
    const row = resourceRow('postgres');
    await until('the outputs are listed', async () => /password/.test(await row.innerText()));
    const outputs = await row.innerText();
    assert.match(outputs, /password\s+\*{8}\s+secret/, outputs);
    assert.match(outputs, /host\s+127\.0\.0\.1/);
    assert.match(outputs, /local-postgres@r1/);
    const res = await server.api(`/api/v1/applications/${app}/environments/development/resources?reveal=true`);
    const password = String(((await res.json()) as { items: { outputs: Record<string, unknown> }[] }).items[0]?.outputs.password);
    assert.ok(password.length > 8 && !(await page.content()).includes(password), 'the password is not in the page');

    const golden = page.getByRole('region', { name: 'Golden path' });
    assert.equal(await golden.getByTestId('golden-template').innerText(), 'node-service@1.0.0');
    assert.match(await golden.getByRole('list', { name: 'Inputs' }).innerText(), /size = medium/);
    assert.match(await golden.getByTestId('addons-table').innerText(), /postgres@1\.0\.0/);
    await shot('application');
  });

  it('plans no changes, then adds Redis, plans its creation and applies it', async () => {
    await page.getByRole('button', { name: 'Plan development' }).click();
    const plan = page.getByRole('dialog', { name: 'Plan for development' });
    await plan.getByText('No changes', { exact: true }).waitFor();
    const actions = await plan.locator('[data-plan-resource]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-plan-resource')}:${e.getAttribute('data-action')}`));
    assert.deepEqual(actions, ['postgres:noop']);
    await shot('plan-noop', false);
    await plan.getByRole('button', { name: 'Close' }).click();
    await plan.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Add add-on' }).click();
    const add = page.getByRole('dialog', { name: 'Add an add-on' });
    await add.getByRole('combobox', { name: /^Add-on/ }).click();
    await page.getByRole('option', { name: /Redis/ }).click();
    await add.getByRole('combobox', { name: /^Size/ }).waitFor();
    await shot('add-addon', false);
    await add.getByRole('button', { name: 'Add add-on' }).click();
    await add.waitFor({ state: 'detached' });

    // Adding is followed by the plan: Redis is to be created, PostgreSQL stays.
    await plan.locator('[data-plan-resource="redis"]').waitFor();
    assert.equal(await plan.locator('[data-plan-resource="redis"]').getAttribute('data-action'), 'create');
    assert.equal(await plan.locator('[data-plan-resource="postgres"]').getAttribute('data-action'), 'noop');
    assert.match(await plan.getByRole('status', { name: 'Plan summary' }).innerText(), /1 to create/);
    await shot('plan-create', false);
    await plan.getByRole('button', { name: 'Apply 1 change' }).click();

    const log = page.getByRole('log', { name: 'Apply progress of development' });
    await until('redis is ready', async () => (await resourceRow('redis').getAttribute('data-status').catch(() => null)) === 'ready' && /redis\s+ready/.test(await log.innerText()), PROVISION_TIMEOUT);
    await page.getByRole('status').filter({ hasText: 'development matches the application' }).waitFor();
    await until('the outputs of redis are listed', async () => /password/.test(await resourceRow('redis').innerText()));
    assert.match(await resourceRow('redis').innerText(), /password\s+\*{8}\s+secret/);
    assert.equal(await resourceRow('postgres').getAttribute('data-status'), 'ready');

    const graph = page.getByTestId('resource-graph');
    await until('the graph shows both resources', async () => (await graph.locator('.react-flow__node').count()) === 2);
    assert.equal(await graph.locator('.react-flow__node > [data-status="ready"]').count(), 2, 'both nodes are ready (green)');
    assert.match(await page.getByTestId('addons-table').innerText(), /redis@1\.0\.0/);
    await shot('application-redis');
  });

  it('adds an environment, plans it, and deletes it', async () => {
    await page.getByRole('button', { name: 'Add environment' }).click();
    const add = page.getByRole('dialog', { name: 'Add an environment' });
    await add.getByRole('textbox', { name: /^Name/ }).fill('Staging!');
    await add.getByRole('button', { name: 'Add environment' }).click();
    assert.match(await describedBy(add.getByRole('textbox', { name: /^Name/ })), /lowercase letters/);
    await add.getByRole('textbox', { name: /^Name/ }).fill('staging');
    await add.getByRole('button', { name: 'Add environment' }).click();
    await add.waitFor({ state: 'detached' });

    // The new environment's plan: everything is to be created there.
    const plan = page.getByRole('dialog', { name: 'Plan for staging' });
    await plan.locator('[data-plan-resource]').first().waitFor();
    const actions = await plan.locator('[data-plan-resource]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-plan-resource')}:${e.getAttribute('data-action')}`));
    assert.deepEqual(actions.sort(), ['postgres:create', 'redis:create']);
    await plan.getByRole('button', { name: 'Cancel' }).click();
    await plan.waitFor({ state: 'detached' });

    await page.waitForURL((u) => u.searchParams.get('env') === 'staging');
    assert.equal(await page.getByRole('tab', { name: /staging/ }).getAttribute('aria-selected'), 'true');
    await page.getByText('Nothing is provisioned here yet').waitFor();
    await shot('staging');

    await page.getByRole('button', { name: 'Delete environment staging' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete environment staging?' });
    assert.ok(await confirm.getByRole('button', { name: 'Delete environment' }).isDisabled(), 'deleting waits for the name to be typed');
    await confirm.getByRole('textbox').fill('staging');
    await confirm.getByRole('button', { name: 'Delete environment' }).click();
    await confirm.waitFor({ state: 'detached' });
    await until('only development is left', async () => (await page.getByRole('tab').count()) === 1);
    assert.equal(await resourceRow('redis').getAttribute('data-status'), 'ready', 'development is untouched');
  });

  it('shows nothing extra for an application Pave does not manage', async () => {
    await page.goto(`/applications/default/${taken}`);
    await page.getByRole('heading', { level: 1, name: taken }).waitFor();
    await page.getByRole('region', { name: 'Relations graph' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Golden path' }).count(), 0);
    assert.equal(await page.getByRole('region', { name: 'Environments' }).count(), 0);
  });

  it('logged no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
