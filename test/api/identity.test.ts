/**
 * Enterprise identity against a real OpenID provider (npm `oidc-provider`) running in this process on
 * loopback: the authorization code flow with PKCE over real HTTP (redirects followed by hand with a
 * cookie jar, the provider's login form submitted), group → team mapping, the failure cases (wrong
 * state, replayed or foreign callback, wrong nonce, expired, tampered and foreign-audience ID tokens),
 * the device flow, sessions with CSRF protection, local passwords (argon2id) and login rate limiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LoginLimiter } from '../../src/access/ratelimit.ts';
import { parseTeamMapping, sanitiseName, userNameFrom } from '../../src/access/mapping.ts';
import type { CreatedTokenSchema, Me } from '../../src/contracts/access.ts';
import type { AuthProviders, CliTokenResult, DeviceStart, LoginResult, Session } from '../../src/contracts/auth.ts';
import type { Entity } from '../../src/contracts/catalog.ts';
import type { z } from 'zod';
import { ScriptedBrowser, startTestIdp, type TestIdp } from '../support/oidc.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { expectProblem, ok } from './helpers.ts';

type CreatedToken = z.infer<typeof CreatedTokenSchema>;

const WINDOW_S = 3;
let idp: TestIdp;
let s: TestServer;
let host: string;

const KIM = { password: 'kim-at-the-idp', claims: { email: 'kim.lee@example.com', email_verified: true, name: 'Kim Lee', preferred_username: 'kim', groups: ['eng-payments', 'unrelated-group'] } };

before(async () => {
  idp = await startTestIdp({
    accounts: {
      kim: KIM,
      // an identity provider account called "admin" must not become Pave's admin
      admin: { password: 'admin-at-the-idp', claims: { email: 'mallory@example.com', email_verified: true, name: 'Not The Admin', preferred_username: 'admin', groups: ['eng-web'] } },
      sam: { password: 'sam-at-the-idp', claims: { email: 'sam@example.com', email_verified: true, name: 'Sam', preferred_username: 'Sam Smith!', groups: [] } },
    },
  });
  s = await startTestServer({
    platform: null,
    auth: {
      oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: 'openid profile email groups', groupsClaim: 'groups', teamMapping: 'eng-payments=payments,eng-web=web', displayName: 'Test IdP' },
      login: { maxPerUser: 5, maxPerIp: 1000, windowSeconds: WINDOW_S },
    },
  });
  idp.register(`${s.url}/api/v1/auth/oidc/callback`);
  host = new URL(s.url).host;
});
after(async () => {
  await s?.close();
  await idp?.close();
});

/** Pave's own URLs outside the sign-in routes: where a finished sign-in lands. */
const landed = (next: string) => next.startsWith(s.url) && !next.includes('/api/v1/auth/');
const atCallback = (next: string) => next.startsWith(`${s.url}/api/v1/auth/oidc/callback`);

/** Starts an OIDC sign-in in `b` and submits the provider's login form; stops where `stop` says. */
async function throughProvider(b: ScriptedBrowser, user: string, password: string, stop: (next: string) => boolean, redirect = '/catalog') {
  const page = await b.follow(`${s.url}/api/v1/auth/oidc/login?redirect=${encodeURIComponent(redirect)}`);
  assert.ok(page.url.startsWith(idp.issuer), `at the provider: ${page.url}`);
  assert.match(page.body, /<label for="username">Username<\/label>/);
  return b.submit(page, { username: user, password }, stop);
}

async function signedInBrowser(user = 'kim', password = KIM.password): Promise<ScriptedBrowser> {
  const b = new ScriptedBrowser();
  const end = await throughProvider(b, user, password, landed);
  assert.equal(end.url, `${s.url}/catalog`, 'back in the portal');
  return b;
}

