import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { CreatedTokenSchema, Me, Token } from '../../src/contracts/access.ts';
import type { z } from 'zod';
import { startTestServer, type TestServer } from '../support/server.ts';
import { expectProblem, ok, paths } from './helpers.ts';

/** Authentication: every route but health needs a valid bearer token; tokens are created, listed, expire and are revoked. */

type CreatedToken = z.infer<typeof CreatedTokenSchema>;
interface OpenApiDoc {
  paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>>;
}

let s: TestServer;
let routes: { method: string; path: string; operationId: string; open: boolean }[] = [];

const PARAMS: Record<string, string> = { name: 'some-name', kind: 'team', namespace: 'default', id: randomUUID(), addon: 'db', env: 'development', build: '1', deployment: '1', action: 'migrate', pattern: 'node-service' };
const asUser = (token: string) => ({ authorization: `Bearer ${token}` });

async function newToken(name: string, init: { expiresInDays?: number; as?: string; forUser?: string } = {}): Promise<CreatedToken> {
  const path = init.forUser ? `/api/v1/users/${init.forUser}/tokens` : '/api/v1/tokens';
  const res = await s.api(path, { method: 'POST', json: { name, ...(init.expiresInDays ? { expiresInDays: init.expiresInDays } : {}) }, ...(init.as ? { headers: asUser(init.as) } : {}) });
  return ok<CreatedToken>(res, 201);
}

before(async () => {
  s = await startTestServer();
  const doc = await ok<OpenApiDoc>(await s.api('/api/v1/openapi.json'));
  for (const [template, ops] of Object.entries(doc.paths)) {
    const path = template.replace(/\{(\w+)\}/g, (_, p: string) => {
      assert.ok(PARAMS[p], `no sample value for path parameter ${p}`);
      return PARAMS[p]!;
    });
    for (const [method, op] of Object.entries(ops)) {
      routes.push({ method: method.toUpperCase(), path, operationId: op.operationId, open: Array.isArray(op.security) && op.security.length === 0 });
    }
  }
});
after(async () => {
  await s?.close();
});

