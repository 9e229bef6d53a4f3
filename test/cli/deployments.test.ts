import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Build, Config, Deployment, DeploymentDiff, EnvironmentStatus, Release } from '../../src/contracts/deployments.ts';
import { HELLO, json, viaRouter } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, PAVE_BIN, type Cli, type CliResult } from './helpers.ts';

/**
 * The deployment commands, spawned for real against a real server that runs the hello fixture as real
 * processes behind its router: build (archive upload, reuse), deploy and release, config with a secret,
 * diff, rollback (warm), logs, status, a failing deployment, and cloning an environment.
 */

describe('pave build, deploy, config, logs', { concurrency: false }, () => {
  let server: TestServer;
  let cli: Cli;
  let work: string;
  const suffix = randomBytes(3).toString('hex');
  const app = `hello-${suffix}`;
  const team = `team-${suffix}`;
  const SECRET = `s3cr3t-${randomBytes(8).toString('hex')}`;
  const outputs: CliResult[] = [];
  const deployments: Record<string, string> = {}; // number → id

  /** Runs `pave` with PAVE_URL/PAVE_TOKEN; every output is kept, to check that the secret never appears. */
  const pave = async (...args: string[]) => {
    const r = await cli.run(args, { env: { PAVE_URL: server.url, PAVE_TOKEN: server.token } });
    outputs.push(r);
    return r;
  };
  const ok = (r: CliResult) => assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const host = (env: string) => `${app}-${env}.localhost`;

  before(async () => {
    server = await startTestServer({ deployments: { stopGrace: 1 } });
    cli = cliSandbox();
    work = mkdtempSync(path.join(os.tmpdir(), 'pave-deploy-cli-'));
    await json(await server.api('/api/v1/teams', { method: 'POST', json: { name: team } }), 201);
    await json(await server.api('/api/v1/applications', { method: 'POST', json: { name: app, owner: team, template: 'node-service' } }), 201);
  });

  after(async () => {
    try {
      cli?.cleanup();
      if (work) rmSync(work, { recursive: true, force: true });
    } finally {
      await server?.close();
    }
  });

  test('build packs the folder, streams the log on stderr and prints the digest; the same source again is reused', async () => {
    let r = await pave('build', app, HELLO);
    ok(r);
    assert.match(r.stderr, /^Building .* from .*hello \(\d+(\.\d)? (B|kB) packed\)…$/m);
    assert.match(r.stderr, /^ {2}detected: .*procfile/m, 'the build log streams on stderr');
    assert.match(r.stdout, /^Build:\s+1 \(succeeded\)$/m);
    assert.match(r.stdout, /^Digest:\s+sha256:[0-9a-f]{64}$/m);
    assert.match(r.stdout, /^Processes:\s+web: node server\.js$/m);
    assert.match(r.stdout, /^Reused:\s+no$/m);
    const digest = /^Digest:\s+(\S+)$/m.exec(r.stdout)![1];

    r = await pave('build', app, HELLO, '-o', 'json');
    ok(r);
    const b = JSON.parse(r.stdout) as Build;
    assert.equal(b.number, 2);
    assert.equal(b.reused, true);
    assert.equal(b.artifact?.digest, digest);

    r = await pave('builds', 'list', app);
    ok(r);
    assert.match(r.stdout, /^#\s+STATUS\s+ORIGIN\s+SOURCE/m);
    assert.match(r.stdout, /^2\s+succeeded\s+build\s+upload \(\d+ bytes\)\s+sha256:[0-9a-f]{12}\s+web\s+yes\s/m);

    r = await pave('builds', 'logs', app, '1');
    ok(r);
    assert.match(r.stdout, /^detected: /m);
  });

  test('a build that fails exits 1 with its error', async () => {
    const broken = path.join(work, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'package.json'), '{ not json');
    const r = await pave('build', app, broken);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: build 3 of .* failed: /m);
    assert.match(r.stdout, /^Build:\s+3 \(failed\)$/m);
  });

  test('deploy --release streams its steps, prints the URL, and the router answers', async () => {
    const r = await pave('deploy', app, '--env', 'development', '--release');
    ok(r);
    assert.match(r.stderr, /^ {2}starting web\.0/m);
    assert.match(r.stderr, /^ {2}deployment 1 is healthy/m);
    assert.match(r.stderr, /^ {2}deployment 1 is released/m);
    assert.match(r.stdout, /^Status:\s+healthy, released \(running\)$/m);
    assert.match(r.stdout, new RegExp(`^URL:\\s+http://${host('development')}:\\d+`, 'm'));
    deployments[1] = /^Id:\s+(\S+)$/m.exec(r.stdout)![1]!;
    const res = await viaRouter(server.routerUrl, host('development'));
    assert.equal(res.status, 200);
    assert.equal(res.body, `hello from ${deployments[1]}\n`);
  });

  test('config set, and set --secret: config shows the variable and masks the secret', async () => {
    let r = await pave('config', 'set', app, '--env', 'development', 'GREETING=hi');
    ok(r);
    assert.match(r.stdout, /is now version 1 \(set GREETING\)/);
    r = await pave('config', 'set', app, '--env', 'development', '--secret', `API_KEY=${SECRET}`);
    ok(r);
    assert.match(r.stdout, /is now version 2 \(set API_KEY\)/);
    r = await pave('config', 'set', app, '--env', 'development', 'GREETING=hi');
    ok(r);
    assert.match(r.stdout, /^No change: .* stays at version 2\.$/m);

    r = await pave('config', app, '--env', 'development');
    ok(r);
    assert.match(r.stdout, /^Version:\s+2: set API_KEY$/m);
    assert.match(r.stdout, /^GREETING\s+hi\s+variable$/m);
    assert.match(r.stdout, /^API_KEY\s+\*{8}\s+secret$/m);
    assert.match(r.stdout, /^What the processes get/m);

    r = await pave('config', 'show', app, '--env', 'development', '-o', 'json');
    ok(r);
    const c = JSON.parse(r.stdout) as Config;
    assert.deepEqual(c.variables, { GREETING: 'hi' });
    assert.deepEqual(c.secrets, { API_KEY: '********' });

    r = await pave('config', 'history', app, '--env', 'development');
    ok(r);
    assert.match(r.stdout, /^2\s+\S+\s+admin\s+\+API_KEY \(secret\)$/m);
    assert.match(r.stdout, /^1\s+\S+\s+admin\s+\+GREETING=hi$/m);
  });

  test('deploy again with the new config; diff shows the variable and masks the secret', async () => {
    let r = await pave('deploy', app, '--env', 'development', '--release', '-o', 'json');
    ok(r);
    const d = JSON.parse(r.stdout) as Deployment & { url: string };
    assert.equal(d.number, 2);
    assert.equal(d.released, true);
    assert.equal(d.configVersion, 2);
    assert.match(d.url, /^http:\/\//);
    deployments[2] = d.id;
    assert.equal((await viaRouter(server.routerUrl, host('development'))).body, `hi from ${d.id}\n`);
    const env = JSON.parse((await viaRouter(server.routerUrl, host('development'), '/env')).body) as { API_KEY: string };
    assert.equal(env.API_KEY, SECRET, 'the process gets the secret');

    r = await pave('deployments', 'diff', app, '1', '2', '--env', 'development');
    ok(r);
    assert.match(r.stdout, /^From development\/1 to development\/2:$/m);
    assert.match(r.stdout, /^Build:\s+unchanged \(sha256:[0-9a-f]{12}\)$/m);
    assert.match(r.stdout, /^Config:\s+v0 → v2$/m);
    assert.match(r.stdout, /^ {2}\+ GREETING=hi$/m);
    assert.match(r.stdout, /^ {2}\+ API_KEY=\*{8} \(secret\)$/m);

    r = await pave('deployments', 'diff', app, 'development/2', 'development/1', '-o', 'json');
    ok(r);
    const diff = JSON.parse(r.stdout) as DeploymentDiff;
    assert.deepEqual(diff.variables.map((v) => [v.name, v.change, v.secret]), [['API_KEY', 'removed', true], ['GREETING', 'removed', false]]);

    r = await pave('deployments', 'diff', app, '1', '2');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pass --env, or write <env>\/1/);
  });

  test('deployments list and show', async () => {
    let r = await pave('deployments', 'list', app, '--env', 'development');
    ok(r);
    assert.match(r.stdout, /^#\s+STATUS\s+RUNNING\s+RELEASED\s+BUILD\s+CONFIG\s+BY\s+CREATED\s+DURATION$/m);
    assert.match(r.stdout, /^2\s+healthy\s+running\s+yes\s+2\s+v2\s+admin\s+\S+Z\s+\d/m);
    assert.match(r.stdout, /^1\s+healthy\s+(running|warm)\s+-\s+2\s+v0\s+admin\s/m);
    r = await pave('deployments', 'list', app, '--env', 'development', '-o', 'json');
    ok(r);
    assert.deepEqual((JSON.parse(r.stdout) as { items: Deployment[] }).items.map((d) => d.number), [2, 1]);

    r = await pave('deployments', 'show', app, '--env', 'development', '2');
    ok(r);
    assert.match(r.stdout, /^PROCESS\s+PORT\s+STATE\s+PID\s+RESTARTS\s+LAST EXIT$/m);
    assert.match(r.stdout, /^web\.0\s+\d+\s+running\s+\d+\s+0\s+-$/m);
    assert.match(r.stdout, /^URL:\s+http:\/\//m);
  });

  test('rollback releases the previous deployment, warm, and the old config answers again', async () => {
    const r = await pave('rollback', app, '--env', 'development');
    ok(r);
    assert.match(r.stdout, /^Rolled back development of .* to deployment 1: it was warm, so the switch was instant \(\d+ ms\)\.$/m);
    assert.match(r.stdout, /^URL:\s+http:\/\//m);
    assert.equal((await viaRouter(server.routerUrl, host('development'))).body, `hello from ${deployments[1]}\n`);

    const back = await pave('release', app, '--env', 'development', '2', '-o', 'json');
    ok(back);
    const rel = JSON.parse(back.stdout) as Release;
    assert.equal(rel.deployment.number, 2);
    assert.equal(rel.kind, 'release');
    assert.equal((await viaRouter(server.routerUrl, host('development'))).body, `hi from ${deployments[2]}\n`);
  });

  test('logs --tail shows lines with time, process and deployment; -f follows new ones', async () => {
    let r = await pave('logs', app, '--env', 'development', '--tail', '50');
    ok(r);
    assert.match(r.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ web\.0 #2 \| listening on \d+$/m);
    assert.match(r.stdout, /^\S+Z web\.0 #1 \| GET \/$/m);

    r = await pave('logs', app, '--env', 'development', '--deployment', '2', '--tail', '5', '-o', 'json');
    ok(r);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { deployment: string; type: string });
    assert.ok(lines.length > 0 && lines.every((l) => l.deployment === deployments[2] && l.type === 'web'), r.stdout);

    // -f: a request made while following shows up, then Ctrl-C ends it.
    const child = spawn(process.execPath, [PAVE_BIN, 'logs', app, '--env', 'development', '--tail', '0', '-f'], {
      env: { ...process.env, PAVE_CONFIG_DIR: cli.configDir, PAVE_URL: server.url, PAVE_TOKEN: server.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no followed line within 10 s: ${out}`)), 10_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (/web\.0 #2 \| GET \/followed$/m.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const closed = new Promise((resolve) => child.on('close', resolve));
    try {
      await new Promise((res) => setTimeout(res, 700)); // the stream is open
      await viaRouter(server.routerUrl, host('development'), '/followed');
      await seen;
    } finally {
      child.kill('SIGINT');
      await closed;
    }
  });

  test('status shows the environments with their URL and processes; -o json parses', async () => {
    let r = await pave('status', app);
    ok(r);
    assert.match(r.stdout, /^ENVIRONMENT\s+TYPE\s+STATUS\s+RELEASED\s+URL\s+PROCESSES$/m);
    assert.match(r.stdout, new RegExp(`^development\\s+development\\s+running\\s+#2 \\(build 2\\)\\s+http://${host('development')}:\\d+\\S*\\s+web\\.0 running$`, 'm'));
    r = await pave('status', app, '-o', 'json');
    ok(r);
    const { items } = JSON.parse(r.stdout) as { items: EnvironmentStatus[] };
    assert.equal(items[0]!.status, 'running');
    assert.equal(items[0]!.released?.number, 2);
    r = await pave('status', app, '--env', 'development');
    ok(r);
    assert.match(r.stdout, /^Status:\s+running$/m);
    assert.match(r.stdout, /^Released:\s+deployment 2, build 2 /m);
  });

  test('a deployment that fails its health checks exits 1 with the reason; what was released keeps serving', async () => {
    ok(await pave('config', 'set', app, '--env', 'development', 'FAIL_HEALTH=1'));
    try {
      const r = await pave('deploy', app, '--env', 'development', '--release', '--timeout', '2');
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^ {2}deployment 3 failed: GET \/\S* answered 500/m);
      assert.match(r.stderr, /^error: deployment 3 of .* in development failed: GET \/\S* answered 500/m);
      assert.match(r.stdout, /^Status:\s+failed \(stopped\)$/m);
      assert.equal((await viaRouter(server.routerUrl, host('development'))).body, `hi from ${deployments[2]}\n`);
    } finally {
      ok(await pave('config', 'unset', app, '--env', 'development', 'FAIL_HEALTH'));
    }
  });

  test('envs create --from clones the environment, runs its released build and shows the URL; envs list shows it', async () => {
    let r = await pave('envs', 'create', app, 'pr-1', '--type', 'preview', '--from', 'development', '--ttl', '2h');
    ok(r);
    assert.match(r.stderr, /^Created environment pr-1 \(preview, expires /m);
    assert.match(r.stderr, /^ {2}deployment 1 is released/m);
    assert.match(r.stdout, /^Cloned from:\s+development$/m);
    assert.match(r.stdout, new RegExp(`^URL:\\s+http://${host('pr-1')}:\\d+`, 'm'));
    const res = await viaRouter(server.routerUrl, host('pr-1'));
    assert.match(res.body, /^hi from [0-9a-f-]{36}\n$/, 'the config was cloned');

    r = await pave('envs', 'list', app);
    ok(r);
    assert.match(r.stdout, /^NAME\s+TYPE\s+STATUS\s+RELEASED\s+URL\s+EXPIRES\s+CREATED$/m);
    assert.match(r.stdout, new RegExp(`^pr-1\\s+preview\\s+running\\s+#1\\s+http://${host('pr-1')}:\\d+\\S*\\s+\\S+Z\\s+\\S+Z$`, 'm'));

    r = await pave('envs', 'create', app, 'pr-2', '--type', 'preview', '--ttl', '5 days');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--ttl.*must be a duration such as 90s, 30m, 24h or 7d/);
  });

  test('the secret value never appeared in any output', () => {
    assert.ok(outputs.length > 20);
    for (const r of outputs) {
      assert.ok(!r.stdout.includes(SECRET), `stdout: ${r.stdout}`);
      assert.ok(!r.stderr.includes(SECRET), `stderr: ${r.stderr}`);
    }
  });
});