const sessionCookie = (b: ScriptedBrowser) => b.cookie(host, 'pave_session');
const asBrowser = (b: ScriptedBrowser, path: string, init: { method?: string; json?: unknown; csrf?: string | undefined } = {}) =>
  fetch(s.url + path, {
    method: init.method ?? 'GET',
    headers: {
      cookie: b.cookieHeader(new URL(s.url + path)),
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.csrf ? { 'x-csrf-token': init.csrf } : {}),
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : null,
  });

describe('OpenID Connect sign-in (code flow with PKCE)', () => {
  test('the server advertises its provider and the device flow', async () => {
    const p = await ok<AuthProviders>(await fetch(`${s.url}/api/v1/auth/providers`));
    assert.deepEqual(p, { oidc: { name: 'Test IdP', loginUrl: '/api/v1/auth/oidc/login', deviceFlow: true }, password: true });
  });

  test('the login redirect carries state, nonce and an S256 PKCE challenge, and binds the browser', async () => {
    const res = await fetch(`${s.url}/api/v1/auth/oidc/login?redirect=/teams`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const to = new URL(res.headers.get('location')!);
    assert.equal(to.origin, idp.issuer);
    assert.equal(to.searchParams.get('client_id'), idp.clientId);
    assert.equal(to.searchParams.get('redirect_uri'), `${s.url}/api/v1/auth/oidc/callback`);
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    assert.match(to.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((to.searchParams.get('state') ?? '').length >= 32);
    assert.ok((to.searchParams.get('nonce') ?? '').length >= 32);
    assert.equal(to.searchParams.get('scope'), 'openid profile email groups');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pave_oidc='));
    assert.match(cookie ?? '', /HttpOnly/);
    assert.match(cookie ?? '', /SameSite=Lax/);
  });

  test('a full sign-in: session cookie, user created, team from the group mapping, audited', async () => {
    const b = await signedInBrowser();
    const setCookies = b.last!.headers; // the portal page; cookies were set on the callback
    assert.ok(setCookies);
    assert.ok(sessionCookie(b), 'a session cookie');
    assert.ok(b.cookie(host, 'pave_csrf'), 'a CSRF cookie');
    const me = await ok<Me>(await asBrowser(b, '/api/v1/me'));
    assert.equal(me.user.ref, 'user:default/kim');
    assert.equal(me.user.title, 'Kim Lee');
    assert.equal(me.user.email, 'kim.lee@example.com');
    assert.deepEqual(me.roles, []);
    assert.deepEqual(me.teams, ['team:default/payments']);
    const team = await ok<Entity>(await s.api('/api/v1/teams/payments'));
    assert.match(team.description ?? '', /eng-payments/);
    assert.equal((await s.api('/api/v1/teams/unrelated-group')).status, 404, 'unmapped groups are ignored');
    const user = await ok<Entity>(await s.api('/api/v1/users/kim'));
    assert.equal((user.spec.profile as { displayName?: string }).displayName, 'Kim Lee');
    const events = await s.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.login').where('actor', '=', 'user:default/kim').execute();
    assert.ok(events.some((e) => e.outcome === 'succeeded' && (e.details as { method?: string }).method === 'oidc'));
  });

  test('the session cookie is HTTP-only and SameSite=Lax; the CSRF cookie is readable', async () => {
    const b = new ScriptedBrowser();
    const end = await throughProvider(b, 'kim', KIM.password, atCallback);
    const res = await b.request(end.url);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/catalog');
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('pave_session='))!;
    const csrf = cookies.find((c) => c.startsWith('pave_csrf='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Lax/);
    assert.match(session, /Path=\//);
    assert.doesNotMatch(session, /Secure/, 'not Secure on a plain-http public URL');
    assert.doesNotMatch(csrf, /HttpOnly/);
    assert.ok(cookies.some((c) => c.startsWith('pave_oidc=;') && /Max-Age=0/.test(c)), 'the binding cookie is cleared');
  });

  test('group changes at the provider move the user between mapped teams; other teams stay', async () => {
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'guild' } }), 201);
    const kim = await ok<Entity>(await s.api('/api/v1/users/kim'));
    await ok(await s.api('/api/v1/users/kim', { method: 'PATCH', headers: { 'if-match': `"${kim.version}"` }, json: { memberOf: ['payments', 'guild'] } }));
    // a mapped team that lists kim itself
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'web', members: ['kim'] } }), 201);
    KIM.claims.groups = ['eng-web'];
    try {
      const b = await signedInBrowser();
      const me = await ok<Me>(await asBrowser(b, '/api/v1/me'));
      assert.deepEqual(me.teams.sort(), ['team:default/guild', 'team:default/web']);
      KIM.claims.groups = [];
      const b2 = await signedInBrowser();
      const me2 = await ok<Me>(await asBrowser(b2, '/api/v1/me'));
      assert.deepEqual(me2.teams, ['team:default/guild'], 'dropped from web too, though the team listed kim');
      const web = await ok<Entity>(await s.api('/api/v1/teams/web'));
      assert.deepEqual(web.spec.members, []);
    } finally {
      KIM.claims.groups = ['eng-payments', 'unrelated-group'];
    }
  });

  test('a provider account named "admin" does not sign in as Pave\'s admin', async () => {
    const b = await signedInBrowser('admin', 'admin-at-the-idp');
    const me = await ok<Me>(await asBrowser(b, '/api/v1/me'));
    assert.equal(me.user.ref, 'user:default/admin-2');
    assert.deepEqual(me.roles, []);
    assert.deepEqual(me.teams, ['team:default/web']);
  });

  test('user names follow Pave\'s name rules', async () => {
    const b = await signedInBrowser('sam', 'sam-at-the-idp');
    const me = await ok<Me>(await asBrowser(b, '/api/v1/me'));
    assert.equal(me.user.ref, 'user:default/sam-smith');
    assert.equal(sanitiseName('  Ünïcode..Name__x  '), 'unicode.name_x');
    assert.equal(userNameFrom({ sub: 'abc', email: 'first.last+tag@example.com' }), 'first.last-tag');
    assert.match(userNameFrom({ sub: '!!!' }), /^user-[0-9a-f]{10}$/);
  });

  test('the same identity signs in as the same user again', async () => {
    const b = await signedInBrowser();
    assert.equal((await ok<Me>(await asBrowser(b, '/api/v1/me'))).user.ref, 'user:default/kim');
    const links = await s.store.db.selectFrom('user_identities').selectAll().where('subject', '=', 'kim').execute();
    assert.equal(links.length, 1);
  });
});

