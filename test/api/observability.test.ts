import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { startTestServer, type TestServer } from '../support/server.ts';
import { expectProblem, ok } from './helpers.ts';

/** Metrics, health and logs: what operators see, and that no secret ever reaches a log line. */

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.close();
});

async function metrics(server: TestServer): Promise<string> {
  const res = await server.api('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, e.g. sample(text, 'pave_http_requests_total', {route: '/x'}); 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const got = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('metrics', () => {
  test('requests are counted and timed by method, route template and status', async () => {
    await ok(await s.api('/api/v1/teams', { method: 'POST', json: { name: 'metered' } }), 201);
    const before = await metrics(s);
    for (let i = 0; i < 3; i++) await ok(await s.api('/api/v1/teams/metered'));
    await expectProblem(await s.api('/api/v1/teams/not-there'), 404);
    await expectProblem(await fetch(`${s.url}/api/v1/teams/metered`), 401);
    const text = await metrics(s);
    assert.match(text, /# TYPE pave_http_requests_total counter/);
    assert.match(text, /# TYPE pave_http_request_duration_seconds histogram/);
    const route = '/api/v1/teams/:name';
    const delta = (status: string) => sample(text, 'pave_http_requests_total', { method: 'GET', route, status }) - sample(before, 'pave_http_requests_total', { method: 'GET', route, status });
    assert.equal(delta('200'), 3);
    assert.equal(delta('404'), 1);
    assert.equal(delta('401'), 1);
    assert.equal(sample(text, 'pave_http_requests_total', { method: 'POST', route: '/api/v1/teams', status: '201' }), 1);
    const count = sample(text, 'pave_http_request_duration_seconds_count', { method: 'GET', route, status: '200' });
    assert.ok(count >= 3, `histogram count ${count}`);
    assert.ok(sample(text, 'pave_http_request_duration_seconds_sum', { method: 'GET', route, status: '200' }) > 0);
    assert.equal(sample(text, 'pave_http_request_duration_seconds_bucket', { method: 'GET', route, status: '200', le: '+Inf' }), count);
    assert.ok(!text.includes('/api/v1/teams/metered'), 'routes are labelled by template, not by URL');
  });

  test('unknown paths share one label, so they cannot blow up the series', async () => {
    const junk = `junk-${Date.now()}`;
    await expectProblem(await s.api(`/api/v1/${junk}`), 404);
    await expectProblem(await s.api(`/api/v1/${junk}`, { method: 'POST' }), 404);
    const text = await metrics(s);
    assert.ok(!text.includes(junk));
    assert.ok(sample(text, 'pave_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }) >= 1);
    assert.ok(sample(text, 'pave_http_requests_total', { method: 'POST', route: 'unmatched', status: '404' }) >= 1);
  });

  test('process metrics are exported with the pave_ prefix', async () => {
    const text = await metrics(s);
    for (const name of ['pave_process_cpu_user_seconds_total', 'pave_process_resident_memory_bytes', 'pave_nodejs_heap_size_used_bytes', 'pave_nodejs_eventloop_lag_seconds']) {
      assert.match(text, new RegExp(`^${name} `, 'm'), name);
    }
  });

  test('metrics need a token', async () => {
    await expectProblem(await fetch(`${s.url}/metrics`), 401, 'unauthorized');
  });
});

describe('health', () => {
  test('/healthz and /readyz answer without a token', async () => {
    const h = await fetch(`${s.url}/healthz`);
    assert.deepEqual(await ok(h), { status: 'ok' });
    assert.ok(h.headers.get('x-request-id'));
    assert.deepEqual(await ok(await fetch(`${s.url}/readyz`)), { status: 'ok', store: 'external' });
  });

  test('/readyz is 503 when the store does not answer, while /healthz stays 200', async () => {
    const down = await startTestServer();
    try {
      await ok(await fetch(`${down.url}/readyz`));
      const url = new URL(down.store.url);
      const name = url.pathname.slice(1);
      url.pathname = '/postgres';
      const admin = new pg.Client({ connectionString: url.toString() });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
      const r = await fetch(`${down.url}/readyz`);
      assert.equal(r.status, 503);
      assert.deepEqual(await r.json(), { status: 'unavailable', store: 'external' });
      assert.deepEqual(await ok(await fetch(`${down.url}/healthz`)), { status: 'ok' });
    } finally {
      await down.close();
    }
  });
});

describe('logs', () => {
  let logged: TestServer;
  const lines: string[] = [];
  const stream = { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) };
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  before(async () => {
    logged = await startTestServer({ logStream: stream });
  });
  after(async () => {
    await logged?.close();
  });

  test('no request puts a token into the log', async () => {
    const created = await ok<{ token: string; id: string }>(await logged.api('/api/v1/tokens', { method: 'POST', json: { name: 'secret-holder' } }), 201);
    const secret = created.token;
    const asIt = { authorization: `Bearer ${secret}` };
    const attempts: [string, RequestInit][] = [
      ['/api/v1/me', { headers: asIt }],
      ['/api/v1/tokens', { headers: asIt }],
      [`/api/v1/me?token=${secret}`, {}],
      [`/api/v1/entities?q=x&access_token=${encodeURIComponent(secret)}`, {}],
      [`/api/v1/entities?q=${secret}`, {}],
      ['/api/v1/teams', { method: 'POST', headers: { ...asIt, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'leak', token: secret, [secret]: 1 }) }],
      ['/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', expiresInDays: secret }) }],
      ['/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: secret }) }],
      ['/api/v1/teams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"password": "${secret}", ` }],
      ['/api/v1/me', { headers: { authorization: `Bearer ${secret}x` } }],
      ['/api/v1/me', { headers: { authorization: `Basic ${secret}` } }],
      ['/api/v1/me', { headers: { cookie: `session=${secret}` } }],
    ];
    for (const [path, init] of attempts) await (await logged.api(path, init)).text();
    await new Promise((r) => setTimeout(r, 50));
    await (await logged.api(`/api/v1/tokens/${created.id}`, { method: 'DELETE' })).text();
    const text = lines.join('\n');
    assert.ok(lines.length > attempts.length * 2, `${lines.length} log lines`);
    assert.ok(!text.includes(secret), 'the token is not in the log');
    assert.ok(!text.includes(secret.slice(5)), 'not even without its prefix');
    assert.ok(!text.includes(logged.token), 'nor the admin token');
    assert.match(text, /"url":"\/api\/v1\/me\?token=\[redacted\]"/, 'the request is still logged, with the value redacted');
    assert.match(text, /"url":"\/api\/v1\/entities\?q=x&access_token=\[redacted\]"/);
  });

  test('every request log line carries the request id that the response names', async () => {
    lines.length = 0;
    const ids: string[] = [];
    for (const path of ['/api/v1/me', '/api/v1/teams/none', '/healthz']) {
      const res = await logged.api(path);
      await res.text();
      const id = res.headers.get('x-request-id');
      assert.match(id ?? '', /^[0-9a-f-]{36}$/);
      ids.push(id!);
    }
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    const own = await logged.api('/api/v1/me', { headers: { 'x-request-id': 'trace-from-client-1' } });
    await own.text();
    assert.equal(own.headers.get('x-request-id'), 'trace-from-client-1', "a caller's request id is kept");
    ids.push('trace-from-client-1');
    await new Promise((r) => setTimeout(r, 50));
    const recs = records();
    const requestLines = recs.filter((r) => 'req' in r || 'res' in r);
    assert.ok(requestLines.length >= 8, JSON.stringify(recs));
    for (const r of requestLines) assert.equal(typeof r.reqId, 'string', JSON.stringify(r));
    for (const id of ids) {
      const mine = recs.filter((r) => r.reqId === id);
      assert.deepEqual(mine.map((r) => r.msg), ['incoming request', 'request completed'], id);
      assert.equal(typeof (mine[1]!.res as { statusCode: number }).statusCode, 'number');
      assert.equal(typeof mine[1]!.responseTime, 'number');
    }
    for (const r of recs) {
      assert.equal(r.service, 'pave');
      assert.equal(typeof r.time, 'string');
    }
  });

  test('an unexpected error is logged with its stack under the request id; the response only names the id', async () => {
    await sql`CREATE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated storage failure'; END $$`.execute(logged.store.db);
    await sql`CREATE TRIGGER test_fail_insert BEFORE INSERT ON entities FOR EACH ROW EXECUTE FUNCTION test_fail_insert()`.execute(logged.store.db);
    try {
      lines.length = 0;
      const res = await logged.api('/api/v1/teams', { method: 'POST', json: { name: 'doomed' } });
      const p = await expectProblem(res, 500, 'internal');
      const id = res.headers.get('x-request-id')!;
      assert.ok(p.detail?.includes(id));
      assert.ok(!JSON.stringify(p).includes('simulated'));
      await new Promise((r) => setTimeout(r, 50));
      const errors = records().filter((r) => r.level === 50);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]!.reqId, id);
      const err = errors[0]!.err as { message: string; stack: string };
      assert.match(err.message, /simulated storage failure/);
      assert.ok(err.stack.length > 0);
    } finally {
      await sql`DROP TRIGGER test_fail_insert ON entities`.execute(logged.store.db);
      await sql`DROP FUNCTION test_fail_insert()`.execute(logged.store.db);
    }
  });
});
