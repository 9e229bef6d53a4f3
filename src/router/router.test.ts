import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Router, parseHostname, routeLabel } from './router.ts';
import { deadPort, json, send, sleep, startBackend, type Backend } from './testing.ts';
import type { RouteKey } from './types.ts';

const shopDev: RouteKey = { namespace: 'default', application: 'shop', environment: 'dev' };

interface Echoed {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe('host parsing and labels', () => {
  it('strips the port, lowercases and keeps IPv6 brackets', () => {
    assert.equal(parseHostname('Shop-Dev.LocalHost:8080'), 'shop-dev.localhost');
    assert.equal(parseHostname('localhost'), 'localhost');
    assert.equal(parseHostname('[::1]:80'), '[::1]');
    assert.equal(parseHostname('shop-dev.localhost.'), 'shop-dev.localhost');
    assert.equal(parseHostname(undefined), '');
  });
  it('labels the default namespace without a suffix and others with one', () => {
    assert.equal(routeLabel(shopDev), 'shop-dev');
    assert.equal(routeLabel({ namespace: 'team-a', application: 'shop', environment: 'dev' }), 'shop-dev.team-a');
  });
});

describe('Router: routing and proxying', () => {
  const router = new Router({ backendTimeoutMs: 300 });
  let port = 0;
  let a: Backend;
  let b: Backend;
  let team: Backend;
  let dashed: Backend;

  before(async () => {
    a = await startBackend('A');
    b = await startBackend('B');
    team = await startBackend('team');
    dashed = await startBackend('dashed');
    port = await router.listen(0);
    router.set(shopDev, { deploymentId: 'd-a', backends: [{ host: '127.0.0.1', port: a.port }] });
    router.set({ namespace: 'team-a', application: 'shop', environment: 'dev' }, { deploymentId: 'd-team', backends: [{ host: '127.0.0.1', port: team.port }] });
    // app "my-app" + env "prod-eu": the label has dashes from both, looked up whole.
    router.set({ namespace: 'default', application: 'my-app', environment: 'prod-eu' }, { deploymentId: 'd-dashed', backends: [{ host: '127.0.0.1', port: dashed.port }] });
  });

  after(async () => {
    await router.close();
    await Promise.all([a.close(), b.close(), team.close(), dashed.close()]);
  });

  it('routes by host, with the deployment in x-pave-deployment', async () => {
    const r = await send(port, { host: `shop-dev.localhost:${port}`, path: '/items?x=1&y=%20' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-pave-deployment'], 'd-a');
    const e = json<Echoed>(r);
    assert.equal(e.name, 'A');
    assert.equal(e.url, '/items?x=1&y=%20');
    assert.equal(e.headers['x-forwarded-host'], `shop-dev.localhost:${port}`);
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(e.headers['x-forwarded-prefix'], undefined);
    // Case and port do not matter.
    assert.equal(json<Echoed>(await send(port, { host: 'SHOP-DEV.localhost' })).name, 'A');
  });

  it('routes by path, strips the prefix and sends X-Forwarded-Prefix', async () => {
    for (const [path, upstream] of [
      ['/shop-dev/items/1?q=a%2Fb', '/items/1?q=a%2Fb'],
      ['/shop-dev/', '/'],
      ['/shop-dev', '/'],
      ['/shop-dev?q=1', '/?q=1'],
    ] as const) {
      const r = await send(port, { host: `localhost:${port}`, path });
      assert.equal(r.status, 200, path);
      const e = json<Echoed>(r);
      assert.equal(e.name, 'A');
      assert.equal(e.url, upstream, path);
      assert.equal(e.headers['x-forwarded-prefix'], '/shop-dev');
    }
    // 127.0.0.1 and any other host not under .localhost use the path form too.
    assert.equal(json<Echoed>(await send(port, { host: `127.0.0.1:${port}`, path: '/shop-dev/x' })).url, '/x');
    assert.equal(json<Echoed>(await send(port, { host: 'example.test', path: '/shop-dev/x' })).name, 'A');
  });

  it('serves other namespaces under a label', async () => {
    assert.equal(json<Echoed>(await send(port, { host: `shop-dev.team-a.localhost:${port}` })).name, 'team');
    const r = json<Echoed>(await send(port, { host: `localhost:${port}`, path: '/shop-dev.team-a/z' }));
    assert.equal(r.name, 'team');
    assert.equal(r.url, '/z');
    assert.equal(r.headers['x-forwarded-prefix'], '/shop-dev.team-a');
  });

  it('looks up labels whole, whatever the dashes', async () => {
    assert.equal(json<Echoed>(await send(port, { host: 'my-app-prod-eu.localhost' })).name, 'dashed');
    assert.equal((await send(port, { host: 'my-app-prod.localhost' })).status, 404);
  });

  it('forwards end-to-end headers and drops hop-by-hop ones, both ways', async () => {
    const hop = await startBackend('hop', (_req, res) => {
      res.writeHead(201, 'Made', { 'x-resp': 'yes', 'keep-alive': 'timeout=1', 'proxy-thing': 'no', 'set-cookie': ['a=1', 'b=2'] });
      res.end('ok');
    });
    router.set({ namespace: 'default', application: 'hop', environment: 'x' }, { deploymentId: 'd-hop', backends: [{ host: '127.0.0.1', port: hop.port }] });
    try {
      const r = await send(port, {
        host: 'hop-x.localhost',
        headers: {
          'x-custom': 'kept',
          authorization: 'Bearer abc',
          connection: 'keep-alive, x-private',
          'x-private': 'dropped',
          te: 'trailers',
          'proxy-authorization': 'secret',
          'x-forwarded-for': '10.1.2.3',
          'x-forwarded-prefix': '/spoofed',
        },
      });
      assert.equal(r.status, 201);
      assert.equal(r.body, 'ok');
      assert.equal(r.headers['x-resp'], 'yes');
      assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(r.headers['proxy-thing'], undefined);
      assert.notEqual(r.headers['keep-alive'], 'timeout=1');
      const seen = hop.seen[0]!.headers;
      assert.equal(seen['x-custom'], 'kept');
      assert.equal(seen.authorization, 'Bearer abc');
      assert.equal(seen['x-private'], undefined);
      assert.equal(seen.te, undefined);
      assert.equal(seen['proxy-authorization'], undefined);
      assert.equal(seen['x-forwarded-for'], '10.1.2.3, 127.0.0.1');
      assert.equal(seen['x-forwarded-prefix'], undefined, 'a client cannot spoof the prefix in host form');
      assert.equal(seen.host, 'hop-x.localhost');
    } finally {
      router.set({ namespace: 'default', application: 'hop', environment: 'x' }, null);
      await hop.close();
    }
  });

  it('streams request and response bodies without buffering', async () => {
    // The backend acknowledges every chunk as it arrives; the client sends the next chunk only after
    // reading the previous acknowledgement, which deadlocks if either direction is buffered.
    const streamer = await startBackend('stream', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      req.on('data', (c: Buffer) => res.write(`ack:${c.toString()};`));
      req.on('end', () => res.end('done'));
    });
    const key: RouteKey = { namespace: 'default', application: 'stream', environment: 'x' };
    router.set(key, { deploymentId: 'd-stream', backends: [{ host: '127.0.0.1', port: streamer.port }] });
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: 'stream-x.localhost', 'transfer-encoding': 'chunked' }, agent: false });
        req.on('error', reject);
        let text = '';
        let sent = 1;
        req.on('response', (res: IncomingMessage) => {
          res.setEncoding('utf8');
          res.on('data', (s: string) => {
            text += s;
            if (text.endsWith(`ack:${sent};`)) {
              if (sent < 5) req.write(String(++sent));
              else req.end();
            }
          });
          res.on('end', () => resolve(text));
        });
        req.flushHeaders();
        req.write('1');
      });
      assert.equal(got, 'ack:1;ack:2;ack:3;ack:4;ack:5;done');
      // A large POST body round-trips intact.
      const big = Buffer.alloc(2 * 1024 * 1024, 'abcdefghij');
      const echoBig = await startBackend('big', (req, res) => {
        res.writeHead(200);
        req.pipe(res);
      });
      router.set(key, { deploymentId: 'd-big', backends: [{ host: '127.0.0.1', port: echoBig.port }] });
      const r = await send(port, { host: 'stream-x.localhost', method: 'POST', body: big });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, big.length);
      assert.equal(r.body, big.toString());
      await echoBig.close();
    } finally {
      router.set(key, null);
      await streamer.close();
    }
  });

  it('answers 404 problem+json for unknown hosts and paths, listing nothing', async () => {
    for (const opts of [{ host: 'nope-dev.localhost' }, { host: `localhost:${port}`, path: '/nope-dev/x' }, { host: `localhost:${port}`, path: '/' }]) {
      const r = await send(port, opts);
      assert.equal(r.status, 404);
      assert.equal(r.headers['content-type'], 'application/problem+json');
      const p = json<{ type: string; title: string; status: number; detail: string }>(r);
      assert.equal(p.status, 404);
      assert.ok(p.type && p.title);
      assert.match(p.detail, /^no application is released at /);
      assert.doesNotMatch(p.detail, /shop-dev/);
    }
    assert.match(json<{ detail: string }>(await send(port, { host: 'nope-dev.localhost' })).detail, /nope-dev\.localhost/);
  });

  it('answers 502 problem+json naming the environment when the backend is down', async () => {
    const key: RouteKey = { namespace: 'default', application: 'down', environment: 'prod' };
    router.set(key, { deploymentId: 'd-down', backends: [{ host: '127.0.0.1', port: await deadPort() }] });
    const before = router.stats().failures;
    for (const method of ['GET', 'POST']) {
      const r = await send(port, { host: 'down-prod.localhost', method, body: method === 'POST' ? 'x' : undefined });
      assert.equal(r.status, 502);
      assert.equal(r.headers['content-type'], 'application/problem+json');
      const p = json<{ status: number; detail: string }>(r);
      assert.equal(p.status, 502);
      assert.match(p.detail, /environment prod of application down/);
    }
    assert.equal(router.stats().failures, before + 2);
    assert.equal(router.inFlight('d-down'), 0);
    router.set(key, null);
  });

  it('answers 504 when the backend does not answer in time', async () => {
    const mute = await startBackend('mute', () => {});
    const key: RouteKey = { namespace: 'default', application: 'mute', environment: 'x' };
    router.set(key, { deploymentId: 'd-mute', backends: [{ host: '127.0.0.1', port: mute.port }] });
    try {
      const r = await send(port, { host: 'mute-x.localhost' });
      assert.equal(r.status, 504);
      assert.equal(json<{ status: number }>(r).status, 504);
    } finally {
      router.set(key, null);
      await mute.close();
    }
  });

  it('retries a refused connection once on the next backend (GET and POST)', async () => {
    const key: RouteKey = { namespace: 'default', application: 'retry', environment: 'x' };
    router.set(key, { deploymentId: 'd-retry', backends: [{ host: '127.0.0.1', port: await deadPort() }, { host: '127.0.0.1', port: b.port }] });
    const before = router.stats().failures;
    for (let i = 0; i < 4; i++) {
      const r = await send(port, { host: 'retry-x.localhost' });
      assert.equal(r.status, 200);
      assert.equal(json<Echoed>(r).name, 'B');
    }
    const p = await send(port, { host: 'retry-x.localhost', method: 'POST', body: 'payload' });
    assert.equal(p.status, 200);
    assert.equal(json<Echoed>(p).body, 'payload');
    assert.equal(router.stats().failures, before);
    router.set(key, null);
  });

  it('balances round-robin across backends', async () => {
    const key: RouteKey = { namespace: 'default', application: 'rr', environment: 'x' };
    router.set(key, { deploymentId: 'd-rr', backends: [{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }] });
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push(json<Echoed>(await send(port, { host: 'rr-x.localhost' })).name);
    assert.deepEqual(names, ['A', 'B', 'A', 'B', 'A', 'B']);
    router.set(key, null);
  });

  it('lists routes, gives URLs with the bound port, and removes routes', async () => {
    const key: RouteKey = { namespace: 'team-a', application: 'shop', environment: 'dev' };
    assert.deepEqual(router.urlFor(shopDev), { host: `http://shop-dev.localhost:${port}`, path: `http://localhost:${port}/shop-dev/` });
    assert.deepEqual(router.urlFor(key), { host: `http://shop-dev.team-a.localhost:${port}`, path: `http://localhost:${port}/shop-dev.team-a/` });
    assert.equal(router.get(key)?.deploymentId, 'd-team');
    const listed = router.routes().find((r) => r.key.namespace === 'team-a');
    assert.equal(listed?.hostname, 'shop-dev.team-a.localhost');
    assert.equal(listed?.path, '/shop-dev.team-a/');
    // Removing a route that is not there is a no-op.
    assert.doesNotThrow(() => router.set({ namespace: 'default', application: 'absent', environment: 'x' }, null));
  });

  it('refuses a label that another key already has', () => {
    router.set({ namespace: 'default', application: 'a-b', environment: 'c' }, { deploymentId: 'd1', backends: [] });
    assert.throws(() => router.set({ namespace: 'default', application: 'a', environment: 'b-c' }, { deploymentId: 'd2', backends: [] }), /already taken/);
    router.set({ namespace: 'default', application: 'a-b', environment: 'c' }, null);
    router.set({ namespace: 'default', application: 'a', environment: 'b-c' }, { deploymentId: 'd2', backends: [] });
    assert.equal(router.get({ namespace: 'default', application: 'a-b', environment: 'c' }), null);
    router.set({ namespace: 'default', application: 'a', environment: 'b-c' }, null);
  });

  it('counts requests by status', () => {
    const s = router.stats();
    assert.ok(s.requests > 20);
    assert.ok((s.byStatus['200'] ?? 0) > 10);
    assert.ok((s.byStatus['404'] ?? 0) >= 3);
    assert.ok((s.byStatus['502'] ?? 0) >= 2);
  });
});

