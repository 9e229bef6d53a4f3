import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent, AuditPage, AuditVerification } from '../../src/contracts/audit.ts';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../../src/access/principal.ts';
import type { AuditEntry } from '../../src/audit/log.ts';
import { installProblemHandlers } from '../../src/http/problem.ts';
import { defineRoute } from '../../src/http/route.ts';
import { createLogger } from '../../src/logging.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/browser.ts';
import { expectProblem, ok } from './helpers.ts';

/**
 * The audit log over HTTP: every state-changing request of an authenticated caller (and every secret
 * read) leaves exactly one event, with the caller, the operation, the target, the outcome, the request
 * id and a digest of the body, never the body; queries, pages, export and verification, for admins only.
 */

const SECRET = 'sk_live_AUDIT-never-log-me-7f3a9c';
const SECRET2 = 'pw-config-secret-5e1d0b';
const TEAM = 'audit-team';
const APP = 'audit-shop';

let s: TestServer;
let dana: string;
const asDana = () => ({ authorization: `Bearer ${dana}` });

/**
 * HMAC-SHA256 of JSON with sorted keys, keyed with a key derived from the server's secret key: what
 * the server digests of a JSON body (a plain sha256 of a body with a weak secret could be guessed).
 */
function digestOf(body: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  const plain = `sha256:${createHash('sha256').update(JSON.stringify(canon(body))).digest('hex')}`;
  const keyed = s.services.audit.digest(body)!;
  assert.match(keyed, /^hmac-sha256:[0-9a-f]{64}$/);
  assert.notEqual(keyed.slice(keyed.indexOf(':')), plain.slice(plain.indexOf(':')), 'keyed, not a plain digest');
  return keyed;
}

async function page(query: Record<string, string | number> = {}, headers?: Record<string, string>): Promise<AuditPage> {
  const q = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  return ok<AuditPage>(await s.api(`/api/v1/audit?${q}`, headers ? { headers } : {}));
}

/** The events one request left (by its x-request-id). */
async function eventsOf(res: Response): Promise<AuditEvent[]> {
  const id = res.headers.get('x-request-id');
  assert.ok(id, 'the response names its request id');
  return (await page({ requestId: id })).items;
}

/** The one event a request left. */
async function eventOf(res: Response): Promise<AuditEvent> {
  const events = await eventsOf(res);
  assert.equal(events.length, 1, `one event for ${res.url}: ${JSON.stringify(events)}`);
  return events[0]!;
}

async function allRows(): Promise<unknown[]> {
  return s.store.db.selectFrom('audit_events').selectAll().execute();
}

before(async () => {
  s = await startTestServer();
  await ok(await s.api('/api/v1/users', { method: 'POST', json: { name: 'dana' } }), 201);
  dana = (await ok<{ token: string }>(await s.api('/api/v1/users/dana/tokens', { method: 'POST', json: { name: 'audit' } }), 201)).token;
  await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'shop-team', members: ['admin'] } }), 201);
  await ok(await s.api('/api/v1/applications', { method: 'POST', json: { name: APP, owner: 'shop-team', template: 'node-service' } }), 201);
});
after(async () => {
  await s?.close();
});

