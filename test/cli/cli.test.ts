import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { Entity } from '../../src/contracts/catalog.ts';
import type { Page } from '../../src/contracts/common.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, closedPortUrl, type Cli } from './helpers.ts';

/** The `pave` CLI, spawned for real against a real server: contexts, CRUD, output formats, errors. */

describe('pave CLI', { concurrency: false }, () => {
  let server: TestServer;
  let cli: Cli;
  before(async () => {
    server = await startTestServer();
    cli = cliSandbox();
  });
  after(async () => {
    cli.cleanup();
    await server.close();
  });

  test('login verifies the token and stores a context readable only by the user, never echoing the token', async () => {
    const res = await cli.run(['login', '--url', server.url, '--token', server.token, '--context', 'local']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /as user:default\/admin/);
    assert.match(res.stdout, /context "local"/);
    assert.ok(!(res.stdout + res.stderr).includes(server.token), 'the full token is never printed');
    assert.ok(res.stdout.includes(server.token.slice(0, 12)), 'its first 12 characters are shown');

    const file = path.join(cli.configDir, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(cli.configDir).mode & 0o777, 0o700);
    const config = JSON.parse(readFileSync(file, 'utf8')) as { current: string; contexts: Record<string, { url: string; token: string; user: string }> };
    assert.equal(config.current, 'local');
    assert.deepEqual(config.contexts.local, { url: server.url, token: server.token, user: 'user:default/admin' });
  });

  test('a rejected token is not saved', async () => {
    const res = await cli.run(['login', '--url', server.url, '--token', 'pave_wrong-token', '--context', 'bad']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^error: /);
    const config = JSON.parse(readFileSync(path.join(cli.configDir, 'config.json'), 'utf8')) as { contexts: Record<string, unknown> };
    assert.deepEqual(Object.keys(config.contexts), ['local']);
  });

  test('several contexts: list, use, whoami, delete; PAVE_URL + PAVE_TOKEN need no config', async () => {
    const created = (await (await server.api('/api/v1/tokens', { method: 'POST', json: { name: 'second' } })).json()) as { token: string };
    assert.equal((await cli.run(['login', '--url', server.url, '--token', created.token, '--context', 'second'])).code, 0);

    const list = await cli.run(['context', 'list', '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const contexts = JSON.parse(list.stdout) as { current: string; items: { name: string; current: boolean; token: string }[] };
    assert.equal(contexts.current, 'second');
    assert.deepEqual(contexts.items.map((c) => c.name).sort(), ['local', 'second']);
    assert.ok(!list.stdout.includes(created.token) && !list.stdout.includes(server.token));

    assert.equal((await cli.run(['context', 'use', 'local'])).code, 0);
    const who = await cli.run(['whoami', '--context', 'second']);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /User:\s+user:default\/admin/);
    assert.match(who.stdout, /Token:\s+second/);
    assert.match(who.stdout, /Context:\s+second/);

    assert.equal((await cli.run(['context', 'delete', 'second'])).code, 0);
    const ci = await cli.run(['whoami', '-o', 'json'], { env: { PAVE_CONFIG_DIR: path.join(cli.configDir, 'none'), PAVE_URL: server.url, PAVE_TOKEN: server.token } });
    assert.equal(ci.code, 0, ci.stderr);
    assert.equal((JSON.parse(ci.stdout) as { user: { ref: string } }).user.ref, 'user:default/admin');
  });

  test('teams, users and apps: create, list, show with relations', async () => {
    let r = await cli.run(['teams', 'create', 'team-a', '--title', 'Team A', '--email', 'a@example.com']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created team:default\/team-a \(version 1\)/);
    r = await cli.run(['users', 'create', 'jane', '--display-name', 'Jane Doe', '--email', 'jane@example.com', '--member-of', 'team-a']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli.run([
      'apps', 'create', 'checkout', '--owner', 'team-a', '--description', 'Takes the money', '--tag', 'web', '--tag', 'payments',
      '--link', 'https://runbooks.example.com/checkout?x=1=Runbook', '--depends-on', 'resource:checkout-db', '-o', 'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const app = JSON.parse(r.stdout) as Entity;
    assert.equal(app.owner, 'team:default/team-a');
    assert.deepEqual(app.tags, ['web', 'payments']);
    assert.deepEqual(app.links, [{ url: 'https://runbooks.example.com/checkout?x=1', title: 'Runbook' }]);

    r = await cli.run(['apps', 'list']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.trim().split('\n');
    assert.match(header!, /^NAME\s+OWNER\s+TYPE\s+LIFECYCLE\s+SYSTEM\s+TAGS$/);
    assert.match(row!, /^checkout\s+team-a\s+service\s+experimental\s+-\s+web,payments$/);
    assert.equal(header!.indexOf('OWNER'), row!.indexOf('team-a'), 'columns are aligned');

    r = await cli.run(['teams', 'show', 'team-a']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Members \(1\):\n\s+user:default\/jane\s+Jane Doe/);
    assert.match(r.stdout, /Owns \(1\):\n\s+application:default\/checkout/);

    r = await cli.run(['apps', 'show', 'checkout']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Owner \(1\):\n\s+team:default\/team-a\s+Team A/);
    assert.match(r.stdout, /resource:default\/checkout-db\s+\(unresolved/);
  });

  test('-o yaml and -o json parse back; --all follows cursors', async () => {
    const shown = await cli.run(['apps', 'show', 'checkout', '-o', 'yaml']);
    assert.equal(shown.code, 0, shown.stderr);
    const app = parseYaml(shown.stdout) as Entity;
    assert.equal(app.ref, 'application:default/checkout');
    assert.ok(app.relations?.some((rel) => rel.targetRef === 'resource:default/checkout-db' && !rel.resolved));

    const all = await cli.run(['users', 'list', '--all', '--limit', '1', '-o', 'json']);
    assert.equal(all.code, 0, all.stderr);
    const page = JSON.parse(all.stdout) as Page<Entity>;
    assert.deepEqual(page.items.map((u) => u.name), ['admin', 'jane']);
    assert.equal(page.nextCursor, null);
  });

  test('edit reads, then patches with If-Match; a stale version is reported as changed by someone else', async () => {
    let r = await cli.run(['apps', 'edit', 'checkout', '--lifecycle', 'production', '--tag', 'web', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const app = JSON.parse(r.stdout) as Entity;
    assert.equal(app.version, 2);
    assert.equal(app.lifecycle, 'production');
    assert.deepEqual(app.tags, ['web']);

    r = await cli.run(['apps', 'edit', 'checkout', '--title', 'Checkout', '--if-match', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: application:default\/checkout was changed by someone else/);
  });

  test('validation errors exit 1 with the server message and one line per field', async () => {
    const r = await cli.run(['apps', 'create', 'bad name', '--owner', 'team-a', '--link', 'not-a-url']);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^error: the request body failed validation/);
    assert.ok(lines.some((l) => /^ {2}body\.name: /.test(l)), r.stderr);
    assert.ok(lines.some((l) => /^ {2}body\.links\[0\]\.url: /.test(l)), r.stderr);
  });

  test('delete refuses without --yes when stdin is not a terminal, and deletes with it', async () => {
    let r = await cli.run(['apps', 'delete', 'checkout']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--yes/);
    r = await cli.run(['apps', 'delete', 'checkout', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted application:default\/checkout/);
    r = await cli.run(['apps', 'show', 'checkout']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*does not exist/);
  });

  test('tokens: create shows the secret once, list and revoke', async () => {
    let r = await cli.run(['tokens', 'create', 'ci', '--expires-in-days', '7', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout) as { id: string; token: string; expiresAt: string };
    assert.match(created.token, /^pave_/);
    assert.ok(created.expiresAt);
    r = await cli.run(['tokens', 'list']);
    assert.match(r.stdout, new RegExp(`${created.id}\\s+ci\\s+${created.token.slice(0, 12)}.*active`));
    assert.ok(!r.stdout.includes(created.token));
    r = await cli.run(['tokens', 'revoke', created.id, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { revokedAt: string | null }).revokedAt);
  });

  test('an unreachable server is named in the error', async () => {
    const url = await closedPortUrl();
    const r = await cli.run(['teams', 'list'], { env: { PAVE_URL: url, PAVE_TOKEN: server.token } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: cannot reach the Pave server at ${url}/api/v1/teams`));
  });
});