describe('Router: switching and draining', () => {
  const router = new Router();
  let port = 0;
  let a: Backend;
  let b: Backend;
  const slowClosed: string[] = [];

  const slowThenEcho = (name: string) => (req: IncomingMessage, res: http.ServerResponse) => {
    res.on('close', () => {
      if (!res.writableFinished) slowClosed.push(name);
    });
    const wait = req.url?.startsWith('/slow') ? 300 : 0;
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name }));
    }, wait);
  };

  before(async () => {
    a = await startBackend('A', slowThenEcho('A'));
    b = await startBackend('B', slowThenEcho('B'));
    port = await router.listen(0);
  });
  after(async () => {
    await router.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('finishes in-flight requests on the old deployment, sends new ones to the new, and drains', async () => {
    router.set(shopDev, { deploymentId: 'old', backends: [{ host: '127.0.0.1', port: a.port }] });
    const slow = send(port, { host: 'shop-dev.localhost', path: '/slow' });
    await sleep(50);
    assert.equal(router.inFlight('old'), 1);
    router.set(shopDev, { deploymentId: 'new', backends: [{ host: '127.0.0.1', port: b.port }] });
    const fresh = await send(port, { host: 'shop-dev.localhost', path: '/fast' });
    assert.equal(json<{ name: string }>(fresh).name, 'B');
    assert.equal(fresh.headers['x-pave-deployment'], 'new');
    const started = Date.now();
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    const drained = await router.drain('old');
    assert.ok(slowDone || Date.now() - started >= 150, 'drain waited for the slow request');
    assert.deepEqual(drained, { drained: true, remaining: 0 });
    const r = await slow;
    assert.equal(r.status, 200);
    assert.equal(json<{ name: string }>(r).name, 'A');
    assert.equal(r.headers['x-pave-deployment'], 'old');
    assert.equal(router.inFlight('old'), 0);
    // Draining an idle or unknown deployment resolves at once.
    assert.deepEqual(await router.drain('old'), { drained: true, remaining: 0 });
    assert.deepEqual(await router.drain('never-seen'), { drained: true, remaining: 0 });
  });

  it('closes the drained deployment idle keep-alive sockets', async () => {
    router.set(shopDev, { deploymentId: 'ka-1', backends: [{ host: '127.0.0.1', port: a.port }] });
    for (let i = 0; i < 3; i++) assert.equal((await send(port, { host: 'shop-dev.localhost' })).status, 200);
    const connections = () => new Promise<number>((resolve) => a.server.getConnections((_e, n) => resolve(n)));
    assert.ok((await connections()) >= 1, 'the router keeps a socket to the backend');
    router.set(shopDev, { deploymentId: 'ka-2', backends: [{ host: '127.0.0.1', port: b.port }] });
    await router.drain('ka-1');
    for (let i = 0; i < 20 && (await connections()) > 0; i++) await sleep(10);
    assert.equal(await connections(), 0);
  });

  it('reports remaining requests when the drain times out', async () => {
    router.set(shopDev, { deploymentId: 'slow-1', backends: [{ host: '127.0.0.1', port: a.port }] });
    const slow = send(port, { host: 'shop-dev.localhost', path: '/slow' });
    await sleep(30);
    router.set(shopDev, { deploymentId: 'slow-2', backends: [{ host: '127.0.0.1', port: b.port }] });
    const started = Date.now();
    const res = await router.drain('slow-1', 60);
    assert.deepEqual(res, { drained: false, remaining: 1 });
    assert.ok(Date.now() - started < 250);
    assert.equal((await slow).status, 200, 'a timed-out drain does not cut the request off');
    assert.equal(router.inFlight('slow-1'), 0);
  });

  it('aborts the upstream request when the client goes away', async () => {
    router.set(shopDev, { deploymentId: 'abort', backends: [{ host: '127.0.0.1', port: a.port }] });
    slowClosed.length = 0;
    const req = http.request({ host: '127.0.0.1', port, path: '/slow', headers: { host: 'shop-dev.localhost' }, agent: false });
    req.on('error', () => {});
    req.end();
    await sleep(60);
    assert.equal(router.inFlight('abort'), 1);
    req.destroy();
    for (let i = 0; i < 50 && slowClosed.length === 0; i++) await sleep(10);
    assert.deepEqual(slowClosed, ['A'], 'the backend saw the request closed before it answered');
    for (let i = 0; i < 50 && router.inFlight('abort') > 0; i++) await sleep(10);
    assert.equal(router.inFlight('abort'), 0);
  });
});

