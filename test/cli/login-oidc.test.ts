/**
 * `pave login` without a token, run as a real process: through the identity provider with the device
 * flow (the test plays the user: it opens the URL the CLI printed, confirms the code and signs in at a
 * real `oidc-provider`), through the browser with a loopback redirect to the CLI, and with a local
 * user's password. Each ends with an API token saved as the current context.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScriptedBrowser, startTestIdp, type TestIdp } from '../support/oidc.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, PAVE_BIN, type Cli } from './helpers.ts';

let idp: TestIdp;
let s: TestServer;
let cli: Cli;

before(async () => {
  idp = await startTestIdp({
    accounts: { kim: { password: 'kim-at-the-idp', claims: { email: 'kim@example.com', email_verified: true, name: 'Kim', preferred_username: 'kim', groups: ['eng-payments'] } } },
  });
  s = await startTestServer({
    platform: null,
    auth: { oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: 'openid profile email groups', groupsClaim: 'groups', teamMapping: 'eng-payments=payments', displayName: 'Test IdP' } },
  });
  idp.register(`${s.url}/api/v1/auth/oidc/callback`);
  cli = cliSandbox();
});
after(async () => {
  cli?.cleanup();
  await s?.close();
  await idp?.close();
});

/** Runs the CLI and calls `onUrl` with the first sign-in URL it prints on stderr. */
function runInteractive(args: string[], onUrl: (url: string) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string; error?: unknown }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PAVE_BIN, ...args], { env: { ...process.env, PAVE_CONFIG_DIR: cli.configDir, BROWSER: 'none', PAVE_URL: '', PAVE_TOKEN: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    let error: unknown;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /open (\S+)/.exec(stderr);
      if (m && !started) {
        started = true;
        onUrl(m[1]!).catch((err: unknown) => {
          error = err;
          child.kill();
        });
      }
    });
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, error }));
  });
}

const savedContext = () => JSON.parse(readFileSync(path.join(cli.configDir, 'config.json'), 'utf8')) as { current: string; contexts: Record<string, { url: string; token: string; user: string }> };

describe('pave login with the identity provider', { timeout: 60_000 }, () => {
  test('the device flow, when the provider offers it', async () => {
    const res = await runInteractive(['login', '--url', s.url, '--context', 'device', '-o', 'json'], async (url) => {
      assert.ok(url.startsWith(idp.issuer), url);
      const b = new ScriptedBrowser();
      const autoPost = await b.follow(url);
      const confirm = await b.submit(autoPost, {});
      assert.match(confirm.body, /Confirm Device/);
      const login = await b.submit(confirm, {});
      const done = await b.submit(login, { username: 'kim', password: 'kim-at-the-idp' });
      assert.match(done.body, /Sign-in Success/i);
    });
    assert.equal(res.error, undefined, String(res.error));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /Signing in with Test IdP/);
    assert.match(res.stderr, /check that it shows the code [A-Z]{4}-[A-Z]{4}/);
    const out = JSON.parse(res.stdout) as { user: string; context: string; token: string };
    assert.equal(out.user, 'user:default/kim');
    assert.equal(out.context, 'device');
    assert.ok(!res.stdout.includes(savedContext().contexts.device!.token), 'the token is not printed');
    const whoami = await cli.run(['whoami', '-o', 'json']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.deepEqual((JSON.parse(whoami.stdout) as { teams: string[] }).teams, ['team:default/payments']);
  });

  test('the browser with a loopback redirect (--browser)', async () => {
    const res = await runInteractive(['login', '--url', s.url, '--oidc', '--browser', '--context', 'loopback', '-o', 'json'], async (url) => {
      assert.ok(url.startsWith(`${s.url}/api/v1/auth/oidc/login?cli_redirect=`), url);
      const b = new ScriptedBrowser();
      const page = await b.follow(url);
      assert.ok(page.url.startsWith(idp.issuer));
      const end = await b.submit(page, { username: 'kim', password: 'kim-at-the-idp' });
      assert.match(end.url, /^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
      assert.equal(end.status, 200);
      assert.match(end.body, /Signed in/);
    });
    assert.equal(res.error, undefined, String(res.error));
    assert.equal(res.code, 0, res.stderr);
    const ctx = savedContext();
    assert.equal(ctx.current, 'loopback');
    assert.equal(ctx.contexts.loopback!.user, 'user:default/kim');
    const me = await fetch(`${s.url}/api/v1/me`, { headers: { authorization: `Bearer ${ctx.contexts.loopback!.token}` } });
    assert.equal(me.status, 200);
  });

  test('a local user with a password from stdin', async () => {
    await s.api('/api/v1/users', { method: 'POST', json: { name: 'lee' } });
    const admin = { PAVE_URL: s.url, PAVE_TOKEN: s.token };
    const short = await cli.run(['users', 'set-password', 'lee'], { env: admin, input: 'short\n' });
    assert.equal(short.code, 2);
    const set = await cli.run(['users', 'set-password', 'lee'], { env: admin, input: 'lee-first-password\n' });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Password of user:default\/lee set/);
    const first = await cli.run(['login', '--url', s.url, '--user', 'lee', '--context', 'pw'], { input: 'lee-first-password\n' });
    assert.equal(first.code, 0, first.stderr);
    // lee changes her own password with the current one (the context just saved is hers)
    const own = await cli.run(['users', 'set-password', 'lee', '--current'], { input: 'lee-first-password\nlee-local-password\n' });
    assert.equal(own.code, 0, own.stderr);
    const bad = await cli.run(['login', '--url', s.url, '--user', 'lee', '--context', 'pw'], { input: 'wrong-password\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /user name or password is wrong/);
    const res = await cli.run(['login', '--url', s.url, '--user', 'lee', '--context', 'pw'], { input: 'lee-local-password\n' });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Logged in to .* as user:default\/lee/);
    assert.equal(savedContext().contexts.pw!.user, 'user:default/lee');
  });
});