describe('what is audited', () => {
  test('creating, changing and deleting a team: one event each, with actor, action, target, outcome, request id and body digest', async () => {
    const created = { name: TEAM, title: 'Audit', description: `api key ${SECRET}` };
    const res = await s.api('/api/v1/teams', { method: 'POST', json: created });
    const team = await ok<{ version: number }>(res, 201);
    const e = await eventOf(res);
    assert.equal(e.actor, 'user:default/admin');
    assert.equal(e.action, 'createTeam');
    assert.equal(e.target, `team:default/${TEAM}`, 'a creation targets what it created');
    assert.equal(e.outcome, 'succeeded');
    assert.equal(e.requestId, res.headers.get('x-request-id'));
    assert.equal(e.details.status, 201);
    assert.equal(e.details.method, 'POST');
    assert.equal(e.details.bodyDigest, digestOf(created));
    assert.match(e.hash, /^[0-9a-f]{64}$/);
    assert.ok(Date.now() - Date.parse(e.at) < 60_000);

    const patch = await s.api(`/api/v1/teams/${TEAM}`, { method: 'PATCH', json: { description: 'no secret here' }, headers: { 'if-match': `"${team.version}"` } });
    await ok(patch, 200);
    const p = await eventOf(patch);
    assert.deepEqual([p.actor, p.action, p.target, p.outcome, p.details.status], ['user:default/admin', 'updateTeam', `team:default/${TEAM}`, 'succeeded', 200]);
    assert.equal(p.details.bodyDigest, digestOf({ description: 'no secret here' }));

    const del = await s.api(`/api/v1/teams/${TEAM}?namespace=default`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    const d = await eventOf(del);
    assert.deepEqual([d.action, d.target, d.outcome, d.details.status], ['deleteTeam', `team:default/${TEAM}`, 'succeeded', 204]);
    assert.equal(d.details.bodyDigest, undefined, 'no body, no digest');
  });

  test('a failed validation and a refusal are audited as failed and denied, with the problem title', async () => {
    const bad = { name: 'Not A Valid Name!', description: SECRET, color: SECRET };
    const res = await s.api('/api/v1/teams', { method: 'POST', json: bad });
    const problem = await expectProblem(res, 400);
    const e = await eventOf(res);
    assert.deepEqual([e.actor, e.action, e.target, e.outcome, e.details.status], ['user:default/admin', 'createTeam', '/api/v1/teams', 'failed', 400]);
    assert.deepEqual(e.details.problem, { type: problem.type, title: problem.title });
    assert.equal(e.details.bodyDigest, digestOf(bad));

    const denied = await s.api('/api/v1/platform/secrets/stolen', { method: 'PUT', json: { value: SECRET }, headers: asDana() });
    await expectProblem(denied, 403);
    const d = await eventOf(denied);
    assert.deepEqual([d.actor, d.action, d.target, d.outcome, d.details.status], ['user:default/dana', 'setPlatformSecret', '/api/v1/platform/secrets/stolen', 'denied', 403]);
    assert.equal(d.details.bodyDigest, digestOf({ value: SECRET }));

    const malformed = await s.api('/api/v1/teams', { method: 'POST', body: `{"name": "${SECRET}`, headers: { 'content-type': 'application/json' } });
    await expectProblem(malformed, 400);
    assert.equal((await eventOf(malformed)).outcome, 'failed');
  });

  test('requests without a valid token, and reads, leave no event', async () => {
    const anon = await s.api('/api/v1/teams', { method: 'POST', json: { name: 'anon-team' }, headers: { authorization: 'Bearer pave_nope' } });
    assert.equal(anon.status, 401);
    assert.deepEqual(await eventsOf(anon), []);
    const read = await s.api('/api/v1/teams');
    await ok(read);
    assert.deepEqual(await eventsOf(read), []);
    const plan = await s.api(`/api/v1/applications/${APP}/environments/development/plan`, { method: 'POST' });
    await ok(plan);
    assert.deepEqual(await eventsOf(plan), [], 'a plan changes nothing');
  });

  test('a token creation (a sign-in credential) is audited, without the token', async () => {
    const res = await s.api('/api/v1/tokens', { method: 'POST', json: { name: 'laptop' } });
    const { token } = await ok<{ token: string }>(res, 201);
    const e = await eventOf(res);
    assert.deepEqual([e.action, e.target, e.outcome], ['createToken', '/api/v1/tokens', 'succeeded']);
    assert.doesNotMatch(JSON.stringify(await allRows()), new RegExp(token));
  });

  test('secret reads (?reveal=true) are audited as secret.read, refused ones too; masked reads are not', async () => {
    const env = `/api/v1/applications/${APP}/environments/development`;
    const patch = await s.api(`${env}/config`, { method: 'PATCH', json: { secrets: { API_KEY: SECRET2 } } });
    await ok(patch);
    assert.equal((await eventOf(patch)).target, `application:default/${APP}/environments/development/config`);

    const reveal = await s.api(`${env}/config?reveal=true`);
    assert.match(await reveal.text(), new RegExp(SECRET2));
    const e = await eventOf(reveal);
    assert.deepEqual([e.actor, e.action, e.target, e.outcome, e.details.status], ['user:default/admin', 'secret.read', `application:default/${APP}/environments/development/config`, 'succeeded', 200]);
    assert.equal(e.details.operation, 'getConfig');

    const masked = await s.api(`${env}/config`);
    await ok(masked);
    assert.deepEqual(await eventsOf(masked), []);

    for (const what of ['resources', 'variables']) {
      const r = await s.api(`${env}/${what}?reveal=true&namespace=default`);
      assert.ok(r.status === 200 || r.status === 409, `${what}: ${r.status}`);
      const ev = await eventOf(r);
      assert.equal(ev.action, 'secret.read');
      assert.equal(ev.target, `application:default/${APP}/environments/development/${what}`);
    }

    const refused = await s.api(`${env}/config?reveal=true`, { headers: asDana() });
    await expectProblem(refused, 403);
    const d = await eventOf(refused);
    assert.deepEqual([d.actor, d.action, d.outcome], ['user:default/dana', 'secret.read', 'denied']);
    assert.doesNotMatch(JSON.stringify(await allRows()), new RegExp(SECRET2));
  });

  test('an action run is audited once, by the actions service (action.run), not a second time by the kernel', async () => {
    const res = await s.api(`/api/v1/applications/${APP}/environments/development/actions/seed/runs`, { method: 'POST', json: {}, headers: asDana() });
    await expectProblem(res, 403);
    const e = await eventOf(res);
    assert.deepEqual([e.actor, e.action, e.target, e.outcome], ['user:default/dana', 'action.run', `application:default/${APP}/development/seed`, 'denied']);
    // refused before the service decides: the kernel audits it
    const missing = await s.api(`/api/v1/applications/${APP}/environments/development/actions/no-such-action/runs`, { method: 'POST', json: {} });
    await expectProblem(missing, 404);
    assert.deepEqual(((await eventOf(missing)) as AuditEvent).action, 'runAction');
  });

  test('a streamed request is audited when its stream ended', async () => {
    const res = await s.api(`/api/v1/applications/${APP}/environments/development/apply`, { method: 'POST', headers: { accept: 'application/x-ndjson' } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /"result"/);
    let events: AuditEvent[] = [];
    await until('the stream is audited', async () => (events = await eventsOf(res)).length > 0);
    assert.equal(events.length, 1);
    assert.deepEqual([events[0]!.action, events[0]!.target, events[0]!.outcome, events[0]!.details.streamed], ['applyResources', `application:default/${APP}/environments/development/apply`, 'succeeded', true]);
  });

  test('no request body, and no secret, is ever stored in the audit log', async () => {
    const rows = JSON.stringify(await allRows());
    assert.doesNotMatch(rows, new RegExp(SECRET));
    assert.doesNotMatch(rows, new RegExp(SECRET2));
    assert.doesNotMatch(rows, /api key/);
  });
});

describe('querying the log', () => {
  test('by actor (a name or a ref), action, outcome and target prefix', async () => {
    const byName = await page({ actor: 'dana' });
    const byRef = await page({ actor: 'user:default/dana' });
    assert.ok(byName.items.length >= 3);
    assert.deepEqual(byName.items.map((e) => e.id), byRef.items.map((e) => e.id));
    assert.ok(byName.items.every((e) => e.actor === 'user:default/dana'));
    assert.ok((await page({ action: 'secret.read' })).items.every((e) => e.action === 'secret.read'));
    const denied = await page({ outcome: 'denied' });
    assert.ok(denied.items.length >= 3 && denied.items.every((e) => e.outcome === 'denied'));
    const app = await page({ targetPrefix: `application:default/${APP}/` });
    assert.ok(app.items.length >= 5 && app.items.every((e) => e.target.startsWith(`application:default/${APP}/`)));
    assert.ok((await page({ target: `team:default/${TEAM}` })).items.length === 3);
  });

  test('by time range: since inclusive, until exclusive', async () => {
    const mark = await s.api('/api/v1/teams', { method: 'POST', json: { name: 'time-team-a' } });
    await ok(mark, 201);
    const a = await eventOf(mark);
    await new Promise((r) => setTimeout(r, 20));
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const later = await s.api('/api/v1/teams', { method: 'POST', json: { name: 'time-team-b' } });
    await ok(later, 201);
    const b = await eventOf(later);
    const since = (await page({ since: cut, limit: 1000 })).items.map((e) => e.id);
    const untilCut = (await page({ until: cut, limit: 1000 })).items.map((e) => e.id);
    assert.ok(since.includes(b.id) && !since.includes(a.id));
    assert.ok(untilCut.includes(a.id) && !untilCut.includes(b.id));
    assert.deepEqual((await page({ since: a.at, until: b.at })).items.map((e) => e.id), [a.id]);
    await expectProblem(await s.api('/api/v1/audit?since=yesterday'), 400);
  });

  test('pages newest first, by keyset cursor, without gaps or repeats', async () => {
    const all = (await page({ limit: 1000 })).items.map((e) => e.id);
    assert.ok(all.length > 10);
    assert.deepEqual(all, [...all].sort((x, y) => y - x), 'newest first');
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const p: AuditPage = await page({ limit: 3, ...(cursor ? { cursor } : {}) });
      assert.ok(p.items.length <= 3);
      seen.push(...p.items.map((e) => e.id));
      cursor = p.nextCursor;
    } while (cursor);
    // events written while paging (none here: GETs are not audited) would only appear before the first page
    assert.deepEqual(seen, all);
    await expectProblem(await s.api('/api/v1/audit?cursor=abc'), 400);
  });

  test('export: every matching event as JSON lines, oldest first', async () => {
    const res = await s.api('/api/v1/audit/export');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="pave-audit-.*\.jsonl"/);
    const text = await res.text();
    assert.ok(text.endsWith('\n'));
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    const count = Number((await s.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(lines.length, count);
    for (let i = 1; i < lines.length; i++) {
      assert.ok(lines[i]!.id > lines[i - 1]!.id);
      assert.equal(lines[i]!.prevHash, lines[i - 1]!.hash, 'an export of the whole log is a chain');
    }
    const danas = (await (await s.api('/api/v1/audit/export?actor=dana')).text()).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    assert.deepEqual(danas.map((e) => e.id), (await page({ actor: 'dana' })).items.map((e) => e.id).reverse());
  });

  test('only admins may read, export or verify the log', async () => {
    for (const p of ['/api/v1/audit', '/api/v1/audit/export', '/api/v1/audit/verify']) await expectProblem(await s.api(p, { headers: asDana() }), 403);
  });

  test('no route changes or deletes an event', async () => {
    const doc = await ok<{ paths: Record<string, Record<string, unknown>> }>(await s.api('/api/v1/openapi.json'));
    const audit = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/v1/audit'));
    assert.deepEqual(audit.map(([p]) => p).sort(), ['/api/v1/audit', '/api/v1/audit/export', '/api/v1/audit/verify']);
    for (const [p, ops] of audit) assert.deepEqual(Object.keys(ops), ['get'], p);
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) assert.equal((await s.api('/api/v1/audit', { method })).status, 404, method);
  });
});

describe('verifying the chain', () => {
  test('holds, then breaks where the store was tampered with', async () => {
    const count = Number((await s.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    assert.deepEqual(await ok<AuditVerification>(await s.api('/api/v1/audit/verify')), { ok: true, checked: count, brokenAt: null });

    // an edited event
    const victim = await s.store.db.selectFrom('audit_events').selectAll().orderBy('id').offset(3).limit(1).executeTakeFirstOrThrow();
    await s.store.db.updateTable('audit_events').set({ outcome: 'succeeded', actor: 'user:default/someone-else' }).where('id', '=', victim.id).execute();
    assert.deepEqual(await ok<AuditVerification>(await s.api('/api/v1/audit/verify')), { ok: false, checked: 3, brokenAt: Number(victim.id), reason: 'edited' });
    await s.store.db.updateTable('audit_events').set({ outcome: victim.outcome, actor: victim.actor }).where('id', '=', victim.id).execute();
    assert.equal((await ok<AuditVerification>(await s.api('/api/v1/audit/verify'))).ok, true, 'put back as it was, it holds again');

    // a deleted event: the next one no longer links
    const [, , , , gone, next] = await s.store.db.selectFrom('audit_events').select('id').orderBy('id').limit(6).execute();
    await s.store.db.deleteFrom('audit_events').where('id', '=', gone!.id).execute();
    assert.deepEqual(await ok<AuditVerification>(await s.api('/api/v1/audit/verify')), { ok: false, checked: 4, brokenAt: Number(next!.id), reason: 'unlinked' });
  });
});

describe('the route kernel', () => {
  test('a failing audit write is logged and never breaks the answer', async () => {
    const lines: string[] = [];
    const app = Fastify({ loggerInstance: createLogger('info', { write: (l: string) => void lines.push(l) }) as FastifyBaseLogger });
    installProblemHandlers(app);
    const principal: Principal = { userId: 'u', userRef: 'user:default/kim', userName: 'kim', roles: [], tokenId: 't', tokenName: 'cli', tokenExpiresAt: null };
    const written: AuditEntry[] = [];
    let fail = true;
    const sink = async (e: AuditEntry) => {
      if (fail) throw new Error('the store is away');
      written.push(e);
    };
    defineRoute({
      method: 'POST', url: '/api/v1/things', operationId: 'createThing', summary: 'x', tag: 'x', body: z.strictObject({ name: z.string() }),
      response: { status: 201, description: 'x', schema: z.object({ name: z.string() }) }, handler: ({ body }) => body,
    }).mount(app, async () => principal, sink);
    const res = await app.inject({ method: 'POST', url: '/api/v1/things', payload: { name: 'a' } });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json(), { name: 'a' });
    assert.ok(lines.some((l) => /audit event not written/.test(l) && /createThing/.test(l)), lines.join(''));
    fail = false;
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/things', payload: { name: 'b' } })).statusCode, 201);
    assert.deepEqual(written.map((e) => [e.actor, e.action, e.target, e.outcome]), [['user:default/kim', 'createThing', '/api/v1/things', 'succeeded']]);
    assert.equal(written[0]!.details!.token, 'cli');
    await app.close();
  });
});
