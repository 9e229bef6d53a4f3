/**
 * Deployments in the web portal, in a real browser (Debian's Chromium via playwright-core) against a
 * real server on the local process runtime: build the hello fixture from its folder with the log
 * streaming live, deploy and release it, set a config variable, deploy again, compare the two
 * deployments, roll back, and follow the live logs while a request goes through the router. Needs
 * `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page } from 'playwright-core';
import type { Deployment, EnvironmentStatus } from '../../src/contracts/deployments.ts';
import { HELLO, json, viaRouter } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { CHROMIUM, signedInPortal, PORTAL_INDEX, until } from '../support/browser.ts';

const TIMEOUT = 10_000;
/** Builds and deployments start real processes; give them more room than a page load. */
const WORK_TIMEOUT = 25_000;


describe('web portal: deployments', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const app = 'hello-portal';
  const team = 'web-team';
  const host = `${app}-development.localhost`;
  const SECRET = 'not-for-your-eyes-4242';
  const shot = (name: string, fullPage = true) => page.screenshot({ path: `/tmp/pave-portal-deploy-${name}.png`, fullPage });
  /** The Deployments section alone (the page above it is the catalog's), clipped from the whole page so the sticky header stays out. */
  async function shotSection(name: string): Promise<void> {
    await page.evaluate('window.scrollTo(0, 0)');
    const box = await page.getByRole('region', { name: 'Deployments' }).boundingBox();
    if (!box) return;
    await page.screenshot({ path: `/tmp/pave-portal-deploy-${name}.png`, fullPage: true, clip: box });
  }
  const card = () => page.getByTestId('env-card-development');
  const outcome = () => page.getByTestId('operation-outcome');
  const history = () => page.getByTestId('deployments-history');
  const released = async () => (await json<EnvironmentStatus>(await server.api(`/api/v1/applications/${app}/environments/development/status`), 200)).released;

  /** Switches the Deployments section to a view: History, Live logs, Config or Builds. */
  async function showView(name: string | RegExp): Promise<void> {
    const view = page.getByTestId('deployments-view');
    // The radio inputs of a segmented control are hidden under their labels: click the label.
    await view.locator('label', { hasText: name }).click();
    assert.ok(await view.getByRole('radio', { name }).isChecked(), `the ${String(name)} view is chosen`);
  }
  /** Waits for the action going on to finish, and says how it ended. */
  async function finished(): Promise<{ ok: boolean; text: string }> {
    await until('the action finished', async () => (await page.getByTestId('operation-log').getAttribute('data-running').catch(() => null)) === 'false', WORK_TIMEOUT);
    const o = outcome();
    if ((await o.count()) === 0) return { ok: false, text: await page.getByTestId('operation-log').innerText() };
    return { ok: (await o.getAttribute('data-ok')) === 'true', text: await o.innerText() };
  }

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) {
      throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    }
    server = await startTestServer();
    await json(await server.api('/api/v1/teams', { method: 'POST', json: { name: team, title: 'Web', members: ['admin'] } }), 201);
    await json(await server.api('/api/v1/applications', { method: 'POST', json: { name: app, owner: team, template: 'node-service' } }), 201);

    ({ browser, page } = await signedInPortal(server, { timeout: TIMEOUT, errors: pageErrors }));
    await page.goto(`/applications/default/${app}`);
    await page.getByRole('heading', { level: 1, name: app }).waitFor();
    await page.getByRole('region', { name: 'Deployments' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the empty environment, then builds from a folder with the log streaming live', async () => {
    assert.equal(await card().getAttribute('data-status'), 'empty');
    assert.match(await card().innerText(), /Nothing released yet/);
    assert.ok(await page.getByRole('button', { name: 'Roll back development' }).isDisabled(), 'nothing to roll back yet');

    await page.getByTestId('build-button').click();
    const dialog = page.getByRole('dialog', { name: `Build ${app}` });
    await dialog.getByRole('textbox', { name: 'Folder' }).fill(HELLO);
    await dialog.getByRole('button', { name: 'Start build' }).click();
    await dialog.waitFor({ state: 'detached' });

    const log = page.getByRole('log', { name: `Progress: Build from ${HELLO}` });
    await log.waitFor();
    await until('the build log shows the detection', async () => /detected:/.test(await log.innerText()), WORK_TIMEOUT);
    const end = await finished();
    assert.ok(end.ok, end.text);
    assert.match(end.text, /Build #1 succeeded/);
    assert.match(await log.innerText(), /artifact sha256:[0-9a-f]+ ready/);

    await showView(/Builds/);
    const row = page.getByTestId('builds-table').locator('tr[data-build="1"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'succeeded');
    assert.match(await row.innerText(), /web: node server\.js/);
  });

  it('deploys and releases the build: the environment runs, with a URL the router answers', async () => {
    await page.getByRole('button', { name: 'Deploy to development' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deploy to development' });
    assert.match(await dialog.getByTestId('deploy-build').inputValue(), /^#1 /);
    assert.ok(await dialog.getByRole('checkbox', { name: /Release when healthy/ }).isChecked());
    await dialog.getByRole('button', { name: 'Deploy and release' }).click();
    await dialog.waitFor({ state: 'detached' });

    const end = await finished();
    assert.ok(end.ok, end.text);
    assert.match(end.text, /Deployment #1 is healthy and released/);
    const log = await page.getByRole('log', { name: /Progress: Deploy build #1 to development/ }).innerText();
    for (const step of ['starting', 'health', 'healthy', 'released']) assert.match(log, new RegExp(step));

    await until('the card shows development running', async () => (await card().getAttribute('data-status')) === 'running');
    assert.match(await card().getByTestId('env-url').innerText(), new RegExp(`^http://${host}:\\d+`));
    assert.match(await card().getByTestId('env-released').innerText(), /Released #1 · build #1/);
    assert.match(await card().getByTestId('env-processes').innerText(), /web\.0\s+running\s+0 restarts/);

    const first = await released();
    const res = await viaRouter(server.routerUrl, host);
    assert.equal(res.status, 200);
    assert.equal(res.body, `hello from ${first?.id}\n`);
    await shot('released');
    await shotSection('released-section');
  });

  it('sets a config variable, deploys again, and shows both deployments in the history', async () => {
    await showView('Config');
    const config = page.getByTestId('config-panel');
    await config.waitFor();
    await config.getByRole('textbox', { name: 'Name' }).fill('GREETING');
    await config.getByRole('textbox', { name: 'Value' }).fill('bonjour');
    await config.getByRole('button', { name: 'Set variable' }).click();
    const row = config.getByTestId('config-variables').locator('tr[data-variable="GREETING"]');
    await row.waitFor();
    assert.match(await row.innerText(), /bonjour/);
    await config.getByRole('status').filter({ hasText: 'Not deployed yet' }).waitFor();
    // A secret: stored encrypted, shown masked everywhere.
    await config.getByRole('textbox', { name: 'Name' }).fill('API_KEY');
    await config.getByLabel('Value').fill(SECRET);
    await config.getByRole('checkbox', { name: /Secret/ }).check();
    await config.getByRole('button', { name: 'Set variable' }).click();
    const secretRow = config.getByTestId('config-variables').locator('tr[data-variable="API_KEY"]');
    await secretRow.waitFor();
    assert.equal(await secretRow.getAttribute('data-secret'), 'true');
    assert.match(await secretRow.innerText(), /\*{8}/);
    assert.ok(!(await page.content()).includes(SECRET), 'the secret is not in the page');
    await config.getByTestId('config-history').locator('li[data-version="2"]').waitFor();
    await shotSection('config');

    await page.getByRole('button', { name: 'Deploy to development' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deploy to development' });
    await dialog.getByRole('button', { name: 'Deploy and release' }).click();
    const end = await finished();
    assert.ok(end.ok, end.text);
    assert.match(end.text, /Deployment #2 is healthy and released/);
    const second = await released();
    assert.equal(second?.number, 2);
    assert.equal((await viaRouter(server.routerUrl, host)).body, `bonjour from ${second?.id}\n`);
    assert.equal(JSON.parse((await viaRouter(server.routerUrl, host, '/env')).body).API_KEY, SECRET, 'the process got the secret');

    await showView('History');
    await until('the history lists two deployments', async () => (await history().locator('tr[data-deployment]').count()) === 2);
    assert.equal(await history().locator('tr[data-deployment="2"]').getAttribute('data-released'), 'true');
    assert.equal(await history().locator('tr[data-deployment="1"]').getAttribute('data-released'), 'false');
    assert.match(await history().locator('tr[data-deployment="2"]').innerText(), /healthy[\s\S]*v2/);
    assert.ok(await page.getByRole('button', { name: 'Release deployment 1' }).isVisible(), 'the older healthy deployment can be released');
  });

  it('compares the two deployments: GREETING changed, same build', async () => {
    await page.getByRole('checkbox', { name: 'Select deployment 1 to compare' }).check();
    await page.getByRole('checkbox', { name: 'Select deployment 2 to compare' }).check();
    await page.getByTestId('compare-deployments').click();
    const dialog = page.getByRole('dialog', { name: 'Changes from development/1 to development/2' });
    const diff = dialog.getByTestId('deployment-diff');
    await diff.waitFor();
    const greeting = diff.getByTestId('diff-variables').locator('tr[data-variable="GREETING"]');
    await greeting.waitFor();
    assert.match(await greeting.getAttribute('data-change') ?? '', /^(added|changed)$/);
    assert.match(await greeting.innerText(), /bonjour/);
    assert.equal(await diff.getByTestId('diff-build').getAttribute('data-changed'), 'false');
    assert.match(await diff.innerText(), /v0 → v2/);
    const apiKey = diff.getByTestId('diff-variables').locator('tr[data-variable="API_KEY"]');
    // masked as the API masks it (the diff masks with asterisks, the config view with bullets)
    assert.match(await apiKey.innerText(), /secret[\s\S]*added[\s\S]*(\*{8}|•{8})/);
    assert.ok(!(await page.content()).includes(SECRET), 'the secret is not in the diff');
    await shot('diff', false);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('rolls back to the first deployment: the router answers the old greeting', async () => {
    const first = (await json<{ items: Deployment[] }>(await server.api(`/api/v1/applications/${app}/environments/development/deployments`), 200)).items.find((d) => d.number === 1);
    await page.getByRole('button', { name: 'Roll back development' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back development' });
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    const end = await finished();
    assert.ok(end.ok, end.text);
    assert.match(end.text, /Rolled back to deployment #1 of development/);
    assert.equal((await viaRouter(server.routerUrl, host)).body, `hello from ${first?.id}\n`);
    await until('the history marks #1 released', async () => (await history().locator('tr[data-deployment="1"]').getAttribute('data-released')) === 'true');
    await until('the card shows #1 released', async () => /Released #1/.test(await card().getByTestId('env-released').innerText()));
  });

  it('follows the live logs: a request through the router shows up', async () => {
    await showView('Live logs');
    const logs = page.getByRole('log', { name: 'Logs of development' });
    await logs.waitFor();
    await until('the log stream is following', async () => (await page.getByTestId('live-logs').getAttribute('data-state')) === 'following');
    const marker = `/portal-live-${Date.now()}`;
    assert.equal((await viaRouter(server.routerUrl, host, marker)).status, 200);
    await until('the request is in the live logs', async () => (await logs.innerText()).includes(`GET ${marker}`));
    const line = logs.locator('.pave-log-line', { hasText: `GET ${marker}` });
    assert.match(await line.innerText(), /#1\s+web\.0\s+GET \/portal-live-/);
    await shotSection('logs');
  });

  it('releases a warm deployment from the history', async () => {
    await showView('History');
    await page.getByRole('button', { name: 'Release deployment 2' }).click();
    const end = await finished();
    assert.ok(end.ok, end.text);
    assert.match(end.text, /Released deployment #2 of development[\s\S]*still running, so the switch was instant/);
    assert.match((await viaRouter(server.routerUrl, host)).body, /^bonjour from /);
    await until('the history marks #2 released', async () => (await history().locator('tr[data-deployment="2"]').getAttribute('data-released')) === 'true');
  });

  it('shows a failed deployment with its error and last log lines, and what served keeps serving', async () => {
    await showView('Config');
    const config = page.getByTestId('config-panel');
    await config.getByRole('textbox', { name: 'Name' }).fill('CRASH');
    await config.getByLabel('Value').fill('1');
    await config.getByRole('button', { name: 'Set variable' }).click();
    await config.getByTestId('config-variables').locator('tr[data-variable="CRASH"]').waitFor();

    await page.getByRole('button', { name: 'Deploy to development' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deploy to development' });
    await dialog.getByRole('checkbox', { name: /Release when healthy/ }).uncheck();
    await dialog.getByRole('button', { name: /^Deploy$/ }).click();
    const end = await finished();
    assert.ok(!end.ok, end.text);
    assert.match(end.text, /Deployment #3 failed[\s\S]*keeps serving[\s\S]*crashing on purpose/);
    assert.match((await viaRouter(server.routerUrl, host)).body, /^bonjour from /, 'the released deployment still serves');

    await showView('History');
    const row = history().locator('tr[data-deployment="3"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'failed');
    assert.equal(await page.getByRole('button', { name: 'Release deployment 3' }).count(), 0, 'a failed deployment cannot be released');
    await page.getByRole('button', { name: 'Show details of deployment 3' }).click();
    const details = history().locator('tr[data-details-of="3"]');
    assert.match(await details.innerText(), /Error:[\s\S]*crashing on purpose/);
    await shotSection('failed');

    // Removing the variable again: the next deployment would not crash.
    await showView('Config');
    await page.getByRole('button', { name: 'Remove CRASH' }).click();
    await until('CRASH is removed', async () => (await page.getByTestId('config-variables').locator('tr[data-variable="CRASH"]').count()) === 0);
    assert.equal(await page.getByTestId('config-panel').getAttribute('data-version'), '4');
  });

  it('promotes the build released in development to a new staging environment', async () => {
    await json(await server.api(`/api/v1/applications/${app}/environments`, { method: 'POST', json: { name: 'staging', type: 'staging' } }), 201);
    const staging = page.getByTestId('env-card-staging');
    await staging.waitFor(); // the status poll finds it
    assert.equal(await staging.getAttribute('data-status'), 'empty');
    assert.ok(await staging.getByRole('button', { name: 'Promote staging to…' }).isDisabled(), 'nothing released in staging to promote');

    await page.getByRole('button', { name: 'Promote development to…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote development' });
    assert.match(await dialog.innerText(), /deployment #2 \(build #1\)/);
    assert.equal(await dialog.getByRole('combobox', { name: 'Target environment' }).inputValue(), 'staging');
    await dialog.getByRole('button', { name: 'Promote to staging' }).click();
    const end = await finished();
    assert.ok(end.ok, end.text);
    assert.match(end.text, /Deployment #1 is healthy and released[\s\S]*staging now serves build #1/);
    await until('the staging card shows running', async () => (await staging.getAttribute('data-status')) === 'running');
    // Staging's own config: no GREETING there.
    assert.match((await viaRouter(server.routerUrl, `${app}-staging.localhost`)).body, /^hello from /);
    await page.getByTestId('deployments-env').locator('label', { hasText: 'staging' }).waitFor();
    await showView('History');
    await until('the history shows staging', async () => (await history().locator('tr[data-deployment]').count()) === 1);
    assert.match(await history().locator('tr[data-deployment="1"]').innerText(), /promoted from development\/2/);
    await shotSection('promoted');
  });

  it('logged no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
