import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../store/embedded.ts';
import { waitHealthy } from './health.ts';
import { LocalRuntime } from './local.ts';
import { NODE, WEB_APP, httpGet, pidGone, tempDir, waitFor, writeFiles } from './test-support.ts';
import type { RunSpec, RunStatus } from './types.ts';

/** A Pave stand-in: starts a run in a child process, prints its status, then waits to be killed. */
const SERVER = `
const [localUrl, dir, spec] = process.argv.slice(2);
const { LocalRuntime } = await import(localUrl);
const rt = new LocalRuntime({ dir });
const status = await rt.start(JSON.parse(spec));
console.log(JSON.stringify(status));
setInterval(() => {}, 1000);
`;

describe('LocalRuntime: runs outlive the server', () => {
  let root: string;
  let app: string;
  let dir: string;
  const cleanup: Array<() => Promise<void>> = [];

  before(async () => {
    root = await tempDir();
    app = path.join(root, 'app');
    dir = path.join(root, 'runs');
    await fs.mkdir(app);
    await writeFiles(app, { 'web.mjs': WEB_APP, 'server.mjs': SERVER });
  });

  after(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
    await fs.rm(root, { recursive: true, force: true });
  });

  function webSpec(id: string, port: number): RunSpec {
    return {
      id,
      cwd: app,
      processes: [{ type: 'web', replica: 0, command: `${NODE} web.mjs`, env: { PORT: String(port), GREETING: id }, port }],
    };
  }

  it('a new LocalRuntime adopts a run whose server was SIGKILLed: status, logs, stop', async () => {
    const port = await freePort();
    const id = 'adopt-1';
    cleanup.push(() => new LocalRuntime({ dir }).stop(id, 0));
    const env: Record<string, string> = { ...process.env } as Record<string, string>;
    delete env.NODE_TEST_CONTEXT;
    const localUrl = new URL('./local.ts', import.meta.url).href;
    const server = spawn(NODE, [path.join(app, 'server.mjs'), localUrl, dir, JSON.stringify(webSpec(id, port))], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(async () => {
      server.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    server.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    const started = await waitFor(
      'the server to start the run',
      () => {
        if (server.exitCode !== null) throw new Error(`the server exited: ${err}`);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as RunStatus) : undefined;
      },
      8000,
    );
    assert.equal(started.alive, true);
    const appPid = started.processes[0]?.pid;
    assert.ok(appPid);

    server.kill('SIGKILL');
    await exited;

    // The app keeps serving.
    assert.equal((await waitHealthy({ port, path: '/', timeoutMs: 5000 })).ok, true);
    assert.deepEqual(await httpGet(port, '/'), { status: 200, body: `hello ${id}` });

    // A new server process (here: a new LocalRuntime) sees it alive, reads its logs and stops it.
    const rt = new LocalRuntime({ dir });
    assert.deepEqual(await rt.list(), [id]);
    const st = await rt.status(id);
    assert.equal(st?.alive, true);
    assert.equal(st?.supervisorPid, started.supervisorPid);
    assert.equal(st?.processes[0]?.pid, appPid);
    assert.equal(st?.processes[0]?.state, 'running');
    await httpGet(port, '/log?msg=after-adoption');
    const lines = await waitFor('the logs', async () => {
      const all = (await rt.logs(id)).map((l) => l.line);
      return all.includes('after-adoption') && all;
    });
    assert.equal(lines[0], `started pid ${appPid}`);
    await assert.rejects(rt.start(webSpec(id, port)), /already running/);

    await rt.stop(id, 2000);
    assert.ok(pidGone(appPid));
    assert.ok(pidGone(started.supervisorPid));
    await assert.rejects(httpGet(port, '/'));
    assert.equal((await rt.status(id))?.alive, false);
  });

  it('stop() ends the processes of a supervisor that was SIGKILLed', async () => {
    const port = await freePort();
    const id = 'orphan-1';
    const rt = new LocalRuntime({ dir });
    cleanup.push(() => rt.stop(id, 0));
    const st = await rt.start(webSpec(id, port));
    const appPid = st.processes[0]?.pid;
    assert.ok(appPid);
    assert.equal((await waitHealthy({ port, path: '/', timeoutMs: 5000 })).ok, true);

    process.kill(st.supervisorPid, 'SIGKILL');
    const dead = await waitFor('the run to be seen dead', async () => {
      const s = await rt.status(id);
      return s?.alive === false && s;
    });
    // The orphan is still there and still serving; the status says so.
    assert.equal(dead.processes[0]?.pid, appPid);
    assert.equal(dead.processes[0]?.state, 'running');
    assert.deepEqual(await httpGet(port, '/'), { status: 200, body: `hello ${id}` });

    await rt.stop(id, 2000);
    assert.ok(pidGone(appPid));
    await assert.rejects(httpGet(port, '/'));
    const after = await rt.status(id);
    assert.equal(after?.alive, false);
    assert.equal(after?.processes[0]?.state, 'stopped');
    assert.equal(after?.processes[0]?.pid, null);
    const lines = (await rt.logs(id)).map((l) => l.line);
    assert.equal(lines.at(-1), 'stopping (SIGTERM)');

    // The run can be started again under the same id, and removed once stopped.
    const again = await rt.start(webSpec(id, port));
    assert.equal(again.alive, true);
    assert.equal((await waitHealthy({ port, path: '/', timeoutMs: 5000 })).ok, true);
    await rt.stop(id, 2000);
    await rt.remove(id);
    assert.equal(await rt.status(id), null);
  });

  it('is not fooled by a recorded pid that now belongs to another process', async () => {
    const id = 'reused-1';
    const runDir = path.join(dir, id);
    await fs.mkdir(runDir, { recursive: true });
    // This test process stands in for the process that reused the supervisor's pid.
    await fs.writeFile(
      path.join(runDir, 'status.json'),
      JSON.stringify({ id, supervisorPid: process.pid, processes: [], updatedAt: new Date().toISOString() }),
    );
    const rt = new LocalRuntime({ dir });
    assert.equal((await rt.status(id))?.alive, false);
    await rt.stop(id, 0); // a no-op: above all, it does not signal this process
    await rt.remove(id);
    assert.equal(await rt.status(id), null);
  });
});
