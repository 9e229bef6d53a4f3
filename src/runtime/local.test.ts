import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../store/embedded.ts';
import { waitHealthy } from './health.ts';
import { LocalRuntime } from './local.ts';
import { NODE, WEB_APP, httpGet, pidGone, tempDir, waitFor, writeFiles } from './test-support.ts';
import type { LogLine } from './types.ts';

describe('LocalRuntime', () => {
  let root: string;
  let app: string;
  let rt: LocalRuntime;
  const started: string[] = [];

  before(async () => {
    root = await tempDir();
    app = path.join(root, 'app');
    await fs.mkdir(app);
    await writeFiles(app, {
      'web.mjs': WEB_APP,
      'graceful.mjs': `
        console.log('ready ' + process.pid);
        process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => { console.log('bye'); process.exit(0); }, 200); });
        setInterval(() => {}, 1000);
      `,
      'stubborn.mjs': `
        process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
        console.log('ready ' + process.pid);
        setInterval(() => {}, 1000);
      `,
      'chatty.mjs': `
        const pad = 'x'.repeat(50);
        for (let i = 0; i < 5000; i++) console.log('line ' + i + ' ' + pad);
        console.log('y'.repeat(100000));
        console.log('after the long line');
        console.log('done');
        setInterval(() => {}, 1000);
      `,
      'ticker.mjs': `
        let i = 0;
        const t = setInterval(() => {
          for (let k = 0; k < 10; k++) console.log('tick ' + i++ + ' ' + 'z'.repeat(200));
          if (i >= 800) { clearInterval(t); console.log('ticked'); setInterval(() => {}, 1000); }
        }, 2);
      `,
    });
    rt = new LocalRuntime({ dir: path.join(root, 'runs') });
  });

  after(async () => {
    for (const id of started) await rt.stop(id, 0).catch(() => {});
    await fs.rm(root, { recursive: true, force: true });
  });

  it('starts a web process with exactly its env, serves HTTP, and logs and follows its output', async () => {
    const port = await freePort();
    process.env.PAVE_RUNTIME_TEST_SECRET = 'must-not-leak';
    const id = 'web-1';
    started.push(id);
    const t0 = Date.now();
    const st = await rt.start({
      id,
      cwd: app,
      processes: [
        { type: 'web', replica: 0, command: `${NODE} web.mjs`, env: { PORT: String(port), GREETING: 'world' }, port },
      ],
    });
    const startMs = Date.now() - t0;
    delete process.env.PAVE_RUNTIME_TEST_SECRET;
    assert.ok(startMs < 2000, `start took ${startMs} ms`);
    assert.equal(st.alive, true);
    assert.equal(st.processes.length, 1);
    const proc = st.processes[0];
    assert.ok(proc);
    assert.equal(proc.type, 'web');
    assert.equal(proc.port, port);
    assert.ok(proc.pid && proc.pid > 0);

    const health = await waitHealthy({ port, path: '/', timeoutMs: 5000 });
    assert.equal(health.ok, true, JSON.stringify(health));
    assert.deepEqual(await httpGet(port, '/'), { status: 200, body: 'hello world' });

    const env = JSON.parse((await httpGet(port, '/env')).body) as Record<string, string>;
    assert.equal(env.GREETING, 'world');
    assert.equal(env.PORT, String(port));
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.PAVE_RUNTIME_TEST_SECRET, undefined);
    // Nothing but the given variables, PATH and HOME, and what the shell itself sets (PWD).
    const extra = Object.keys(env).filter((k) => !['GREETING', 'PORT', 'PATH', 'HOME', 'PWD', 'SHLVL', '_'].includes(k));
    assert.deepEqual(extra, []);

    // A second start of a live run is refused.
    await assert.rejects(
      rt.start({ id, cwd: app, processes: [{ type: 'web', replica: 0, command: 'true', env: {} }] }),
      /already running/,
    );
    await assert.rejects(rt.remove(id), /running/);
    assert.ok((await rt.list()).includes(id));

    await httpGet(port, '/log?msg=hello-stdout');
    await httpGet(port, '/err?msg=hello-stderr');
    const lines = await waitFor('the request lines in logs()', async () => {
      const all = await rt.logs(id);
      return all.some((l) => l.line === 'hello-stderr') && all;
    });
    const out = lines.find((l) => l.line === 'hello-stdout');
    assert.deepEqual(out && { type: out.type, replica: out.replica, stream: out.stream }, { type: 'web', replica: 0, stream: 'stdout' });
    assert.equal(lines.find((l) => l.line === 'hello-stderr')?.stream, 'stderr');
    assert.equal(lines[0]?.stream, 'system');
    assert.match(lines[0]?.line ?? '', /^started pid \d+$/);
    assert.ok(lines.some((l) => l.line.startsWith('listening on')));
    assert.equal((await rt.logs(id, { tail: 1 }))[0]?.line, 'hello-stderr');

    // follow(): only lines written after the call.
    const followed: LogLine[] = [];
    const ac = new AbortController();
    rt.follow(id, (l) => followed.push(l), ac.signal);
    try {
      await httpGet(port, '/log?msg=followed-1');
      await httpGet(port, '/log?msg=followed-2');
      await waitFor('followed lines', () => followed.some((l) => l.line === 'followed-2'));
      assert.deepEqual(
        followed.map((l) => [l.type, l.replica, l.stream, l.line]),
        [
          ['web', 0, 'stdout', 'followed-1'],
          ['web', 0, 'stdout', 'followed-2'],
        ],
      );
    } finally {
      ac.abort();
    }
    await httpGet(port, '/log?msg=after-abort');
    await waitFor('the line after abort', async () => (await rt.logs(id, { tail: 1 }))[0]?.line === 'after-abort');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(followed.length, 2);

    await rt.stop(id, 2000);
    assert.ok(pidGone(proc.pid));
    const stopped = await rt.status(id);
    assert.equal(stopped?.alive, false);
    assert.equal(stopped?.processes[0]?.state, 'stopped');
    const tail = (await rt.logs(id, { tail: 2 })).map((l) => l.line);
    assert.deepEqual(tail, ['stopping (SIGTERM)', 'exited with signal SIGTERM']);
    await rt.remove(id);
    assert.equal(await rt.status(id), null);
    assert.ok(!(await rt.list()).includes(id));
  });

  it('restarts a crashing process with exponential backoff', async () => {
    const id = 'crash-1';
    started.push(id);
    await rt.start({
      id,
      cwd: app,
      processes: [{ type: 'worker', replica: 0, command: 'echo boom; exit 1', env: {} }],
      restart: { initialMs: 100, maxMs: 400 },
    });
    const backoff = await waitFor('the backoff state', async () => {
      const p = (await rt.status(id))?.processes[0];
      return p?.state === 'backoff' && p;
    });
    assert.ok(backoff.nextRestartAt && Date.parse(backoff.nextRestartAt) > Date.now() - 1000);
    assert.equal(backoff.pid, null);
    assert.equal(backoff.lastExit?.code, 1);
    // Delays 100, 200, 400, then capped at 400 ms.
    const st = await waitFor('4 restarts', async () => {
      const s = await rt.status(id);
      return s !== null && (s.processes[0]?.restarts ?? 0) >= 4 && s;
    });
    assert.equal(st.alive, true);
    const lines = (await rt.logs(id)).map((l) => l.line);
    const delays = lines.filter((l) => l.startsWith('restarting in')).map((l) => Number(/in (\d+) ms/.exec(l)?.[1]));
    assert.deepEqual(delays.slice(0, 4), [100, 200, 400, 400]);
    assert.ok(lines.filter((l) => l === 'exited with code 1').length >= 4);
    assert.ok(lines.filter((l) => l === 'boom').length >= 4);
    assert.ok(lines.includes('restarting in 200 ms (restart #2)'));
    await rt.stop(id, 1000);
    const after = await rt.status(id);
    assert.equal(after?.alive, false);
    assert.equal(after?.processes[0]?.state, 'stopped');
  });

  it('resets the backoff after a process stayed up long enough', async () => {
    const id = 'crash-2';
    started.push(id);
    // initialMs 20: a run of 10 × 20 ms = 200 ms resets the backoff.
    await rt.start({
      id,
      cwd: app,
      processes: [{ type: 'worker', replica: 0, command: 'sleep 0.3; exit 3', env: {} }],
      restart: { initialMs: 20, maxMs: 1000 },
    });
    await waitFor('3 restarts', async () => ((await rt.status(id))?.processes[0]?.restarts ?? 0) >= 3);
    const delays = (await rt.logs(id)).map((l) => l.line).filter((l) => l.startsWith('restarting in'));
    assert.ok(delays.length >= 3);
    assert.ok(delays.every((l) => l.startsWith('restarting in 20 ms')), delays.join('\n'));
    await rt.stop(id, 0);
  });

  it('stops with a grace period: SIGTERM to every process group, SIGKILL after the grace', async () => {
    const id = 'grace-1';
    started.push(id);
    const st = await rt.start({
      id,
      cwd: app,
      processes: [
        { type: 'graceful', replica: 0, command: `${NODE} graceful.mjs`, env: {} },
        { type: 'stubborn', replica: 0, command: `${NODE} stubborn.mjs`, env: {} },
        // Two children of the shell: signals must reach the whole tree.
        { type: 'tree', replica: 0, command: `${NODE} stubborn.mjs & ${NODE} graceful.mjs & wait`, env: {} },
      ],
      graceMs: 30_000,
    });
    const lines = await waitFor('every process ready', async () => {
      const all = await rt.logs(id);
      return all.filter((l) => l.line.startsWith('ready ')).length === 4 && all;
    });
    const pids = lines.filter((l) => l.line.startsWith('ready ')).map((l) => Number(l.line.split(' ')[1]));
    pids.push(...st.processes.map((p) => p.pid ?? 0));
    for (const pid of pids) assert.ok(!pidGone(pid));

    const t0 = Date.now();
    await rt.stop(id, 500); // overrides the spec's 30 s
    const ms = Date.now() - t0;
    assert.ok(ms >= 450 && ms < 3000, `stop took ${ms} ms`);
    for (const pid of pids) assert.ok(pidGone(pid), `pid ${pid} is still there`);

    const logs = await rt.logs(id);
    const of = (type: string) => logs.filter((l) => l.type === type).map((l) => l.line);
    assert.deepEqual(of('graceful').slice(-4), ['stopping (SIGTERM)', 'draining', 'bye', 'exited with code 0']);
    assert.deepEqual(of('stubborn').slice(-4), ['stopping (SIGTERM)', 'ignoring SIGTERM', 'killed after grace period', 'exited with signal SIGKILL']);
    const tree = of('tree');
    assert.ok(tree.includes('bye'));
    assert.ok(tree.includes('killed after grace period'));
    const status = await rt.status(id);
    assert.equal(status?.alive, false);
    assert.deepEqual(status?.processes.map((p) => p.state), ['stopped', 'stopped', 'stopped']);
    // Stopping again, or an unknown run, is a no-op.
    await rt.stop(id);
    await rt.stop('no-such-run');
  });

  it('keeps a bounded backlog: files are rotated and logs() returns the newest lines', async () => {
    const id = 'chatty-1';
    started.push(id);
    const logBytes = 20_000;
    await rt.start({
      id,
      cwd: app,
      logBytes,
      processes: [{ type: 'worker', replica: 0, command: `${NODE} chatty.mjs`, env: {} }],
    });
    await waitFor('the last line', async () => (await rt.logs(id, { tail: 1 }))[0]?.line === 'done');
    const logDir = path.join(root, 'runs', id, 'logs');
    const sizes = await Promise.all(['worker-0.log', 'worker-0.log.1'].map(async (f) => (await fs.stat(path.join(logDir, f))).size));
    for (const size of sizes) assert.ok(size <= logBytes, `a log file of ${size} bytes`);
    assert.deepEqual((await fs.readdir(logDir)).sort(), ['worker-0.log', 'worker-0.log.1']);

    const all = await rt.logs(id);
    assert.ok(all.length < 1000, `${all.length} lines kept`);
    const tail = all.slice(-3).map((l) => l.line);
    assert.equal(tail[1], 'after the long line');
    assert.equal(tail[2], 'done');
    assert.equal(tail[0], 'y'.repeat(16 * 1024)); // cut at 16 KiB
    const numbered = all.filter((l) => l.line.startsWith('line ')).map((l) => Number(l.line.split(' ')[1]));
    assert.ok(numbered.length > 0);
    assert.equal(numbered.at(-1), 4999);
    numbered.forEach((n, i) => assert.equal(n, (numbered[0] ?? 0) + i));
    assert.deepEqual((await rt.logs(id, { tail: 4 })).map((l) => l.line.slice(0, 9)), ['line 4999', 'y'.repeat(9), 'after the', 'done']);
    await rt.stop(id, 0);
  });

  it('follows a log across rotations and picks up files that appear later', async () => {
    const id = 'follow-1';
    started.push(id);
    await fs.mkdir(path.join(root, 'runs', id, 'logs'), { recursive: true });
    const got: LogLine[] = [];
    const ac = new AbortController();
    rt.follow(id, (l) => got.push(l), ac.signal);
    try {
      await rt.start({
        id,
        cwd: app,
        // Not below 64 KiB, the most one read of a pipe brings: a single write never rotates twice.
        logBytes: 65536,
        processes: [
          { type: 'ticker', replica: 0, command: `${NODE} ticker.mjs`, env: {} },
          { type: 'ticker', replica: 1, command: `${NODE} ticker.mjs`, env: {} },
        ],
      });
      await waitFor('both tickers done', () => got.filter((l) => l.line === 'ticked').length === 2, 8000);
      for (const replica of [0, 1]) {
        const ticks = got.filter((l) => l.replica === replica && l.line.startsWith('tick ')).map((l) => Number(l.line.split(' ')[1]));
        // Every line, in order, although the file was rotated many times.
        assert.equal(ticks.length, 800, `replica ${replica}: ${ticks.length} lines`);
        ticks.forEach((n, i) => assert.equal(n, i));
        assert.equal(got.find((l) => l.replica === replica)?.line.startsWith('started pid'), true);
      }
    } finally {
      ac.abort();
      await rt.stop(id, 0);
    }
  });

  it('reports a start that fails and refuses bad ids', async () => {
    await assert.rejects(rt.start({ id: '../evil', cwd: app, processes: [{ type: 'web', replica: 0, command: 'true', env: {} }] }), /invalid run id/);
    // A missing working directory is a process that fails to start, retried with backoff.
    const id = 'nocwd-1';
    started.push(id);
    const st = await rt.start({
      id,
      cwd: path.join(root, 'missing'),
      processes: [{ type: 'web', replica: 0, command: 'true', env: {} }],
      restart: { initialMs: 1000 },
    });
    assert.equal(st.alive, true);
    const lines = await waitFor('the failure line', async () => {
      const all = (await rt.logs(id)).map((l) => l.line);
      return all.some((l) => l.startsWith('failed to start')) && all;
    });
    assert.ok(lines.includes('restarting in 1000 ms (restart #1)'), lines.join('\n'));
    await rt.stop(id, 0);
  });
});
