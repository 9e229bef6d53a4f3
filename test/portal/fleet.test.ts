/**
 * The fleet in the web portal, in a real browser (Debian's Chromium via playwright-core) against a
 * real server with real applications: a template `svc` published in 1.0.0 and 2.0.0 (and a policy
 * that denies volumes to blocked-* applications), five applications on 1.0.0 (one deployed with the
 * hello fixture) and one on 2.0.0. The version spread chart and the drill-down, pinning from the
 * application's page (the server's field error on an empty reason, then the pin in the fleet view), a
 * plan with its diff and its exclusions, and an upgrade applied in waves, paused and resumed in the
 * live view until it succeeds. Needs `npm run build:portal` first.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Locator, type Page } from 'playwright-core';
import type { FleetPlan } from '../../src/contracts/fleet.ts';
import { json, viaRouter } from '../deployments/helpers.ts';
import { BLOCK_POLICY, fleetPlatform, V2, type FleetPlatform } from '../fleet/platform.ts';
import { createApp, deployEverywhere } from '../fleet/support.ts';
import { CHROMIUM, PORTAL_INDEX, signedInPortal, until } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { newInputs, parseLabelTags } from '../../portal/src/components/fleet/planInputs.ts';
import { spreadSegments } from '../../portal/src/components/fleet/spread.ts';

const TIMEOUT = 10_000;
/** An upgrade redeploys a real process; give it more room than a page load. */
const WORK_TIMEOUT = 30_000;

/** What the browser side of evaluateAll may call (the tests' tsconfig has no DOM types). */
type El = { getAttribute(name: string): string | null };

/** An attribute of every element a locator matches now, in order (at once: no waiting on rows a re-render removed). */
function attrs(l: Locator, name: string): Promise<(string | null)[]> {
  return l.evaluateAll((els, n) => els.map((e) => (e as unknown as El).getAttribute(n)), name);
}
/** Several attributes of every element a locator matches now. */
function rowsOf(l: Locator, names: string[]): Promise<(string | null)[][]> {
  return l.evaluateAll((els, ns) => els.map((e) => ns.map((n) => (e as unknown as El).getAttribute(n))), names);
}

