/**
 * Golden actions in the web portal, in a real browser (Debian's Chromium via playwright-core) against a
 * real server on the local process runtime: the hello fixture built and released in development and
 * production; the Actions section lists what the node-service template offers; scale runs from the
 * generated form (an out-of-range value is refused on its field first), a smoke test fails with the
 * status it got, a long request is cancelled, seed is disabled in production and migrate there waits
 * for the environment's name to be typed, then streams its output; the recent runs show them all.
 * Also, without a browser, the form logic the dialog is built on. Needs `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page } from 'playwright-core';
import { needsConfirmation, notAllowedReason, parameterFields, splitOutputLine, timeoutLabel } from '../../portal/src/api/actionParams.ts';
import { checkFields, defaultValues, problemFieldErrors, toInputs } from '../../portal/src/api/inputs.ts';
import type { ActionRun } from '../../src/contracts/actions.ts';
import type { EnvironmentStatus } from '../../src/contracts/deployments.ts';
import { envBase, HELLO, json } from '../deployments/helpers.ts';
import { CHROMIUM, signedInPortal, PORTAL_INDEX, until } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('action forms (no browser)', () => {
  const schema = {
    type: 'object',
    required: ['replicas'],
    properties: {
      replicas: { type: 'integer', title: 'Replicas', minimum: 1, maximum: 10 },
      path: { type: 'string', pattern: '^/', default: '/healthz' },
      token: { type: 'string', writeOnly: true },
      password: { type: 'string', format: 'password' },
      mode: { enum: ['fast', 'safe'], default: 'safe' },
    },
  };

  it('turns the parameters schema into the gallery\'s typed fields, secrets marked', () => {
    const fields = parameterFields(schema);
    assert.deepEqual(fields.map((f) => [f.name, f.type, f.title, f.required, f.secret]), [
      ['replicas', 'integer', 'Replicas', true, false],
      ['path', 'string', 'Path', false, false],
      ['token', 'string', 'Token', false, true],
      ['password', 'string', 'Password', false, true],
      ['mode', 'string', 'Mode', false, false],
    ]);
    assert.equal(fields.find((f) => f.name === 'password')?.format, undefined, 'the password box says it; no format hint');
    assert.deepEqual(parameterFields({}), []);
    const values = defaultValues(fields);
    assert.deepEqual(values, { replicas: '', path: '/healthz', token: '', password: '', mode: 'safe' });
    assert.deepEqual(checkFields(fields, values, 'params'), { 'params.replicas': 'is required' });
    assert.deepEqual(checkFields(fields, { ...values, replicas: 0, path: 'x' }, 'params'), { 'params.replicas': 'must be at least 1', 'params.path': 'must match ^/' });
    assert.deepEqual(toInputs(fields, { ...values, replicas: 2 }), { replicas: 2, path: '/healthz', mode: 'safe' });
  });

  it('maps the server\'s field errors (body.params.x) onto the fields', () => {
    const fields = parameterFields(schema);
    const problem = { type: 'about:blank', title: 'Bad Request', status: 400, errors: [{ path: 'body.params.replicas', message: 'must be >= 1' }, { path: 'body.params.nope', message: 'unknown' }] };
    const mapped = problemFieldErrors(problem, (p) => fields.some((f) => `params.${f.name}` === p));
    assert.deepEqual(mapped.fields, { 'params.replicas': 'must be >= 1' });
    assert.deepEqual(mapped.other, ['body.params.nope: unknown']);
  });

  it('asks for confirmation where the action says, and says where a disallowed action may run', () => {
    assert.equal(needsConfirmation({ confirm: 'production' }, 'production'), true);
    assert.equal(needsConfirmation({ confirm: 'production' }, 'development'), false);
    assert.equal(needsConfirmation({ confirm: 'always' }, 'development'), true);
    assert.equal(needsConfirmation({ confirm: 'never' }, 'production'), false);
    assert.equal(notAllowedReason({ allowedHere: false, environments: ['development', 'preview'] }), 'Only in development, preview');
    assert.equal(notAllowedReason({ allowedHere: true, environments: ['development'] }), null);
    assert.deepEqual(splitOutputLine('2026-01-02T03:04:05.000Z migrate: done'), { ts: '2026-01-02T03:04:05.000Z', line: 'migrate: done' });
    assert.deepEqual(splitOutputLine('no time here'), { ts: '', line: 'no time here' });
    assert.deepEqual([30, 90, 600, 7200].map(timeoutLabel), ['30 s', '90 s', '10 min', '2 h']);
  });
});

const TIMEOUT = 10_000;
/** Lifecycle actions deploy again; commands start npm: give them more room than a page load. */
const WORK_TIMEOUT = 25_000;