describe('Router: WebSocket upgrades', () => {
  const router = new Router();
  let port = 0;
  let backend: Backend;

  before(async () => {
    backend = await startBackend('ws', (_req, res) => res.end('plain'));
    backend.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-path: ${req.url}\r\nx-prefix: ${String(req.headers['x-forwarded-prefix'])}\r\n\r\n`);
      socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
      socket.on('end', () => socket.end());
      socket.on('error', () => socket.destroy());
    });
    port = await router.listen(0);
    router.set(shopDev, { deploymentId: 'ws-1', backends: [{ host: '127.0.0.1', port: backend.port }] });
  });
  after(async () => {
    await router.close();
    await backend.close();
  });

  const upgrade = (path: string, host: string) =>
    new Promise<{ res: IncomingMessage; socket: Socket }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, headers: { host, connection: 'Upgrade', upgrade: 'websocket' }, agent: false });
      req.on('upgrade', (res: IncomingMessage, socket: Socket) => resolve({ res, socket }));
      req.on('response', (res: IncomingMessage) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });

  it('pipes upgraded sockets both ways (host and path form) and counts them in flight', async () => {
    const { res, socket } = await upgrade('/shop-dev/chat?room=1', `localhost:${port}`);
    assert.equal(res.statusCode, 101);
    assert.equal(res.headers['x-path'], '/chat?room=1');
    assert.equal(res.headers['x-prefix'], '/shop-dev');
    assert.equal(res.headers['x-pave-deployment'], 'ws-1');
    assert.equal(router.inFlight('ws-1'), 1);
    const reply = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
    socket.write('hello');
    assert.equal(await reply, 'echo:hello');
    socket.destroy();
    for (let i = 0; i < 50 && router.inFlight('ws-1') > 0; i++) await sleep(10);
    assert.equal(router.inFlight('ws-1'), 0);

    const host = await upgrade('/x', 'shop-dev.localhost');
    assert.equal(host.res.headers['x-path'], '/x');
    host.socket.destroy();
  });

  it('answers 404 and 502 problem+json to upgrades it cannot serve', async () => {
    await assert.rejects(upgrade('/', 'nope.localhost'), /no upgrade: 404/);
    router.set({ namespace: 'default', application: 'gone', environment: 'x' }, { deploymentId: 'ws-gone', backends: [{ host: '127.0.0.1', port: await deadPort() }] });
    await assert.rejects(upgrade('/', 'gone-x.localhost'), /no upgrade: 502/);
  });
});