describe('web portal: fleet', { timeout: 120_000 }, () => {
  let server: TestServer;
  let platform: FleetPlatform;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const REASON = 'waiting for the Q3 freeze';
  let danaToken = '';
  const shot = (name: string) => page.screenshot({ path: `/tmp/pave-portal-fleet-${name}.png`, fullPage: true });
  const templateVersion = async (app: string) => (await json<{ template: { version: string } }>(await server.api(`/api/v1/applications/${app}/golden-path`), 200)).template.version;
  const bar = (version: string) => page.getByTestId('fleet-spread-chart').locator(`g[data-pattern="svc"] rect[data-version="${version}"]`);
  const drillRows = () => page.getByTestId('fleet-applications').locator('tbody tr');
  const drillNames = async () => (await attrs(drillRows(), 'data-application')).sort();
  /** Waits until the drill-down shows the answer to the filters now in the URL. */
  async function drillSettled(names: string[]): Promise<void> {
    const want = JSON.stringify([...names].sort());
    await until(`the drill-down lists ${names.join(', ')}`, async () => JSON.stringify(await drillNames().catch(() => [])) === want).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; at ${page.url()} it lists ${JSON.stringify(await drillNames().catch(() => []))}`);
    });
  }

  before(async () => {
    if (!existsSync(PORTAL_INDEX)) throw new Error(`the portal is not built (${PORTAL_INDEX} is missing): run "npm run build:portal" before this test`);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set PAVE_CHROMIUM)`);
    platform = fleetPlatform();
    server = await startTestServer({ platform: platform.dir, deployments: { keepWarm: 1, healthTimeout: 10 } });
    await json(await server.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a', members: ['admin'] } }), 201);
    // dana, a developer of team-b only (gamma's team)
    await json(await server.api('/api/v1/users', { method: 'POST', json: { name: 'dana' } }), 201);
    await json(await server.api('/api/v1/teams', { method: 'POST', json: { name: 'team-b', members: ['dana'] } }), 201);
    danaToken = (await json<{ token: string }>(await server.api('/api/v1/users/dana/tokens', { method: 'POST', json: { name: 'portal' } }), 201)).token;
    await createApp(server, 'alpha', ['development']);
    await createApp(server, 'beta', ['development', 'production']);
    await createApp(server, 'gamma', ['development'], { owner: 'team-b' });
    await createApp(server, 'blocked-one', ['development']);
    await createApp(server, 'pinme', ['development']);
    // alpha serves the fixture app, so its upgrade redeploys it; SLOW_START makes that take long enough to pause
    await json(await server.api('/api/v1/applications/alpha/environments/development/config', { method: 'PATCH', json: { set: { SLOW_START: '3000' } } }), 200);
    await deployEverywhere(server, 'alpha', ['development']);
    platform.write('svc-2.0.0.yaml', V2);
    platform.write('policy.yaml', BLOCK_POLICY);
    assert.equal((await server.api('/api/v1/platform/sync', { method: 'POST' })).status, 200);
    await createApp(server, 'fresh', ['development'], { templateVersion: '2.0.0' });

    ({ browser, page } = await signedInPortal(server, { timeout: TIMEOUT, errors: pageErrors }));
  });

  after(async () => {
    await browser?.close();
    await server?.services.fleet.idle();
    await server?.close();
    platform?.remove();
  });

  it('shows the version spread per template: applications and environments per version, the latest highlighted', async () => {
    await page.getByRole('link', { name: /Fleet/ }).click();
    await page.waitForURL((u) => u.pathname === '/fleet');
    await page.getByRole('heading', { level: 1, name: 'Fleet' }).waitFor();
    await bar('1.0.0').waitFor();
    const row = page.getByTestId('fleet-spread-chart').locator('g[data-pattern="svc"]');
    assert.equal(await row.getAttribute('data-total'), '6');
    assert.equal(await row.getAttribute('data-behind'), '5');
    assert.equal(await bar('1.0.0').getAttribute('data-value'), '5');
    assert.equal(await bar('1.0.0').getAttribute('data-latest'), 'false');
    assert.equal(await bar('2.0.0').getAttribute('data-value'), '1');
    assert.equal(await bar('2.0.0').getAttribute('data-latest'), 'true');
    assert.match((await row.textContent()) ?? '', /5 of 6 behind/);
    // the add-on nobody uses yet
    assert.match((await page.getByTestId('fleet-spread-chart').locator('g[data-pattern="scratch"]').textContent()) ?? '', /not in use/);
    // the same by environments: alpha, beta (2), gamma, blocked-one, pinme on 1.0.0; fresh on 2.0.0
    await page.getByTestId('fleet-measure').locator('label', { hasText: 'Environments' }).click();
    await until('the chart counts environments', async () => (await bar('1.0.0').getAttribute('data-value')) === '6');
    assert.equal(await bar('2.0.0').getAttribute('data-value'), '1');

    const svc = page.getByTestId('fleet-patterns').locator('tr[data-pattern="svc"]');
    assert.deepEqual(await rowsOf(svc, ['data-applications', 'data-environments', 'data-behind', 'data-pins']), [['6', '7', '5', '0']]);
    assert.equal(await page.getByTestId('fleet-total-behind-value').innerText(), '5');
    await shot('overview');
  });

  it('drills down to the applications on a version, by team, environment type and behind', async () => {
    await bar('1.0.0').click();
    await page.getByTestId('fleet-pattern').waitFor();
    await until('the URL names the version', async () => new URL(page.url()).searchParams.get('version') === '1.0.0');
    await drillSettled(['alpha', 'beta', 'blocked-one', 'gamma', 'pinme']);
    const versions = page.getByTestId('fleet-versions');
    assert.deepEqual(
      await rowsOf(versions.locator('tbody tr'), ['data-version', 'data-applications', 'data-environments', 'data-latest']),
      [
        ['2.0.0', '1', '1', 'true'],
        ['1.0.0', '5', '6', 'false'],
      ],
    );

    await page.getByTestId('drill-team').fill('team-b');
    await page.getByTestId('drill-team').press('Enter');
    await drillSettled(['gamma']);
    assert.match(await drillRows().first().innerText(), /team-b[\s\S]*1\.0\.0[\s\S]*latest 2\.0\.0/);
    await page.getByTestId('drill-team').fill('');
    await page.getByTestId('drill-team').press('Enter');
    await page.getByTestId('drill-env-type').selectOption('production');
    await drillSettled(['beta']);
    await page.getByTestId('drill-env-type').selectOption('');
    await page.getByTestId('drill-version').selectOption('');
    await page.getByTestId('drill-behind').locator('label', { hasText: 'Up to date' }).click();
    await drillSettled(['fresh']);
    assert.equal(await drillRows().first().getAttribute('data-behind'), 'false');
    await page.getByTestId('drill-behind').locator('label', { hasText: 'Behind' }).click();
    await drillSettled(['alpha', 'beta', 'blocked-one', 'gamma', 'pinme']);
  });

  it('pins an application from its page (a reason is required), and the fleet view shows the pin', async () => {
    await page.goto('/applications/default/pinme');
    const section = page.getByRole('region', { name: 'Fleet upgrades' });
    await section.waitFor();
    assert.match(await section.innerText(), /Not pinned/);
    await page.getByTestId('pin-button').click();
    const dialog = page.getByRole('dialog', { name: 'Pin pinme' });
    await dialog.getByRole('button', { name: 'Pin at 1.0.0' }).click();
    // the server refuses an empty reason; its field error lands on the field
    const reason = dialog.getByRole('textbox', { name: 'Reason' });
    await until('the reason is marked invalid', async () => (await reason.getAttribute('aria-invalid')) === 'true');
    assert.match(await dialog.innerText(), /say why, so that the platform team knows/);
    await reason.fill(REASON);
    await dialog.getByRole('button', { name: 'Pin at 1.0.0' }).click();
    await dialog.waitFor({ state: 'detached' });
    const pin = page.getByTestId('app-pins').locator('li[data-name="svc"]');
    await pin.waitFor();
    assert.equal(await pin.getAttribute('data-version'), '1.0.0');
    assert.match(await pin.innerText(), new RegExp(`held at 1\\.0\\.0[\\s\\S]*${REASON}`));
    assert.equal(await page.getByTestId('pin-button').count(), 0, 'nothing else to pin');
    await section.screenshot({ path: '/tmp/pave-portal-fleet-app-pinned.png' });

    await page.goto('/fleet?kind=template&name=svc');
    const listed = page.getByTestId('fleet-pins').locator('li[data-application="pinme"]');
    await listed.waitFor();
    assert.match(await listed.innerText(), new RegExp(`held at 1\\.0\\.0[\\s\\S]*${REASON}`));
    assert.equal(await page.getByTestId('fleet-patterns').locator('tr[data-pattern="svc"]').getAttribute('data-pins'), '1');
    await drillSettled(['alpha', 'beta', 'blocked-one', 'fresh', 'gamma', 'pinme']);
    assert.equal(await drillRows().filter({ has: page.getByTestId('pin-badge') }).getAttribute('data-application'), 'pinme');
    await shot('pattern');
  });

  let planId = '';

  it('plans the upgrade: per application the diff, and the applications left out with the reason', async () => {
    await page.getByTestId('plan-upgrade').click();
    await page.waitForURL((u) => u.pathname === '/fleet/plans/new');
    const form = page.getByTestId('plan-form');
    assert.equal(await form.locator('[data-input="name"]').inputValue(), 'svc');
    // the input 2.0.0 adds, with its default
    const added = page.getByTestId('plan-new-inputs');
    await added.waitFor();
    assert.equal(await added.locator('[data-input="tier"]').count(), 1, 'tier is new in 2.0.0');
    assert.match(await added.innerText(), /Tier[\s\S]*default standard/);
    await shot('plan-form');
    await page.getByTestId('make-plan').click();
    await page.waitForURL((u) => /^\/fleet\/plans\/[0-9a-f-]{36}$/.test(u.pathname));
    planId = page.url().split('/').at(-1)!;
    await page.getByTestId('plan-review').waitFor();

    assert.equal(await page.getByTestId('plan-count-upgrade').getAttribute('data-value'), '3');
    assert.equal(await page.getByTestId('plan-count-excluded').getAttribute('data-value'), '2');
    assert.equal(await page.getByTestId('plan-count-current').getAttribute('data-value'), '1');
    assert.deepEqual(await attrs(page.getByTestId('plan-app-diff'), 'data-application'), ['alpha', 'beta', 'gamma']);

    const alpha = page.locator('[data-testid="plan-app-diff"][data-application="alpha"]');
    const tier = alpha.getByTestId('plan-inputs').locator('tr[data-input="tier"]');
    assert.equal(await tier.getAttribute('data-change'), 'added');
    assert.match(await tier.innerText(), /standard[\s\S]*new input, its default/);
    assert.equal(await alpha.getByTestId('plan-inputs').locator('tr[data-input="legacy"]').getAttribute('data-change'), 'removed');
    const greeting = alpha.getByTestId('plan-workload').locator('tr[data-path="containers.web.variables.GREETING"]');
    assert.equal(await greeting.getAttribute('data-change'), 'changed');
    assert.match(await greeting.innerText(), /v1[\s\S]*→ v1 on 2\.0/);
    assert.equal(await alpha.getByTestId('plan-resources').locator('[data-environment="development"] li[data-resource="data"]').getAttribute('data-action'), 'create');
    assert.match(await alpha.getByTestId('plan-actions').locator('[data-actions="added"]').innerText(), /warmup/);
    assert.match(await alpha.getByTestId('plan-actions').locator('[data-actions="removed"]').innerText(), /smoke/);
    assert.match(await alpha.innerText(), /development · redeployed/, 'alpha has a release, so it is redeployed');
    const beta = page.locator('[data-testid="plan-app-diff"][data-application="beta"]');
    assert.deepEqual(await attrs(beta.getByTestId('plan-resources').locator('[data-environment]'), 'data-environment'), ['development', 'production']);

    const excluded = page.getByTestId('plan-excluded');
    const pinned = excluded.locator('tr[data-application="pinme"]');
    assert.equal(await pinned.getAttribute('data-code'), 'pinned');
    assert.match(await pinned.innerText(), new RegExp(`pinned: ${REASON}`));
    const blocked = excluded.locator('tr[data-application="blocked-one"]');
    assert.equal(await blocked.getAttribute('data-code'), 'policy-denied');
    assert.match(await blocked.innerText(), /policy denied[\s\S]*applications named blocked-\* get no volume/i);
    await shot('plan');
    // the plan changed nothing
    assert.equal(await templateVersion('alpha'), '1.0.0');
  });

  it('shows a developer the fleet, their team\'s part of a plan, pins on their applications, and no upgrade controls', async () => {
    const errors: string[] = [];
    const dana = await signedInPortal({ url: server.url, token: danaToken }, { timeout: TIMEOUT, errors });
    try {
      const p = dana.page;
      await p.getByRole('link', { name: /Fleet/ }).click();
      await p.getByTestId('fleet-spread-chart').locator('g[data-pattern="svc"] rect[data-version="1.0.0"]').waitFor();
      assert.equal(await p.getByTestId('fleet-patterns').getByRole('link', { name: 'Plan upgrade' }).count(), 1, 'a developer may plan for their team');
      await p.goto(`/fleet/plans/${planId}`);
      await p.getByTestId('plan-review').waitFor();
      assert.equal(await p.getByTestId('plan-count-upgrade').getAttribute('data-value'), '1', 'only gamma, the application dana may read');
      assert.deepEqual(await attrs(p.getByTestId('plan-app-diff'), 'data-application'), ['gamma']);
      assert.equal(await p.getByTestId('apply-form').count(), 0);
      assert.match(await p.getByRole('region', { name: 'Apply' }).innerText(), /Platform engineers start upgrades/);
      await p.goto('/applications/default/gamma');
      await p.getByRole('region', { name: 'Fleet upgrades' }).waitFor();
      assert.equal(await p.getByTestId('pin-button').count(), 1, 'gamma\'s owners may pin it');
      assert.deepEqual(errors, []);
    } finally {
      await dana.browser.close();
    }
  });

  it('applies the plan in waves: the live view follows it, pauses, resumes, and it succeeds', async () => {
    await page.goto(`/fleet/plans/${planId}`);
    const form = page.getByTestId('apply-form');
    await form.locator('[data-input="waveSize"]').fill('1');
    await form.locator('[data-input="concurrency"]').fill('1');
    assert.match(await page.getByTestId('apply-summary').innerText(), /3 applications in 3 waves, the first a canary of 1/);
    await page.getByTestId('start-upgrade').click();
    await page.waitForURL((u) => /^\/fleet\/upgrades\/[0-9a-f-]{36}$/.test(u.pathname));
    const live = page.getByTestId('upgrade-live');
    await live.waitFor();
    // pause while the canary (alpha, redeployed with the fixture app) is in flight
    const pause = page.getByRole('button', { name: 'Pause' });
    await until('Pause can be pressed', () => pause.isEnabled());
    await pause.click();
    await until('the upgrade is paused', async () => (await live.getAttribute('data-status')) === 'paused', WORK_TIMEOUT);

    const waves = page.getByTestId('upgrade-waves');
    const waveApps = async () => Promise.all((await waves.locator('[data-wave]').all()).map(async (w) => [await w.getAttribute('data-canary'), await attrs(w.locator('li[data-application]'), 'data-application')]));
    assert.deepEqual(
      await waveApps(),
      [
        ['true', ['alpha']],
        ['false', ['gamma']],
        ['false', ['beta']],
      ],
      'the canary first; beta, with production, last',
    );
    // Paused: the application in flight when the pause came (the canary, unless this machine is slow) finished, and no other started.
    const counts = page.getByTestId('upgrade-counts');
    const [upgraded, pending, running] = (await rowsOf(counts, ['data-upgraded', 'data-pending', 'data-running']))[0]!.map(Number);
    assert.equal(running, 0);
    assert.ok(upgraded! >= 1 && pending! >= 1 && upgraded! + pending! === 3, `upgraded ${upgraded}, pending ${pending}`);
    assert.equal(await waves.locator('li[data-application="alpha"]').getAttribute('data-state'), 'upgraded');
    assert.equal(await waves.locator('li[data-application="alpha"] [data-environment="development"]').getAttribute('data-state'), 'done');
    assert.equal(await attrs(waves.locator('li[data-state="pending"]'), 'data-application').then((l) => l.length), pending);
    const events = page.getByTestId('upgrade-events');
    // asked, then done once the applications in flight finished
    await until('the events show the pause', async () => (await events.locator('[data-type="upgrade.paused"]').count()) === 2);
    assert.ok(await page.getByRole('button', { name: 'Resume' }).isEnabled());
    assert.ok(await pause.isDisabled());
    await shot('paused');

    await page.getByRole('button', { name: 'Resume' }).click();
    await until('the upgrade succeeded', async () => (await live.getAttribute('data-status')) === 'succeeded', WORK_TIMEOUT);
    await until('the live view stopped polling', async () => (await live.getAttribute('data-live')) === 'false');
    assert.equal(await counts.getAttribute('data-upgraded'), '3');
    assert.deepEqual(await attrs(waves.locator('[data-wave]'), 'data-status'), ['done', 'done', 'done']);
    assert.deepEqual(await rowsOf(waves.locator('li[data-application="beta"] [data-environment]'), ['data-environment', 'data-state']), [
      ['development', 'done'],
      ['production', 'done'],
    ]);
    const types = await attrs(events.locator('[data-type]'), 'data-type');
    for (const t of ['upgrade.started', 'wave.started', 'application.upgraded', 'upgrade.paused', 'upgrade.resumed', 'upgrade.finished']) assert.ok(types.includes(t), `the events show ${t}`);
    const seqs = (await attrs(events.locator('[data-seq]'), 'data-seq')).map(Number);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
    assert.equal(new Set(seqs).size, seqs.length, 'each event once');
    assert.equal(await page.getByTestId('upgrade-controls').count(), 0, 'no controls once it ended');
    await shot('succeeded');

    // really upgraded: alpha serves the new workload
    assert.equal(await templateVersion('alpha'), '2.0.0');
    assert.match((await viaRouter(server.routerUrl, 'alpha-development.localhost')).body, /^v1 on 2\.0 from /);
    assert.equal(await templateVersion('pinme'), '1.0.0');
    const plan = await json<FleetPlan>(await server.api(`/api/v1/fleet/plans/${planId}`), 200);
    assert.ok(plan.upgrade, 'the plan names its upgrade');
  });

  it('shows the upgrade in the application\'s history, the upgrades list and the new spread', async () => {
    await page.goto('/applications/default/alpha');
    const row = page.getByTestId('app-upgrades').locator('tr[data-state="upgraded"]');
    await row.waitFor();
    assert.match(await row.innerText(), /svc 1\.0\.0 → 2\.0\.0[\s\S]*succeeded[\s\S]*development: done/i);

    await page.goto('/fleet');
    await until('the chart shows the upgrade', async () => (await bar('2.0.0').getAttribute('data-value').catch(() => null)) === '4');
    assert.equal(await bar('1.0.0').getAttribute('data-value'), '2');
    const upgrade = page.getByTestId('fleet-upgrades').locator('tbody tr').first();
    assert.equal(await upgrade.getAttribute('data-status'), 'succeeded');
    assert.match(await upgrade.innerText(), /svc → 2\.0\.0[\s\S]*3 of 3 upgraded/);
  });

  it('unpins from the application page', async () => {
    await page.goto('/applications/default/pinme');
    await page.getByRole('button', { name: 'Unpin svc' }).click();
    const section = page.getByRole('region', { name: 'Fleet upgrades' });
    await until('the pin is gone', async () => /Not pinned/.test(await section.innerText()));
    assert.equal(await page.getByTestId('pin-button').count(), 1, 'it can be pinned again');
    const pins = await json<{ items: unknown[] }>(await server.api('/api/v1/applications/pinme/pins'), 200);
    assert.deepEqual(pins.items, []);
  });

  it('logged no errors in the browser but the refused empty reason', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !(/status of 400/.test(e) && e.includes('/api/v1/applications/pinme/pins'))),
      [],
    );
  });
});