describe('every route needs a token', () => {
  test('the OpenAPI document lists the routes, and only health and sign-in are open', () => {
    assert.ok(routes.length >= 20, `${routes.length} routes`);
    assert.deepEqual(routes.filter((r) => r.open).map((r) => `${r.method} ${r.path}`).sort(), [
      'GET /api/v1/auth/oidc/callback',
      'GET /api/v1/auth/oidc/login',
      'GET /api/v1/auth/providers',
      'GET /healthz',
      'GET /readyz',
      'POST /api/v1/auth/logout',
      'POST /api/v1/auth/oidc/cli/token',
      'POST /api/v1/auth/oidc/device',
      'POST /api/v1/auth/oidc/device/token',
      'POST /api/v1/auth/password/login',
    ]);
  });

  const cases: [string, Record<string, string>, RegExp][] = [
    ['no Authorization header', {}, /Bearer/],
    ['a Basic header', { authorization: 'Basic YWRtaW46YWRtaW4=' }, /Bearer/],
    ['"Bearer" without a token', { authorization: 'Bearer' }, /Bearer/],
    ['a token without the scheme', { authorization: 'pave_test-admin-token-0123456789abcdef' }, /Bearer/],
    ['two tokens', { authorization: 'Bearer a b' }, /Bearer/],
    ['an unknown token', { authorization: 'Bearer pave_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, /not known/],
    ['the admin token with one character changed', { authorization: 'Bearer pave_test-admin-token-0123456789abcdeF' }, /not known/],
  ];
  for (const [label, headers, detail] of cases) {
    test(`${label}: 401 with WWW-Authenticate on every protected route`, async () => {
      for (const r of routes.filter((x) => !x.open)) {
        const init: RequestInit = { method: r.method, headers: { ...headers } };
        if (r.method === 'POST' || r.method === 'PATCH') {
          init.body = JSON.stringify({ name: 'should-not-exist', files: [{ location: 'x', content: '' }] });
          (init.headers as Record<string, string>)['content-type'] = 'application/json';
        }
        const res = await fetch(s.url + r.path, init);
        const p = await expectProblem(res, 401, 'unauthorized');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="pave"', `${r.method} ${r.path}`);
        assert.match(p.detail ?? '', detail, `${r.method} ${r.path}`);
        assert.equal(p.instance, r.path);
      }
    });
  }

  test('a token is not accepted in the query string', async () => {
    await expectProblem(await fetch(`${s.url}/api/v1/me?access_token=${s.token}`), 401);
  });

  test('the scheme is case-insensitive and surrounding spaces are ignored', async () => {
    for (const h of [`bearer ${s.token}`, `BEARER ${s.token}`, `Bearer   ${s.token}  `]) {
      await ok(await fetch(`${s.url}/api/v1/me`, { headers: { authorization: h } }));
    }
  });

  test('health and readiness answer without a token', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(s.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(((await res.json()) as { status: string }).status, 'ok');
      assert.equal(res.headers.get('www-authenticate'), null);
    }
  });

  test('successful responses carry no WWW-Authenticate', async () => {
    const res = await s.api('/api/v1/me');
    await ok(res);
    assert.equal(res.headers.get('www-authenticate'), null);
  });
});

describe('API tokens', () => {
  test('a new token is shown once; lists never show its secret', async () => {
    const created = await newToken('ci');
    assert.match(created.token, /^pave_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.prefix, created.token.slice(0, 12));
    assert.equal(created.user, 'user:default/admin');
    assert.equal(created.name, 'ci');
    assert.equal(created.expiresAt, null);
    assert.equal(created.revokedAt, null);
    assert.ok(Math.abs(Date.parse(created.createdAt) - Date.now()) < 60_000);

    const res = await s.api('/api/v1/tokens');
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(!text.includes(created.token), 'the list does not hold the secret');
    assert.ok(!text.includes(s.token), 'nor the bootstrap secret');
    const list = (JSON.parse(text) as { items: (Token & { token?: string })[] }).items;
    const item = list.find((t) => t.id === created.id);
    assert.ok(item);
    assert.equal(item.token, undefined);
    assert.equal(item.prefix, created.prefix);
    assert.deepEqual(list.map((t) => t.name).sort(), ['bootstrap', 'ci']);

    // the secret is not kept in the database either
    const rows = await s.store.db.selectFrom('api_tokens').selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(created.token));

    const me = await ok<Me>(await s.api('/api/v1/me', { headers: asUser(created.token) }));
    assert.equal(me.token.name, 'ci');
    assert.equal(me.token.id, created.id);
  });

  test('token names are unique per user', async () => {
    await newToken('twice');
    await expectProblem(await s.api('/api/v1/tokens', { method: 'POST', json: { name: 'twice' } }), 409, 'conflict');
  });

  test('token input is validated', async () => {
    for (const [json, want] of [
      [{ name: 'x', expiresInDays: 0 }, ['body.expiresInDays']],
      [{ name: 'x', expiresInDays: 3651 }, ['body.expiresInDays']],
      [{ name: 'x', expiresInDays: 1.5 }, ['body.expiresInDays']],
      [{ name: 'bad name' }, ['body.name']],
      [{ name: 'x', secret: 'mine' }, ['body.secret']],
    ] as const) {
      const p = await expectProblem(await s.api('/api/v1/tokens', { method: 'POST', json }), 400, 'validation');
      assert.deepEqual(paths(p), want, JSON.stringify(json));
    }
  });

  test('the last use of a token is recorded', async () => {
    const t = await newToken('touched');
    assert.equal(t.lastUsedAt, null);
    await ok(await s.api('/api/v1/me', { headers: asUser(t.token) }));
    let lastUsedAt: string | null = null;
    for (let i = 0; i < 50 && !lastUsedAt; i++) {
      const list = await ok<{ items: Token[] }>(await s.api('/api/v1/tokens'));
      lastUsedAt = list.items.find((x) => x.id === t.id)?.lastUsedAt ?? null;
      if (!lastUsedAt) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(lastUsedAt, 'lastUsedAt is set after use');
  });

  test('an expiring token works until it expires, then gets 401 "expired"', async () => {
    const t = await newToken('short', { expiresInDays: 1 });
    assert.ok(t.expiresAt);
    const inADay = Date.now() + 86_400_000;
    assert.ok(Math.abs(Date.parse(t.expiresAt) - inADay) < 60_000, t.expiresAt);
    // A second, never used (so never cached) token: move its expiry into the past.
    const fresh = await newToken('short-2', { expiresInDays: 30 });
    await s.store.db.updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', fresh.id).execute();
    const res = await fetch(`${s.url}/api/v1/me`, { headers: asUser(fresh.token) });
    const p = await expectProblem(res, 401, 'unauthorized');
    assert.match(p.detail ?? '', /expired/);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="pave"');
    const me = await ok<Me>(await s.api('/api/v1/me', { headers: asUser(t.token) }));
    assert.equal(me.token.expiresAt, t.expiresAt);
  });

  test('a revoked token gets 401 "revoked" at once, even when it was just used', async () => {
    const t = await newToken('to-revoke');
    await ok(await s.api('/api/v1/me', { headers: asUser(t.token) })); // now cached
    const revoked = await ok<Token>(await s.api(`/api/v1/tokens/${t.id}`, { method: 'DELETE', headers: asUser(t.token) }));
    assert.ok(revoked.revokedAt);
    assert.equal(revoked.id, t.id);
    const p = await expectProblem(await s.api('/api/v1/me', { headers: asUser(t.token) }), 401, 'unauthorized');
    assert.match(p.detail ?? '', /revoked/);
    // revoking again is harmless and keeps the first revocation time
    const again = await ok<Token>(await s.api(`/api/v1/tokens/${t.id}`, { method: 'DELETE' }));
    assert.equal(again.revokedAt, revoked.revokedAt);
    const listed = (await ok<{ items: Token[] }>(await s.api('/api/v1/tokens'))).items.find((x) => x.id === t.id);
    assert.equal(listed?.revokedAt, revoked.revokedAt);
  });

  test('revoking an unknown token is a 404', async () => {
    await expectProblem(await s.api(`/api/v1/tokens/${randomUUID()}`, { method: 'DELETE' }), 404, 'not-found');
  });
});

describe('tokens of other users', () => {
  let bob: CreatedToken;
  before(async () => {
    await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'bob', displayName: 'Bob', email: 'bob@example.com' } }), 201);
    bob = await newToken('bob-cli', { forUser: 'bob' });
  });

  test('an admin issues a token to another user, who then acts as that user', async () => {
    assert.equal(bob.user, 'user:default/bob');
    assert.equal(bob.prefix, bob.token.slice(0, 12));
    const me = await ok<Me>(await s.api('/api/v1/me', { headers: asUser(bob.token) }));
    assert.deepEqual(me.user, { ref: 'user:default/bob', name: 'bob', title: 'Bob', email: 'bob@example.com' });
    assert.deepEqual(me.roles, []);
    assert.equal(me.token.name, 'bob-cli');
    const mine = await ok<{ items: Token[] }>(await s.api('/api/v1/tokens', { headers: asUser(bob.token) }));
    assert.deepEqual(mine.items.map((t) => [t.name, t.user]), [['bob-cli', 'user:default/bob']]);
    const admins = await ok<{ items: Token[] }>(await s.api('/api/v1/tokens'));
    assert.ok(!admins.items.some((t) => t.id === bob.id), "the admin's list holds only the admin's tokens");
  });

  test('a user can create their own tokens', async () => {
    const own = await newToken('bob-laptop', { as: bob.token });
    assert.equal(own.user, 'user:default/bob');
    const me = await ok<Me>(await s.api('/api/v1/me', { headers: asUser(own.token) }));
    assert.equal(me.user.ref, 'user:default/bob');
  });

  test('a non-admin may not issue tokens to anyone', async () => {
    for (const user of ['admin', 'bob']) {
      const p = await expectProblem(await s.api(`/api/v1/users/${user}/tokens`, { method: 'POST', json: { name: 'sneaky' }, headers: asUser(bob.token) }), 403, 'forbidden');
      assert.match(p.detail ?? '', /admin/);
    }
    const adminTokens = await ok<{ items: Token[] }>(await s.api('/api/v1/tokens'));
    assert.ok(!adminTokens.items.some((t) => t.name === 'sneaky'));
  });

  test("a non-admin cannot revoke someone else's token; an admin can", async () => {
    const victim = await newToken('victim');
    await expectProblem(await s.api(`/api/v1/tokens/${victim.id}`, { method: 'DELETE', headers: asUser(bob.token) }), 404);
    await ok(await s.api('/api/v1/me', { headers: asUser(victim.token) }));

    const bobs = await newToken('bob-2', { forUser: 'bob' });
    await ok(await s.api('/api/v1/me', { headers: asUser(bobs.token) }));
    const revoked = await ok<Token>(await s.api(`/api/v1/tokens/${bobs.id}`, { method: 'DELETE' }));
    assert.equal(revoked.user, 'user:default/bob', 'the revoked token still names its own user');
    await expectProblem(await s.api('/api/v1/me', { headers: asUser(bobs.token) }), 401);
  });

  test('issuing a token to a user who does not exist is a 404', async () => {
    await expectProblem(await s.api('/api/v1/users/nobody/tokens', { method: 'POST', json: { name: 'x' } }), 404, 'not-found');
    await expectProblem(await s.api('/api/v1/users/bob/tokens?namespace=elsewhere', { method: 'POST', json: { name: 'x' } }), 404, 'not-found');
  });

  test('tokens of a user in another namespace', async () => {
    await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'bob', namespace: 'elsewhere' } }), 201);
    const t = await ok<CreatedToken>(await s.api('/api/v1/users/bob/tokens?namespace=elsewhere', { method: 'POST', json: { name: 'ns' } }), 201);
    assert.equal(t.user, 'user:elsewhere/bob');
    const me = await ok<Me>(await s.api('/api/v1/me', { headers: asUser(t.token) }));
    assert.equal(me.user.ref, 'user:elsewhere/bob');
  });

  test("deleting a user ends their tokens", async () => {
    await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'carol' } }), 201);
    const t = await newToken('carol-cli', { forUser: 'carol' });
    const res = await s.api('/api/v1/users/carol', { method: 'DELETE' });
    assert.equal(res.status, 204);
    const p = await expectProblem(await s.api('/api/v1/me', { headers: asUser(t.token) }), 401);
    assert.match(p.detail ?? '', /not known/);
  });
});

