import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../store/embedded.ts';
import { waitHealthy } from './health.ts';

describe('waitHealthy', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow-start') {
        hits += 1;
        res.statusCode = hits < 3 ? 503 : 200;
        res.end();
        return;
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/' }).end();
        return;
      }
      res.statusCode = req.url === '/broken' ? 500 : 200;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers ok on 2xx and 3xx, after failed attempts', async () => {
    const ok = await waitHealthy({ port, path: '/healthz', timeoutMs: 2000 });
    assert.equal(ok.ok, true);
    assert.equal((await waitHealthy({ port, path: '/redirect', timeoutMs: 2000 })).ok, true);
    const slow = await waitHealthy({ port, path: '/slow-start', timeoutMs: 2000, intervalMs: 10 });
    assert.equal(slow.ok, true);
    assert.equal(hits, 3);
  });

  it('fails with the status of a path that answers 500', async () => {
    const t0 = Date.now();
    const r = await waitHealthy({ port, path: '/broken', timeoutMs: 300 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /^GET \/broken answered 500/);
    assert.ok(Date.now() - t0 >= 290);
  });

  it('times out when nothing listens', async () => {
    const free = await freePort();
    const t0 = Date.now();
    const r = await waitHealthy({ port: free, path: '/healthz', timeoutMs: 500 });
    const ms = Date.now() - t0;
    assert.deepEqual(r, { ok: false, reason: `no answer on port ${free} after 0.5 s (connection refused)` });
    assert.ok(ms >= 490 && ms < 2000, `${ms} ms`);
  });

  it('stops with the reason isDead gives', async () => {
    const free = await freePort();
    let calls = 0;
    const r = await waitHealthy({
      port: free,
      path: '/',
      timeoutMs: 5000,
      isDead: async () => (++calls >= 3 ? 'web-0 exited with code 1' : null),
    });
    assert.deepEqual(r, { ok: false, reason: 'web-0 exited with code 1' });
    assert.equal(calls, 3);
  });

  it('stops on abort', async () => {
    const free = await freePort();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const r = await waitHealthy({ port: free, path: '/', timeoutMs: 5000, signal: ac.signal });
    assert.deepEqual(r, { ok: false, reason: 'aborted' });
    assert.ok(Date.now() - t0 < 1000);
  });
});