describe('fleet portal logic', () => {
  it('lays the version spread out oldest first, in fractions of the applications', () => {
    const segments = spreadSegments({
      kind: 'template', name: 'svc', title: null, latest: '3.0.0', applications: 4, environments: 5, behind: 4, behindEnvironments: 5, pins: [],
      versions: [
        { version: '3.0.0', published: true, latest: true, applications: 0, environments: 0, pinned: 0 },
        { version: '2.0.0', published: true, latest: false, applications: 1, environments: 1, pinned: 0 },
        { version: '1.0.0', published: false, latest: false, applications: 3, environments: 4, pinned: 1 },
      ],
    });
    assert.deepEqual(segments.map((s) => [s.version, s.start, s.width, s.behindBy, s.published]), [
      ['1.0.0', 0, 0.75, 2, false],
      ['2.0.0', 0.75, 0.25, 1, true],
    ]);
  });

  it('parses label selectors and finds the inputs a version adds', () => {
    assert.deepEqual(parseLabelTags(['tier=gold', 'bad', 'a=']), { labels: { tier: 'gold', a: '' }, bad: ['bad'] });
    const f = (name: string) => ({ name, title: name, type: 'string', required: false, editable: true });
    assert.deepEqual(newInputs([f('greeting'), f('tier')], [[f('greeting'), f('legacy')]]).map((x) => x.name), ['tier']);
  });
});