describe('/api/v1/me', () => {
  test('names the admin, their roles, teams and token', async () => {
    let me = await ok<Me>(await s.api('/api/v1/me'));
    assert.deepEqual(me.user, { ref: 'user:default/admin', name: 'admin', title: 'Administrator', email: null });
    assert.deepEqual(me.roles, ['admin']);
    assert.deepEqual(me.teams, []);
    assert.equal(me.token.name, 'bootstrap');
    assert.equal(me.token.expiresAt, null);
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'platform', members: ['admin'] } }), 201);
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'sre', members: ['user:default/admin'] } }), 201);
    me = await ok<Me>(await s.api('/api/v1/me'));
    assert.deepEqual(me.teams.sort(), ['team:default/platform', 'team:default/sre']);
  });
});

test('a deleted user\'s token stops working at once, even when it was just used (cached)', async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.api('/api/v1/users', { method: 'POST', json: { name: 'leaver' } })).status, 201);
    const issued = (await (await s.api('/api/v1/users/leaver/tokens', { method: 'POST', json: { name: 'laptop' } })).json()) as { token: string };
    const asLeaver = { headers: { authorization: `Bearer ${issued.token}` } };
    assert.equal((await s.api('/api/v1/me', asLeaver)).status, 200);
    assert.equal((await s.api('/api/v1/users/leaver', { method: 'DELETE' })).status, 204);
    assert.equal((await s.api('/api/v1/me', asLeaver)).status, 401);
  } finally {
    await s.close();
  }
});
