import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RoleBinding } from '../../src/contracts/access.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, type Cli } from './helpers.ts';

/** `pave access bind|unbind|list` and scoped tokens, spawned for real against a real server. */

describe('pave access', { concurrency: false }, () => {
  let server: TestServer;
  let cli: Cli;
  let env: Record<string, string>;
  before(async () => {
    server = await startTestServer({ platform: null });
    cli = cliSandbox();
    env = { PAVE_URL: server.url, PAVE_TOKEN: server.token };
    for (const [path, json] of [['/api/v1/teams', { name: 'payments' }], ['/api/v1/teams', { name: 'sre' }], ['/api/v1/users', { name: 'alice' }]] as const) {
      assert.equal((await server.api(path, { method: 'POST', json })).status, 201);
    }
  });
  after(async () => {
    cli.cleanup();
    await server.close();
  });

  test('bind a user and a team, list them, and unbind by id or by subject and role', async () => {
    let r = await cli.run(['access', 'bind', 'alice', 'deployer', '--team', 'payments', '--env', 'production', '-o', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const alice = JSON.parse(r.stdout) as RoleBinding;
    assert.deepEqual([alice.subject, alice.role, alice.team, alice.environmentTypes], ['user:default/alice', 'deployer', 'team:default/payments', ['production']]);

    r = await cli.run(['access', 'bind', 'sre', 'platform-engineer', '--group'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Bound team:default\/sre as platform-engineer for every team in every environment type/);

    r = await cli.run(['access', 'bind', 'alice', 'owner'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /owner/);
    r = await cli.run(['access', 'bind', 'alice', 'viewer', '--env', 'prod'], { env });
    assert.notEqual(r.code, 0);

    r = await cli.run(['access', 'list'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /user:default\/alice\s+deployer\s+team:default\/payments\s+production\s+binding/);
    assert.match(r.stdout, /team:default\/sre\s+platform-engineer\s+\*\s+\*\s+binding/);

    r = await cli.run(['access', 'list', '--user', 'alice', '-o', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { items: RoleBinding[] }).items.map((b) => b.role), ['deployer']);

    r = await cli.run(['access', 'unbind', alice.id!, '--yes'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /user:default\/alice is no longer deployer for team:default\/payments/);
    r = await cli.run(['access', 'unbind', '--subject', 'team:sre', '--role', 'platform-engineer', '--yes', '-o', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    r = await cli.run(['access', 'list', '-o', 'json'], { env });
    assert.deepEqual((JSON.parse(r.stdout) as { items: RoleBinding[] }).items, []);
    r = await cli.run(['access', 'unbind', '--subject', 'alice', '--role', 'viewer', '--yes'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no binding/);
  });

  test('a non-admin is refused, with the permission named', async () => {
    const t = (await (await server.api('/api/v1/users/alice/tokens', { method: 'POST', json: { name: 'cli' } })).json()) as { token: string };
    const r = await cli.run(['access', 'list'], { env: { ...env, PAVE_TOKEN: t.token } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /user\.manage/);
  });

  test('tokens create --permission --team makes a scoped token', async () => {
    const r = await cli.run(['tokens', 'create', 'deployer', '--permission', 'deploy', '--permission', 'release', '--team', 'payments', '-o', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as { permissions: string[]; teams: string[] };
    assert.deepEqual(t.permissions, ['deploy', 'release']);
    assert.deepEqual(t.teams, ['team:default/payments']);
    const list = await cli.run(['tokens', 'list'], { env });
    assert.match(list.stdout, /deploy,release for team:default\/payments/);
  });
});
