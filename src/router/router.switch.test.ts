/**
 * Releases under load: 20 switches between two backends every 50 ms while 8 keep-alive clients
 * hammer the router; after each switch the old deployment is drained and its backend stopped and
 * started again on a new port (a process restart). Not one request may fail.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { Router } from './router.ts';
import { send, sleep, startBackend, type Backend } from './testing.ts';
import type { RouteKey } from './types.ts';

const key: RouteKey = { namespace: 'default', application: 'load', environment: 'prod' };

describe('Router: releases under load', () => {
  const router = new Router();
  const clientAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const backends: Backend[] = [];

  after(async () => {
    clientAgent.destroy();
    await router.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('loses no request across 20 switches, drains and backend restarts', async () => {
    const port = await router.listen(0);
    let generation = 0;
    // Each backend answers its deployment id; POSTs echo their body.
    const start = async (deploymentId: string) => {
      const b = await startBackend(deploymentId, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          // A little latency so requests overlap the switches.
          setTimeout(() => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(req.method === 'POST' ? `${deploymentId}:${Buffer.concat(chunks).toString()}` : deploymentId);
          }, Math.random() < 0.1 ? 20 : 0);
        });
      });
      backends.push(b);
      return b;
    };
    let current = { id: `d${generation}`, backend: await start(`d${generation}`) };
    let spare = await start(`d${++generation}`);
    let spareId = `d${generation}`;
    router.set(key, { deploymentId: current.id, backends: [{ host: '127.0.0.1', port: current.backend.port }] });

    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const served = new Set<string>();
    const client = async (n: number) => {
      let i = 0;
      while (!stop) {
        i++;
        const post = (n + i) % 4 === 0;
        try {
          const r = await send(port, {
            host: 'load-prod.localhost',
            path: `/?c=${n}&i=${i}`,
            method: post ? 'POST' : 'GET',
            body: post ? `body-${n}-${i}` : undefined,
            agent: clientAgent,
          });
          if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
          else if (post && !r.body.endsWith(`:body-${n}-${i}`)) failures.push(`bad echo ${r.body}`);
          else {
            ok++;
            served.add(r.headers['x-pave-deployment'] as string);
          }
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, n) => client(n));

    const drains: boolean[] = [];
    for (let s = 0; s < 20; s++) {
      await sleep(50);
      const old = current;
      current = { id: spareId, backend: spare };
      router.set(key, { deploymentId: current.id, backends: [{ host: '127.0.0.1', port: current.backend.port }] });
      const d = await router.drain(old.id, 2000);
      drains.push(d.drained);
      assert.equal(router.inFlight(old.id), 0);
      // The old process stops, and a new one starts (on a new port) for the next release.
      await old.backend.close();
      spare = await start(`d${++generation}`);
      spareId = `d${generation}`;
    }
    await sleep(50);
    stop = true;
    await Promise.all(clients);

    assert.deepEqual(failures, []);
    assert.ok(drains.every(Boolean), 'every drain completed');
    assert.ok(ok > 200, `enough load (${ok} requests)`);
    assert.ok(served.size >= 15, `requests reached most deployments (${served.size})`);
    assert.equal(router.stats().failures, 0);
  });
});
