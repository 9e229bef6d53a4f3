import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { driverCalls, driverConformance } from '../../../test/drivers/conformance.ts';
import { identity, str } from '../../../test/drivers/support.ts';
import { cmdDriver, createCmdDriver, type CmdInputs } from './cmd.ts';
import { DriverError } from './driver.ts';

const FIXTURE = fileURLToPath(new URL('../../../test/drivers/fixtures/provisioner.mjs', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-cmd-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const recordOf = (uid: string) => path.join(dir, `${uid.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);

driverConformance(cmdDriver, {
  inputs: { command: FIXTURE, dir },
  outputs: ['path', 'token'],
  secretOutputs: ['token'],
  accessCheck: async (o) => {
    assert.equal(JSON.parse(readFileSync(str(o.path), 'utf8')).token, o.token);
  },
  inventory: async (r) => (existsSync(recordOf(r.uid)) ? [path.basename(recordOf(r.uid))] : []),
});

/** Whether a process is still alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidOf(uid: string): number {
  return Number(readFileSync(recordOf(uid).replace(/\.json$/, '.pid'), 'utf8'));
}

function isDriverError(pattern: RegExp, check: (e: DriverError) => void = () => undefined) {
  return (err: unknown) => {
    assert.ok(err instanceof DriverError, String(err));
    assert.match(err.message, pattern);
    check(err);
    return true;
  };
}

describe('cmd driver: protocol, failures, timeouts', { timeout: 30_000 }, () => {
  test('the provisioner gets the request on stdin: inputs without command/args, args on argv, env added to a minimal environment, state', async () => {
    process.env.PAVE_TEST_PARENT_ONLY = 'pave-own-secret';
    try {
      const resource = identity('cmd', 'introspect');
      const inputs: CmdInputs = { command: FIXTURE, args: ['--flag', 'value with space'], dir, mode: 'introspect', env: { VISIBLE: 'yes' }, timeoutSeconds: 30 };
      const c = driverCalls(cmdDriver, resource, { inputs, params: { size: 'small' }, dataDir: dir });
      const first = await c.provision(null);
      assert.deepEqual(first.outputs, {
        action: 'provision',
        inputKeys: ['dir', 'env', 'mode', 'timeoutSeconds'],
        resourceUid: resource.uid,
        params: { size: 'small' },
        receivedState: null,
        visible: 'yes',
        inherited: null,
        cwd: path.dirname(FIXTURE),
        argv: ['--flag', 'value with space'],
      });
      assert.deepEqual(first.state, { runs: 1 });
      const second = await c.provision(first.state);
      assert.deepEqual(second.outputs.receivedState, { runs: 1 });
      assert.deepEqual(second.state, { runs: 2 });
    } finally {
      delete process.env.PAVE_TEST_PARENT_ONLY;
    }
  });

  test('a non-zero exit is a DriverError with the last 20 lines of stderr, secrets redacted, never the stdin', async () => {
    const secret = 'tok-0123456789-secret';
    const inputs: CmdInputs = { command: FIXTURE, dir, mode: 'fail', env: { SECRET_TOKEN: secret }, note: 'stdin-only-marker' };
    const c = driverCalls(cmdDriver, identity('cmd', 'fail'), { inputs, dataDir: dir });
    await assert.rejects(
      c.provision({ previous: 'state-secret-value-123' }),
      isDriverError(/provisioner\.mjs provision failed: exit code 3; last lines of stderr:/, (e) => {
        const lines = e.message.split('\n').slice(1);
        assert.equal(lines.length, 20);
        assert.equal(lines[0], 'progress line 7');
        assert.equal(lines[19], 'error: the cloud said no (token [redacted])');
        assert.ok(!e.message.includes(secret));
        assert.ok(!e.message.includes('stdin-only-marker'));
        assert.ok(!e.message.includes('state-secret-value-123'));
        assert.equal(e.retryable, true);
      }),
    );
  });

  test('a timeout stops the provisioner with SIGTERM and reports it', async () => {
    const resource = identity('cmd', 'hang');
    // Timeouts leave the fixture (a node process) time to start even on a busy machine.
    const c = driverCalls(cmdDriver, resource, { inputs: { command: FIXTURE, dir, mode: 'hang', timeoutSeconds: 1 }, dataDir: dir });
    const started = Date.now();
    await assert.rejects(c.provision(null), isDriverError(/provision timed out after 1s and was stopped \(SIGTERM, then SIGKILL after 5s\); last lines of stderr:\nworking…/));
    assert.ok(Date.now() - started < 4000, 'SIGTERM ended it, without waiting for SIGKILL');
    assert.equal(alive(pidOf(resource.uid)), false);
  });

  test('a provisioner that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    const resource = identity('cmd', 'stubborn');
    const driver = createCmdDriver({ killGraceMs: 300 });
    const c = driverCalls(driver, resource, { inputs: { command: FIXTURE, dir, mode: 'stubborn', timeoutSeconds: 1.5 }, dataDir: dir });
    const started = Date.now();
    await assert.rejects(c.provision(null), isDriverError(/timed out after 1\.5s[\s\S]*ignoring SIGTERM/));
    assert.ok(Date.now() - started < 5000);
    assert.equal(alive(pidOf(resource.uid)), false);
  });

  test('cancelling the request (AbortSignal) stops the provisioner', async () => {
    const resource = identity('cmd', 'abort');
    const c = driverCalls(cmdDriver, resource, { inputs: { command: FIXTURE, dir, mode: 'hang' }, dataDir: dir });
    const ac = new AbortController();
    const running = c.provision(null, { signal: ac.signal });
    // Cancel once the provisioner is running (it writes its pid file first thing).
    const pidFile = recordOf(resource.uid).replace(/\.json$/, '.pid');
    for (let i = 0; i < 800 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 25)); // up to 20 s on a loaded machine
    ac.abort();
    await assert.rejects(running, isDriverError(/provision was cancelled; provisioner\.mjs was stopped/));
    assert.equal(alive(pidOf(resource.uid)), false);
  });

  test('stdout that is not JSON, or JSON of the wrong shape, is a DriverError naming the problem', async () => {
    const bad = driverCalls(cmdDriver, identity('cmd', 'badjson'), { inputs: { command: FIXTURE, dir, mode: 'badjson' }, dataDir: dir });
    await assert.rejects(bad.provision(null), isDriverError(/provision printed invalid JSON on stdout \(.+\); it must print one JSON object, and write logs to stderr/, (e) => assert.equal(e.retryable, false)));
    await assert.rejects(bad.check(null, {}), isDriverError(/check printed invalid JSON/));
    await bad.delete(null); // delete may print anything
    const shape = driverCalls(cmdDriver, identity('cmd', 'badshape'), { inputs: { command: FIXTURE, dir, mode: 'badshape' }, dataDir: dir });
    await assert.rejects(shape.provision(null), isDriverError(/answered JSON of the wrong shape: outputs: /));
  });

  test('a missing or non-executable command, and a relative one, are reported before anything runs', async () => {
    const missing = driverCalls(cmdDriver, identity('cmd', 'missing'), { inputs: { command: path.join(dir, 'nope') }, dataDir: dir });
    await assert.rejects(missing.provision(null), isDriverError(/does not exist/, (e) => assert.equal(e.retryable, false)));
    const plain = path.join(dir, 'plain.sh');
    writeFileSync(plain, '#!/bin/sh\necho {}\n', { mode: 0o644 });
    const notExec = driverCalls(cmdDriver, identity('cmd', 'noexec'), { inputs: { command: plain }, dataDir: dir });
    await assert.rejects(notExec.provision(null), isDriverError(/is not executable/));
    assert.equal(cmdDriver.inputs.safeParse({ command: 'bin/provision' }).success, false);
    assert.deepEqual(cmdDriver.secretInputs, ['env']);
  });

  test('check passes outputs and maps the answer; delete removes the record', async () => {
    const resource = identity('cmd', 'check');
    const c = driverCalls(cmdDriver, resource, { inputs: { command: FIXTURE, dir }, dataDir: dir });
    const r = await c.provision(null);
    const report = await c.check(r.state, { ...r.outputs, token: 'other' });
    assert.equal(report.status, 'changed');
    assert.ok(report.status === 'changed' && report.differences[0]?.field === 'token');
    await c.delete(r.state);
    assert.ok(!readdirSync(dir).includes(path.basename(recordOf(resource.uid))));
  });
});