describe('web portal: golden actions', { timeout: 90_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const app = 'hello-actions';
  const team = 'ops-team';
  const section = () => page.getByTestId('actions-section');
  const panel = () => page.getByTestId('action-run');
  const shot = (name: string, fullPage = true) => page.screenshot({ path: `/tmp/pave-portal-actions-${name}.png`, fullPage });
  /** The Actions section alone, clipped from the whole page. */
  async function shotSection(name: string): Promise<void> {
    await page.evaluate('window.scrollTo(0, 0)');
    const box = await page.getByRole('region', { name: 'Actions', exact: true }).boundingBox();
    if (box) await page.screenshot({ path: `/tmp/pave-portal-actions-${name}.png`, fullPage: true, clip: box });
  }
  async function chooseEnv(env: string): Promise<void> {
    const control = page.getByTestId('actions-env');
    await control.locator('label', { hasText: env }).click();
    assert.ok(await control.getByRole('radio', { name: env }).isChecked(), `${env} is chosen`);
    await section().getByRole('region', { name: `Actions in ${env}` }).getByTestId('actions-list').waitFor();
  }
  /** Opens the Run dialog of an action in the chosen environment. */
  async function openRun(key: string, dialogName: string) {
    await section().getByTestId(`run-${key}`).click();
    const dialog = page.getByRole('dialog', { name: dialogName });
    await dialog.waitFor();
    return dialog;
  }
  /** Waits until the followed run ended and everything about it is in; its status and what the panel says. */
  async function ended(action: string): Promise<{ status: string; text: string }> {
    await until(`the ${action} run ended`, async () => (await panel().getAttribute('data-action')) === action && (await panel().getAttribute('data-settled')) === 'true', WORK_TIMEOUT);
    return { status: (await panel().getAttribute('data-status')) ?? '', text: await panel().innerText() };
  }

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    server = await startTestServer();
    await json(await server.api('/api/v1/teams', { method: 'POST', json: { name: team, title: 'Ops', members: ['admin'] } }), 201);
    await json(
      await server.api('/api/v1/applications', {
        method: 'POST',
        json: { name: app, owner: team, template: 'node-service', environments: [{ name: 'development', type: 'development' }, { name: 'production', type: 'production' }] },
      }),
      201,
    );
    await json(await server.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { path: HELLO } }), 201);
    await Promise.all(['development', 'production'].map(async (env) => json(await server.api(`${envBase(app, env)}/deployments`, { method: 'POST', json: { release: true } }), 201)));

    ({ browser, page } = await signedInPortal(server, { timeout: TIMEOUT, errors: pageErrors }));
    await page.goto(`/applications/default/${app}`);
    await page.getByRole('heading', { level: 1, name: app }).waitFor();
    await page.getByRole('region', { name: 'Actions', exact: true }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists what the template offers in development, with kind and source', async () => {
    const list = section().getByRole('region', { name: 'Actions in development' }).getByTestId('actions-list');
    await list.waitFor();
    for (const key of ['migrate', 'seed', 'smoke-test', 'restart', 'scale', 'rollback']) {
      assert.equal(await list.getByTestId(`action-${key}`).getAttribute('data-allowed'), 'true', `${key} may run in development`);
    }
    const scale = list.getByTestId('action-scale');
    assert.equal(await scale.getByTestId('action-kind').innerText(), 'lifecycle');
    assert.match(await scale.getByTestId('action-source').innerText(), /template node-service@1\.0\.0/);
    assert.match(await scale.innerText(), /Sets how many web replicas/);
    assert.equal(await list.getByTestId('action-smoke-test').getByTestId('action-kind').innerText(), 'http');
    assert.equal(await list.getByTestId('action-migrate').getByTestId('action-kind').innerText(), 'command');
    await shotSection('list');
  });

  it('scales from the generated form: 0 is refused on the field, 2 runs and the environment runs two processes', async () => {
    const dialog = await openRun('scale', 'Run Scale in development');
    const replicas = dialog.getByRole('textbox', { name: 'Replicas' });
    assert.ok(await replicas.getAttribute('required') !== null || (await replicas.getAttribute('aria-required')) === 'true', 'replicas is marked required');
    assert.equal(await dialog.getByTestId('confirm-input').count(), 0, 'no confirmation in development');
    await replicas.fill('0');
    await dialog.getByTestId('run-submit').click();
    await until('the field shows the error', async () => (await replicas.getAttribute('aria-invalid')) === 'true');
    assert.match(await dialog.innerText(), /must be at least 1/);
    await shot('scale-invalid', false);

    await replicas.fill('2');
    assert.doesNotMatch(await dialog.innerText(), /must be at least 1/, 'editing the field clears its error');
    await dialog.getByTestId('run-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await panel().waitFor();
    assert.ok(await section().getByRole('button', { name: 'Run database migrations' }).isDisabled(), 'other runs wait while one is followed');
    const end = await ended('scale');
    assert.equal(end.status, 'succeeded', end.text);
    assert.match(await page.getByTestId('run-outcome').innerText(), /Scale succeeded/);
    const st = await json<EnvironmentStatus>(await server.api(`${envBase(app, 'development')}/status`), 200);
    assert.equal(st.released?.processes.length, 2, JSON.stringify(st.released?.processes));
  });

  it('runs a smoke test of /status/503: it fails, and says 503', async () => {
    const dialog = await openRun('smoke-test', 'Run Smoke test in development');
    const path = dialog.getByRole('textbox', { name: 'Path' });
    assert.equal(await path.inputValue(), '/healthz', 'the default is filled in');
    await path.fill('/status/503');
    await dialog.getByTestId('run-submit').click();
    await dialog.waitFor({ state: 'detached' });
    const end = await ended('smoke-test');
    assert.equal(end.status, 'failed', end.text);
    const outcome = page.getByTestId('run-outcome');
    assert.equal(await outcome.getAttribute('data-status'), 'failed');
    assert.match(await outcome.innerText(), /503/);
    await shotSection('smoke-failed');
  });

  it('cancels a run that takes its time', async () => {
    const dialog = await openRun('smoke-test', 'Run Smoke test in development');
    await dialog.getByRole('textbox', { name: 'Path' }).fill('/slow?ms=20000');
    await dialog.getByTestId('run-submit').click();
    await dialog.waitFor({ state: 'detached' });
    const cancel = panel().getByTestId('cancel-run');
    await cancel.waitFor();
    await until('the run is running', async () => (await panel().getAttribute('data-status')) === 'running');
    // the request line arrives through the live stream, long before the run could end on its own
    const log = panel().getByRole('log', { name: 'Output of Smoke test in development' });
    await until('the output streams the request', async () => /GET http:\/\/\S+\/slow/.test(await log.innerText()));
    assert.equal(await panel().getAttribute('data-settled'), 'false');
    await cancel.click();
    const end = await ended('smoke-test');
    assert.equal(end.status, 'cancelled', end.text);
    assert.match(await page.getByTestId('run-outcome').innerText(), /cancelled by user:default\/admin/);
    assert.equal(await panel().getByTestId('cancel-run').count(), 0, 'no Cancel once it ended');
  });

  it('in production, seed is disabled and migrate waits for "production" to be typed, then streams its output', async () => {
    await chooseEnv('production');
    const list = section().getByRole('region', { name: 'Actions in production' }).getByTestId('actions-list');
    const seed = list.getByTestId('action-seed');
    assert.equal(await seed.getAttribute('data-allowed'), 'false');
    assert.match(await seed.getByTestId('action-not-allowed').innerText(), /only in development, preview/i);
    assert.ok(await list.getByRole('button', { name: 'Run Load test data' }).isDisabled(), 'seed cannot be run in production');
    assert.match(await list.getByTestId('action-migrate').innerText(), /asks to confirm/);

    const dialog = await openRun('migrate', 'Run database migrations in production');
    const run = dialog.getByTestId('run-submit');
    const confirm = dialog.getByRole('textbox', { name: 'Type production to confirm' });
    assert.ok(await run.isDisabled(), 'Run is disabled until the name is typed');
    await confirm.fill('prod');
    assert.ok(await run.isDisabled(), 'a part of the name is not enough');
    await confirm.fill('production');
    assert.ok(await run.isEnabled(), 'the name typed enables Run');
    await shot('confirm', false);
    await run.click();
    await dialog.waitFor({ state: 'detached' });

    const log = page.getByRole('log', { name: 'Output of Run database migrations in production' });
    await log.waitFor();
    await until('the output shows "migrate: done"', async () => (await log.innerText()).includes('migrate: done'), WORK_TIMEOUT);
    const end = await ended('migrate');
    assert.equal(end.status, 'succeeded', end.text);
    assert.match(await log.innerText(), /migrate: starting[\s\S]*migrate: done/);
    await shotSection('migrate-production');
  });

  it('lists the recent runs, newest first, and opens one to its parameters and output', async () => {
    const table = page.getByTestId('recent-runs');
    await until('the recent runs list the four runs', async () => (await table.locator('tr[data-run]').count()) === 4);
    const rows = table.locator('tr[data-run]');
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(`${await rows.nth(i).getAttribute('data-action')}:${await rows.nth(i).getAttribute('data-environment')}:${await rows.nth(i).getAttribute('data-status')}`);
    assert.deepEqual(seen, ['migrate:production:succeeded', 'smoke-test:development:cancelled', 'smoke-test:development:failed', 'scale:development:succeeded']);
    assert.match(await rows.nth(3).innerText(), /Scale[\s\S]*development[\s\S]*admin[\s\S]*(ago|just now)[\s\S]*(ms|s)/);

    const runs = await json<{ items: ActionRun[] }>(await server.api(`/api/v1/applications/${app}/runs`), 200);
    const failed = runs.items.find((r) => r.status === 'failed')!;
    const row = table.locator(`tr[data-run="${failed.id}"]`);
    await row.getByRole('button', { name: /^Show details of Smoke test in development/ }).click();
    const details = table.locator(`tr[data-details-of="${failed.id}"]`);
    assert.match(await details.innerText(), /path\s*=\s*\/status\/503/);
    assert.match(await details.innerText(), /Error:[\s\S]*503/);
    assert.match(await details.getByRole('log').innerText(), /503/);
    await shotSection('recent-runs');
  });

  it('logged no errors in the browser', () => {
    assert.deepEqual(pageErrors, []);
  });
});