describe('OpenID Connect failures', () => {
  const noSession = (b: ScriptedBrowser) => assert.equal(sessionCookie(b), undefined, 'no session cookie');

  test('a wrong state: 400, no session', async () => {
    const b = new ScriptedBrowser();
    const end = await throughProvider(b, 'kim', KIM.password, atCallback);
    const u = new URL(end.url);
    u.searchParams.set('state', 'not-the-state-pave-sent-0123456789');
    await expectProblem(await b.request(u.href), 400, 'oidc-state');
    noSession(b);
    const missing = new URL(end.url);
    missing.searchParams.delete('state');
    await expectProblem(await b.request(missing.href), 400, 'oidc-state');
    noSession(b);
  });

  test('a callback replayed, or opened in another browser: 400', async () => {
    const b = new ScriptedBrowser();
    const end = await throughProvider(b, 'kim', KIM.password, atCallback);
    const other = new ScriptedBrowser();
    const p = await expectProblem(await other.request(end.url), 400, 'oidc-state');
    assert.match(p.detail ?? '', /another browser/);
    noSession(other);
    // the request was used up by that attempt: the right browser cannot use it either
    await expectProblem(await b.request(end.url), 400, 'oidc-state');
    noSession(b);
  });

  test('a browser that lands on a failed callback reads a page, not JSON', async () => {
    const res = await fetch(`${s.url}/api/v1/auth/oidc/callback?code=x&state=y`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /Sign-in failed[\s\S]*Back to sign-in/);
  });

  for (const [mode, reason] of [
    ['nonce', /nonce/i],
    ['expired', /exp/i],
    ['signature', /signature/i],
    ['audience', /aud/i],
  ] as const) {
    test(`an ID token with a ${mode === 'signature' ? 'tampered signature' : mode === 'expired' ? 'past expiry' : `wrong ${mode}`} is refused: 401, no session`, async () => {
      const b = new ScriptedBrowser();
      idp.tamper = mode;
      try {
        const before = idp.tokenResponses;
        const end = await throughProvider(b, 'kim', KIM.password, atCallback);
        const p = await expectProblem(await b.request(end.url), 401, 'oidc-failed');
        assert.equal(idp.tokenResponses, before + 1, 'the code was exchanged');
        assert.match(p.detail ?? '', reason);
        noSession(b);
      } finally {
        idp.tamper = null;
      }
      const events = await s.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.login').where('outcome', '=', 'denied').orderBy('id', 'desc').limit(1).execute();
      assert.equal((events[0]!.details as { problem?: string }).problem, 'https://pave.dev/problems/oidc-failed');
    });
  }

  test('the provider refusing (access_denied) is a 401', async () => {
    const b = new ScriptedBrowser();
    const start = await b.request(`${s.url}/api/v1/auth/oidc/login`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const p = await expectProblem(await b.request(`${s.url}/api/v1/auth/oidc/callback?error=access_denied&error_description=nope&state=${state}&iss=${encodeURIComponent(idp.issuer)}`), 401, 'oidc-failed');
    assert.match(p.detail ?? '', /access_denied/);
  });

  test('only portal paths are redirected to after sign-in', async () => {
    const b = new ScriptedBrowser();
    const end = await throughProvider(b, 'kim', KIM.password, atCallback, 'https://evil.example/');
    const res = await b.request(end.url);
    assert.equal(res.headers.get('location'), '/');
  });

  test('the CLI loopback redirect must be on loopback', async () => {
    const q = new URLSearchParams({ cli_redirect: 'https://evil.example/cb', cli_state: 'x'.repeat(20), cli_challenge: 'a'.repeat(43) });
    await expectProblem(await fetch(`${s.url}/api/v1/auth/oidc/login?${q}`, { redirect: 'manual' }), 400, 'validation');
  });
});

describe('sessions and CSRF', () => {
  test('a cookie session needs X-CSRF-Token for changes; bearer tokens do not', async () => {
    const b = await signedInBrowser();
    const session = await ok<Session>(await asBrowser(b, '/api/v1/auth/session'));
    assert.equal(session.user, 'user:default/kim');
    assert.equal(session.method, 'oidc');
    assert.equal(session.csrfToken, b.cookie(host, 'pave_csrf'));
    // reads need none
    await ok(await asBrowser(b, '/api/v1/tokens'));
    const p = await expectProblem(await asBrowser(b, '/api/v1/tokens', { method: 'POST', json: { name: 'no-csrf' } }), 403, 'csrf');
    assert.match(p.detail ?? '', /X-CSRF-Token/);
    await expectProblem(await asBrowser(b, '/api/v1/tokens', { method: 'POST', json: { name: 'bad-csrf' }, csrf: 'x'.repeat(32) }), 403, 'csrf');
    const created = await ok<CreatedToken>(await asBrowser(b, '/api/v1/tokens', { method: 'POST', json: { name: 'with-csrf' }, csrf: session.csrfToken! }), 201);
    assert.equal(created.user, 'user:default/kim');
    // the bearer token made in the session: no CSRF header needed
    await ok(await fetch(`${s.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'via-bearer' }) }), 201);
    const bearerSession = await ok<Session>(await fetch(`${s.url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${created.token}` } }));
    assert.equal(bearerSession.method, 'token');
    assert.equal(bearerSession.csrfToken, null);
  });

  test('signing out ends the session at once', async () => {
    const b = await signedInBrowser();
    const csrf = b.cookie(host, 'pave_csrf')!;
    await expectProblem(await asBrowser(b, '/api/v1/auth/logout', { method: 'POST' }), 403, 'csrf');
    const res = await asBrowser(b, '/api/v1/auth/logout', { method: 'POST', csrf });
    assert.equal(res.status, 204);
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('pave_session=;') && /Max-Age=0/.test(c)));
    const p = await expectProblem(await asBrowser(b, '/api/v1/me'), 401, 'unauthorized');
    assert.match(p.detail ?? '', /session has ended/);
  });

  test('an expired session is refused', async () => {
    const b = await signedInBrowser();
    await s.store.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).execute();
    const p = await expectProblem(await asBrowser(b, '/api/v1/me'), 401, 'unauthorized');
    assert.match(p.detail ?? '', /expired/);
  });
});

describe('device flow (for the CLI)', () => {
  test('device code → the user approves at the provider → an API token', async () => {
    const start = await ok<DeviceStart>(await fetch(`${s.url}/api/v1/auth/oidc/device`, { method: 'POST' }));
    assert.ok(start.verificationUriComplete?.startsWith(idp.issuer));
    const poll = () => fetch(`${s.url}/api/v1/auth/oidc/device/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: start.handle }) });
    assert.equal((await ok<CliTokenResult>(await poll())).status, 'pending');
    await approveDevice(new ScriptedBrowser(), start.verificationUriComplete!, 'kim', KIM.password);
    let done: CliTokenResult | undefined;
    for (let i = 0; i < 20 && !done; i++) {
      const r = await ok<CliTokenResult>(await poll());
      if (r.status === 'done') done = r;
      else await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(done?.token, 'a token');
    assert.equal(done.user, 'user:default/kim');
    assert.match(done.token.name, /^cli-\d{8}-[0-9a-f]{6}$/);
    assert.ok(done.token.expiresAt, 'CLI tokens expire');
    const me = await ok<Me>(await fetch(`${s.url}/api/v1/me`, { headers: { authorization: `Bearer ${done.token.token}` } }));
    assert.equal(me.user.ref, 'user:default/kim');
    // the handle is used up
    await expectProblem(await poll(), 401, 'oidc-failed');
  });

  test('an unknown handle is refused', async () => {
    await expectProblem(await fetch(`${s.url}/api/v1/auth/oidc/device/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: 'nope' }) }), 401, 'oidc-failed');
  });
});

/** What the user does in the browser for a device sign-in: open the URL, confirm the code, sign in. */
export async function approveDevice(b: ScriptedBrowser, url: string, user: string, password: string): Promise<void> {
  const autoPost = await b.follow(url);
  const confirm = await b.submit(autoPost, {});
  assert.match(confirm.body, /Confirm Device/);
  const login = await b.submit(confirm, {});
  assert.match(login.body, /Username/);
  const done = await b.submit(login, { username: user, password });
  assert.match(done.body, /Sign-in Success/i);
}

describe('local users with passwords', () => {
  const login = (user: string, password: string, token?: object) =>
    fetch(`${s.url}/api/v1/auth/password/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password, ...(token ? { token } : {}) }) });

  before(async () => {
    await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'lee', displayName: 'Lee' } }), 201);
    await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'rae' } }), 201);
    const set = await s.api('/api/v1/users/lee/password', { method: 'PUT', json: { password: 'correct horse battery' } });
    assert.equal(set.status, 204, await set.text());
    assert.equal((await s.api('/api/v1/users/rae/password', { method: 'PUT', json: { password: 'rae-password-123' } })).status, 204);
  });

  test('passwords are stored as argon2id hashes', async () => {
    const rows = await s.store.db.selectFrom('user_passwords').select('hash').execute();
    assert.ok(rows.length >= 2);
    for (const r of rows) assert.match(r.hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!rows.some((r) => r.hash.includes('correct horse')));
  });

  test('short passwords are refused', async () => {
    await expectProblem(await s.api('/api/v1/users/lee/password', { method: 'PUT', json: { password: 'short' } }), 400, 'validation');
  });

  test('sign-in with a password: a session for the portal, or a token for the CLI', async () => {
    const res = await login('lee', 'correct horse battery');
    const r = await ok<LoginResult>(res);
    assert.equal(r.user, 'user:default/lee');
    assert.equal(r.token, null);
    assert.equal(r.session?.method, 'password');
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const me = await ok<Me>(await fetch(`${s.url}/api/v1/me`, { headers: { cookie } }));
    assert.equal(me.user.ref, 'user:default/lee');
    const t = await ok<LoginResult>(await login('user:default/lee', 'correct horse battery', { name: 'laptop' }));
    assert.equal(t.session, null);
    assert.equal(t.token?.name, 'laptop');
    assert.equal((await ok<Me>(await fetch(`${s.url}/api/v1/me`, { headers: { authorization: `Bearer ${t.token!.token}` } }))).user.ref, 'user:default/lee');
  });

  test('an unknown user and a wrong password get the same answer', async () => {
    const a = await expectProblem(await login('nobody-here', 'whatever-password'), 401, 'unauthorized');
    const b = await expectProblem(await login('rae', 'not-her-password'), 401, 'unauthorized');
    const c = await expectProblem(await login('kim', 'kim has no password'), 401, 'unauthorized');
    assert.equal(a.detail, b.detail);
    assert.equal(b.detail, c.detail);
    const events = await s.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.login').where('target', '=', 'user:default/rae').execute();
    assert.ok(events.some((e) => e.outcome === 'denied'));
  });

  test('5 wrong passwords: 429 with Retry-After, even for the right one, until the window passes', async () => {
    for (let i = 0; i < 5; i++) await expectProblem(await login('lee', `wrong-${i}-password`), 401);
    const limited = await login('lee', 'correct horse battery');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, `Retry-After: ${limited.headers.get('retry-after')}`);
    assert.ok(Number(limited.headers.get('retry-after')) <= WINDOW_S);
    await expectProblem(limited, 429, 'too-many-attempts');
    await expectProblem(await login('LEE', 'correct horse battery'), 429, 'too-many-attempts');
    // other users are not affected
    await ok(await login('rae', 'rae-password-123'));
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000 + 200));
    await ok(await login('lee', 'correct horse battery'));
  });

  test('failures per client address are limited too', async () => {
    const limiter = new LoginLimiter(s.store.db, { maxPerUser: 100, maxPerIp: 3, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      await limiter.check(`u${i}`, '192.0.2.7');
      await limiter.fail(`u${i}`, '192.0.2.7');
    }
    await assert.rejects(limiter.check('someone-else', '192.0.2.7'), (e: Error & { status?: number }) => e.status === 429);
    await limiter.check('someone-else', '192.0.2.8');
  });

  test('users change their own password with the current one; admins set anyone\'s', async () => {
    const rae = (await ok<LoginResult>(await login('rae', 'rae-password-123', {}))).token!.token;
    const sessionRes = await login('rae', 'rae-password-123');
    const raeCookie = sessionRes.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const as = (json: unknown, user = 'rae') => fetch(`${s.url}/api/v1/users/${user}/password`, { method: 'PUT', headers: { authorization: `Bearer ${rae}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
    await expectProblem(await as({ password: 'another-password-1' }, 'lee'), 403, 'forbidden');
    await expectProblem(await as({ password: 'another-password-1' }), 403, 'forbidden');
    await expectProblem(await as({ password: 'another-password-1', currentPassword: 'wrong' }), 403, 'forbidden');
    assert.equal((await as({ password: 'another-password-1', currentPassword: 'rae-password-123' })).status, 204);
    await expectProblem(await login('rae', 'rae-password-123'), 401);
    await ok(await login('rae', 'another-password-1'));
    // her browser session ended with the change
    await expectProblem(await fetch(`${s.url}/api/v1/me`, { headers: { cookie: raeCookie } }), 401);
    const audit = await s.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.password').where('target', '=', 'user:default/rae').execute();
    assert.ok(audit.some((e) => e.outcome === 'succeeded'));
    assert.ok(audit.some((e) => e.outcome === 'denied'));
    for (const e of audit) assert.equal((e.details as { bodyDigest?: string }).bodyDigest, undefined, 'no digest of a body holding a password');
  });
});

describe('group mapping rules', () => {
  test('exact and prefix rules; managed teams', () => {
    const m = parseTeamMapping('eng-payments=payments, eng-web=web, plat-*=platform-*');
    assert.deepEqual(m.teamsFor(['eng-payments', 'plat-db', 'other', 'plat-']), ['payments', 'platform-db']);
    assert.ok(m.manages('payments'));
    assert.ok(m.manages('platform-anything'));
    assert.ok(!m.manages('guild'));
    const all = parseTeamMapping('*=*');
    assert.deepEqual(all.teamsFor(['Team A', 'ops']), ['ops'], 'invalid team names are ignored');
    assert.ok(all.manages('anything'));
    assert.throws(() => parseTeamMapping('eng-*=web'), /prefix rule/);
    assert.throws(() => parseTeamMapping('nonsense'), /not a mapping rule/);
    assert.throws(() => parseTeamMapping('a=not a name'), /not a valid team name/);
  });
});

describe('without an identity provider', () => {
  let plain: TestServer;
  before(async () => {
    plain = await startTestServer({ platform: null, auth: { publicUrl: 'https://pave.example.com/' } });
  });
  after(async () => {
    await plain?.close();
  });

  test('OIDC routes answer 404 with a clear problem; passwords still work', async () => {
    const p = await ok<AuthProviders>(await fetch(`${plain.url}/api/v1/auth/providers`));
    assert.deepEqual(p, { oidc: null, password: true });
    const problem = await expectProblem(await fetch(`${plain.url}/api/v1/auth/oidc/login`, { redirect: 'manual' }), 404, 'oidc-not-configured');
    assert.match(problem.detail ?? '', /PAVE_OIDC_ISSUER/);
    await expectProblem(await fetch(`${plain.url}/api/v1/auth/oidc/device`, { method: 'POST' }), 404, 'oidc-not-configured');
    await expectProblem(await fetch(`${plain.url}/api/v1/auth/oidc/callback?code=a&state=b`), 404, 'oidc-not-configured');
  });

  test('behind https (PAVE_PUBLIC_URL), session cookies are Secure and __Host- prefixed', async () => {
    await ok(await plain.api('/api/v1/users', { method: 'POST', json: { name: 'ines' } }), 201);
    assert.equal((await plain.api('/api/v1/users/ines/password', { method: 'PUT', json: { password: 'ines-password-1' } })).status, 204);
    const res = await fetch(`${plain.url}/api/v1/auth/password/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ines', password: 'ines-password-1' }) });
    const r = await ok<LoginResult>(res);
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('__Host-pave_session='));
    const csrf = cookies.find((c) => c.startsWith('__Host-pave_csrf='));
    assert.match(session ?? '', /; Secure/);
    assert.match(session ?? '', /HttpOnly/);
    assert.match(csrf ?? '', /; Secure/);
    const cookie = cookies.map((c) => c.split(';')[0]).join('; ');
    assert.equal((await ok<Me>(await fetch(`${plain.url}/api/v1/me`, { headers: { cookie } }))).user.ref, 'user:default/ines');
    // the plain-http cookie name is not accepted there
    await expectProblem(await fetch(`${plain.url}/api/v1/me`, { headers: { cookie: cookie.replaceAll('__Host-', '') } }), 401);
    assert.ok(r.session?.csrfToken);
  });
});
