/**
 * `pave fleet` against a real server: the fleet view, pins, a plan (table and JSON), an upgrade
 * followed live to its end, the list of upgrades and an application's history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FleetApplication, FleetPlan } from '../../src/contracts/fleet.ts';
import { cliSandbox, type Cli } from '../cli/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { json } from '../deployments/helpers.ts';
import { fleetPlatform, V2, type FleetPlatform } from './platform.ts';
import { createApp } from './support.ts';

describe('pave fleet', { timeout: 120_000 }, () => {
  let s: TestServer;
  let cli: Cli;
  let platform: FleetPlatform;
  const pave = (...args: string[]) => cli.run(args, { env: { PAVE_URL: s.url, PAVE_TOKEN: s.token } });

  before(async () => {
    platform = fleetPlatform({ 'svc-2.0.0.yaml': V2 });
    s = await startTestServer({ platform: platform.dir });
    cli = cliSandbox();
    await json(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'team-a' } }), 201);
    await createApp(s, 'cli-a', ['development']);
    await createApp(s, 'cli-b', ['development']);
  });
  after(async () => {
    await s?.services.fleet.idle();
    await s?.close();
    cli?.cleanup();
    platform?.remove();
  });

  test('fleet view, pin, plan, upgrade with live progress, history', async () => {
    const view = await pave('fleet');
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /^PATTERN\s+VERSION\s+APPS\s+ENVIRONMENTS\s+PINNED\s+BEHIND/m);
    assert.match(view.stdout, /template svc\s+2\.0\.0 \(latest\)\s+0\s+0\s+-\s+2 of 2/);
    assert.match(view.stdout, /^-\s+1\.0\.0\s+2\s+2\s+-\s+-$/m);

    const pinned = await pave('fleet', 'pin', 'cli-b', '--template', 'svc', '--reason', 'release freeze');
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal(pinned.stdout.trim(), 'Pinned cli-b at template svc 1.0.0: release freeze');
    assert.match((await pave('fleet')).stdout, /Pins:\n.*\n.*template svc\s+cli-b\s+1\.0\.0\s+release freeze\s+admin/);

    const usage = await pave('fleet', 'plan');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--template NAME/);

    const text = await pave('fleet', 'plan', '--template', 'svc');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /1 to upgrade, 1 left out, 0 already on 2\.0\.0/);
    assert.match(text.stdout, /cli-a \(team-a\): 1\.0\.0 → 2\.0\.0, environments development \(nothing released\)/);
    assert.match(text.stdout, /input tier: \+ standard \(new input, its default\)/);
    assert.match(text.stdout, /workload containers\.web\.variables\.GREETING: v1 → v1 on 2\.0/);
    assert.match(text.stdout, /\+ development\/data \(volume\) create/);
    assert.match(text.stdout, /actions: \+warmup -smoke ~migrate/);
    assert.match(text.stdout, /Left out:\n.*\ncli-b\s+1\.0\.0\s+pinned: release freeze/);

    const planned = await pave('fleet', 'plan', '--template', 'svc', '--app', 'cli-a', '-o', 'json');
    const plan = JSON.parse(planned.stdout) as FleetPlan;
    assert.deepEqual(plan.applications.map((a) => a.name), ['cli-a']);

    const up = await pave('fleet', 'upgrade', plan.id, '--canary', '1');
    assert.equal(up.code, 0, up.stderr + up.stdout);
    assert.match(up.stderr, /upgrading 1 application\(s\) to svc 2\.0\.0/);
    assert.match(up.stderr, /application:default\/cli-a development: resources converged; nothing is released here/);
    assert.match(up.stderr, /succeeded: 1 upgraded, 0 failed and put back, 0 skipped/);
    assert.match(up.stdout, /Status:\s+succeeded/);
    assert.match(up.stdout, /0 \(canary\)\s+cli-a\s+upgraded\s+1\.0\.0\s+2\.0\.0\s+development:done/);

    const list = await pave('fleet', 'upgrades', 'list');
    assert.match(list.stdout, new RegExp(`${plan.id ? '' : ''}\\S{8}\\s+template svc 2\\.0\\.0\\s+succeeded\\s+1\\s+0\\s+1\\s+admin`));
    const again = await pave('fleet', 'upgrade', plan.id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /was applied already/);

    const history = await pave('fleet', 'history', 'cli-a');
    assert.match(history.stdout, /template svc\s+1\.0\.0\s+2\.0\.0\s+upgraded\s+development:done/);
    const behind = JSON.parse((await pave('fleet', 'apps', '--template', 'svc', '--behind', '-o', 'json')).stdout) as { items: FleetApplication[] };
    assert.deepEqual(behind.items.map((a) => [a.name, a.version, a.pin?.reason]), [['cli-b', '1.0.0', 'release freeze']]);
  });
});
