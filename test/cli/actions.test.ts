import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { convertParams } from '../../src/cli/commands/actions.ts';
import { CliError } from '../../src/cli/output.ts';
import type { ActionRun, ActionView } from '../../src/contracts/actions.ts';
import { HELLO, deploy, json } from '../deployments/helpers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { cliSandbox, PAVE_BIN, type Cli, type CliResult } from './helpers.ts';

/**
 * The golden-action commands, spawned for real against a real server that runs the hello fixture:
 * actions list/show, pave run (command, HTTP and lifecycle actions; parameter types; confirmation in
 * production; --no-wait; Ctrl-C), runs list/show/logs/cancel, and the audit log.
 */

interface AuditEvent {
  id: number;
  actor: string;
  target: string;
  outcome: string;
  details: Record<string, unknown>;
}

describe('pave actions, run, runs, audit', { concurrency: false, timeout: 120_000 }, () => {
  let server: TestServer;
  let cli: Cli;
  const suffix = randomBytes(3).toString('hex');
  const app = `act-${suffix}`;
  const team = `team-${suffix}`;
  const ids: Record<string, string> = {}; // what → run id

  const pave = (...args: string[]) => cli.run(args, { env: { PAVE_URL: server.url, PAVE_TOKEN: server.token } });
  const ok = (r: CliResult) => assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const idOf = (r: CliResult) => /^Id:\s+([0-9a-f-]{36})$/m.exec(r.stdout)?.[1] ?? assert.fail(`no Id in:\n${r.stdout}`);

  before(async () => {
    server = await startTestServer({ deployments: { stopGrace: 1 } });
    cli = cliSandbox();
    await json(await server.api('/api/v1/teams', { method: 'POST', json: { name: team } }), 201);
    await json(
      await server.api('/api/v1/applications', {
        method: 'POST',
        json: { name: app, owner: team, template: 'node-service', environments: [{ name: 'development', type: 'development' }, { name: 'production', type: 'production' }] },
      }),
      201,
    );
    await json(await server.api(`/api/v1/applications/${app}/builds`, { method: 'POST', json: { path: HELLO } }), 201);
    for (const env of ['development', 'production']) assert.equal((await deploy(server, app, env, { release: true })).released, true);
  });

  after(async () => {
    try {
      cli?.cleanup();
    } finally {
      await server?.close();
    }
  });

  test('actions list shows what the template offers, and with --env where each may run; -o json parses', async () => {
    let r = await pave('actions', 'list', app);
    ok(r);
    assert.match(r.stdout, /^KEY\s+TITLE\s+KIND\s+SOURCE\s+ENVIRONMENTS\s+ROLE\s+ALLOWED HERE$/m);
    assert.match(r.stdout, /^migrate\s+Run database migrations\s+command\s+template node-service@1\.0\.0\s+development,staging,production,preview\s+developer\s+-$/m);
    assert.match(r.stdout, /^smoke-test\s+Smoke test\s+http\s/m);
    assert.match(r.stdout, /^restart\s+Restart\s+lifecycle\s/m);
    assert.match(r.stdout, /^scale\s+Scale\s+lifecycle\s/m);

    r = await pave('actions', 'list', app, '--env', 'production');
    ok(r);
    assert.match(r.stdout, /^seed\s+.*\s+development,preview\s+developer\s+no$/m);
    assert.match(r.stdout, /^migrate\s+.*\s+yes$/m);

    r = await pave('actions', 'list', app, '--env', 'production', '-o', 'json');
    ok(r);
    const { items } = JSON.parse(r.stdout) as { items: ActionView[] };
    assert.deepEqual(items.filter((a) => !a.allowedHere).map((a) => a.key), ['seed']);
  });

  test('actions show lists the parameters with their types, defaults and whether they are required', async () => {
    let r = await pave('actions', 'show', app, 'scale');
    ok(r);
    assert.match(r.stdout, /^Action:\s+scale$/m);
    assert.match(r.stdout, /^Confirmation:\s+in production environments/m);
    assert.match(r.stdout, /^PARAMETER\s+TYPE\s+REQUIRED\s+DEFAULT\s+ALLOWED\s+DESCRIPTION$/m);
    assert.match(r.stdout, /^replicas\s+integer\s+yes\s+-\s+1 to 10\s+Replicas$/m);
    assert.match(r.stdout, new RegExp(`^Run it: pave run scale --app ${app} --env <env> --param replicas=<integer>$`, 'm'));

    r = await pave('actions', 'show', app, 'smoke-test', '-o', 'json');
    ok(r);
    assert.equal((JSON.parse(r.stdout) as ActionView).confirm, 'never');

    r = await pave('actions', 'show', app, 'no-such-action');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no action "no-such-action"; it has migrate, seed, smoke-test/);
  });

  test('run migrate streams its output on stderr and prints how it ended', async () => {
    const r = await pave('run', 'migrate', '--app', app, '--env', 'development');
    ok(r);
    assert.match(r.stderr, new RegExp(`^Running migrate in development of ${app} \\(run [0-9a-f]{8}\\)…$`, 'm'));
    assert.match(r.stderr, /^ {2}\$ npm run migrate$/m);
    assert.match(r.stderr, /^ {2}migrate: done$/m);
    assert.match(r.stdout, /^Action:\s+migrate: Run database migrations$/m);
    assert.match(r.stdout, /^Status:\s+succeeded$/m);
    assert.match(r.stdout, /^Summary:\s+exited with code 0 in \d+ ms/m);
    assert.match(r.stdout, /^Duration:\s+\d/m);
    ids.migrate = idOf(r);
  });

  test('an HTTP action that answers 503 fails: exit code 1, the status in the error', async () => {
    const r = await pave('run', 'smoke-test', '--app', app, '--env', 'development', '--param', 'path=/status/503');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^ {2}status 503$/m);
    assert.match(r.stderr, new RegExp(`^error: smoke-test in development of ${app} failed: .*503`, 'm'));
    assert.match(r.stdout, /^Status:\s+failed$/m);
    assert.match(r.stdout, /^Parameters:\s+path=\/status\/503$/m);
    ids.failed = idOf(r);

    const good = await pave('run', 'smoke-test', '--app', app, '--env', 'development', '-o', 'json');
    ok(good);
    const run = JSON.parse(good.stdout) as ActionRun;
    assert.equal(run.status, 'succeeded');
    assert.match(run.summary!, /answered 200/);
  });

  test('--param values are converted to the declared types; the server\'s refusals name the field', async () => {
    let r = await pave('run', 'scale', '--app', app, '--env', 'development', '--param', 'replicas=2', '-o', 'json');
    ok(r);
    const run = JSON.parse(r.stdout) as ActionRun;
    assert.equal(run.status, 'succeeded', run.error ?? '');
    assert.deepEqual(run.params, { replicas: 2 });
    assert.match(run.summary!, /runs 2 web replica/);

    r = await pave('run', 'scale', '--app', app, '--env', 'development', '--param', 'replicas=0');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^ {2}body\.params\.replicas: /m);
    assert.match(r.stderr, /pave actions show .* scale" lists its parameters/);

    r = await pave('run', 'scale', '--app', app, '--env', 'development', '--param', 'replicas=two');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--param replicas: "two" is not a whole number/);

    r = await pave('run', 'smoke-test', '--app', app, '--env', 'development', '--param', 'nope=1');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /body\.params.*nope|nope.*body\.params/);
  });

  test('in production, an action that asks for confirmation needs --confirm without a terminal; one that does not, runs', async () => {
    let r = await pave('run', 'smoke-test', '--app', app, '--env', 'production');
    ok(r);
    assert.match(r.stdout, /^Status:\s+succeeded$/m);

    r = await pave('run', 'migrate', '--app', app, '--env', 'production');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: migrate asks for confirmation in production, a production environment: pass --confirm production to run it/m);
    assert.doesNotMatch(r.stderr, /migrate: done/);

    r = await pave('run', 'migrate', '--app', app, '--env', 'production', '--yes');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /pass --confirm production .*--yes does not confirm it/);

    r = await pave('run', 'migrate', '--app', app, '--env', 'production', '--confirm', 'staging');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--confirm must be the environment's name, "production"/);

    r = await pave('run', 'migrate', '--app', app, '--env', 'production', '--confirm', 'production');
    ok(r);
    assert.match(r.stderr, /^ {2}migrate: done$/m);
    ids.production = idOf(r);

    // where it may not run, the server refuses it (and audits the refusal)
    r = await pave('run', 'seed', '--app', app, '--env', 'production');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: seed may not run in production environments \(it may in development, preview\)$/m);
  });

  test('--no-wait answers at once with the id; runs cancel stops the run', async () => {
    let r = await pave('run', 'smoke-test', '--app', app, '--env', 'development', '--param', 'path=/slow?ms=20000', '--no-wait', '-o', 'json');
    ok(r);
    const started = JSON.parse(r.stdout) as ActionRun;
    assert.ok(['queued', 'running'].includes(started.status), started.status);
    assert.match(r.stderr, new RegExp(`Follow it with "pave runs logs ${started.id} -f"`));

    r = await pave('runs', 'cancel', started.id);
    ok(r);
    assert.match(r.stdout, /^Status:\s+cancelled$/m);
    assert.match(r.stdout, /^Error:\s+cancelled by user:default\/admin$/m);

    r = await pave('runs', 'cancel', started.id);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already ended \(cancelled\)/);
  });

  test('Ctrl-C while a run streams cancels it and exits 130', async () => {
    const child = spawn(process.execPath, [PAVE_BIN, 'run', 'smoke-test', '--app', app, '--env', 'development', '--param', 'path=/slow?ms=20000'], {
      env: { ...process.env, PAVE_CONFIG_DIR: cli.configDir, PAVE_URL: server.url, PAVE_TOKEN: server.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the run's output did not start within 10 s: ${stderr}`)), 10_000);
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/^ {2}GET \S+\/slow$/m.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    assert.equal(await closed, 130, stderr);
    assert.match(stderr, /^Cancelling run [0-9a-f]{8}/m);
    assert.match(stdout, /^Status:\s+cancelled$/m);
    ids.interrupted = idOf({ code: 130, stdout, stderr });
    const run = await json<ActionRun>(await server.api(`/api/v1/runs/${ids.interrupted}`), 200);
    assert.equal(run.status, 'cancelled');
  });

  test('runs list, show (by id, or its start with --app) and logs', async () => {
    let r = await pave('runs', 'list', app);
    ok(r);
    assert.match(r.stdout, /^ID\s+ACTION\s+ENV\s+STATUS\s+BY\s+STARTED\s+DURATION$/m);
    assert.match(r.stdout, new RegExp(`^${ids.migrate!.slice(0, 8)}\\s+migrate\\s+development\\s+succeeded\\s+admin\\s+\\S+Z\\s+\\d`, 'm'));
    assert.match(r.stdout, new RegExp(`^${ids.production!.slice(0, 8)}\\s+migrate\\s+production\\s+succeeded\\s+admin\\s`, 'm'));
    assert.match(r.stdout, new RegExp(`^${ids.failed!.slice(0, 8)}\\s+smoke-test\\s+development\\s+failed\\s`, 'm'));
    assert.match(r.stdout, /^[0-9a-f]{8}\s+smoke-test\s+development\s+cancelled\s/m);

    r = await pave('runs', 'list', app, '--env', 'production', '-o', 'json');
    ok(r);
    const { items } = JSON.parse(r.stdout) as { items: ActionRun[] };
    assert.ok(items.length >= 2 && items.every((x) => x.environment === 'production'), r.stdout);
    assert.deepEqual(items.map((x) => x.action).sort(), ['migrate', 'smoke-test']);

    r = await pave('runs', 'show', ids.migrate!);
    ok(r);
    assert.match(r.stdout, /^Status:\s+succeeded$/m);
    assert.match(r.stdout, /^Output:$/m);
    assert.match(r.stdout, /^ {2}\S+Z migrate: done$/m);

    r = await pave('runs', 'show', ids.failed!.slice(0, 8), '--app', app, '-o', 'json');
    ok(r);
    const failed = JSON.parse(r.stdout) as ActionRun;
    assert.equal(failed.id, ids.failed);
    assert.match(failed.error!, /503/);

    r = await pave('runs', 'show', ids.failed!.slice(0, 8));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /add --app <app>/);

    r = await pave('runs', 'logs', ids.migrate!);
    ok(r);
    assert.match(r.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ migrate: done$/m);
    r = await pave('runs', 'logs', ids.migrate!, '-f', '-o', 'json');
    ok(r);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ts: string; line: string });
    assert.ok(lines.some((l) => l.line === 'migrate: done'), r.stdout);
  });

  test('audit list shows started, succeeded, failed and denied runs; audit verify holds', async () => {
    const prefix = `application:default/${app}/`;
    let r = await pave('audit', 'list', '--target-prefix', prefix, '--limit', '200');
    ok(r);
    assert.match(r.stdout, /^ID\s+AT\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+DETAILS$/m);
    const row = (target: string, outcome: string) => new RegExp(`^\\d+\\s+\\S+Z\\s+admin\\s+action\\.run\\s+${prefix}${target}\\s+${outcome}(\\s|$)`, 'm');
    assert.match(r.stdout, row('development/migrate', 'started'));
    assert.match(r.stdout, row('development/migrate', 'succeeded'));
    assert.match(r.stdout, row('development/smoke-test', 'failed'));
    assert.match(r.stdout, row('production/seed', 'denied'));
    assert.match(r.stdout, row('production/migrate', 'succeeded'));
    assert.match(r.stdout, new RegExp(`run=${ids.migrate!.slice(0, 8)}`));

    r = await pave('audit', 'list', '--target', `${prefix}production/seed`, '--actor', 'admin', '-o', 'json');
    ok(r);
    const { items } = JSON.parse(r.stdout) as { items: AuditEvent[] };
    assert.deepEqual(items.map((e) => e.outcome), ['denied']);
    assert.match(String(items[0]!.details.reason), /may not run in production/);

    const today = new Date().toISOString().slice(0, 10);
    r = await pave('audit', 'list', '--target-prefix', prefix, '--action', 'action.run', '--outcome', 'denied', '--since', today, '-o', 'yaml');
    ok(r);
    assert.match(r.stdout, /^ {4}outcome: denied$/m);
    assert.doesNotMatch(r.stdout, /outcome: (started|succeeded)/);
    r = await pave('audit', 'list', '--since', 'yesterday');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--since.*must be a date/);

    r = await pave('audit', 'verify');
    ok(r);
    assert.match(r.stdout, /^The audit log holds: \d+ events checked/m);
    r = await pave('audit', 'verify', '-o', 'json');
    ok(r);
    const v = JSON.parse(r.stdout) as { ok: boolean; checked: number; brokenAt: number | null };
    assert.equal(v.ok, true);
    assert.ok(v.checked > 10);
    assert.equal(v.brokenAt, null);
  });

  test('a broken audit chain: audit verify exits 1 and names the event', async () => {
    const { items } = await json<{ items: AuditEvent[] }>(await server.api(`/api/v1/audit?targetPrefix=${encodeURIComponent(`application:default/${app}/`)}&limit=1`), 200);
    const id = items[0]!.id;
    await server.store.db.updateTable('audit_events').set({ outcome: 'tampered' }).where('id', '=', String(id)).execute();
    const r = await pave('audit', 'verify');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`^The audit log is broken at event ${id}: it does not match its hash \\(it was changed\\)\\.`, 'm'));
  });
});

describe('pave run --param conversion', () => {
  const action = (properties: Record<string, unknown>): ActionView => ({
    key: 'x', id: 'x', title: 'X', description: null, parameters: { type: 'object', properties }, environments: ['development'], role: 'developer', confirm: 'never',
    timeoutSeconds: 30, kind: 'http', source: 'template t@1.0.0', addon: null, allowedHere: null,
  });
  const a = action({
    n: { type: 'integer' }, f: { type: 'number' }, b: { type: 'boolean' }, s: { type: 'string' }, tags: { type: 'array', items: { type: 'integer' } },
    o: { type: 'object' }, maybe: { type: ['string', 'null'] }, either: { type: ['integer', 'string'] }, token: { type: 'integer', writeOnly: true },
  });

  test('values take the declared types; undeclared ones go as text; "=" inside a value stays', () => {
    assert.deepEqual(
      convertParams(['n=-3', 'f=2.5e1', 'b=yes', 's=a=b', 'tags=1,2', 'o={"k":1}', 'maybe=null', 'either=7', 'other=1', 'pattern=session:*'], a),
      { n: -3, f: 25, b: true, s: 'a=b', tags: [1, 2], o: { k: 1 }, maybe: null, either: 7, other: '1', pattern: 'session:*' },
    );
    assert.deepEqual(convertParams(['tags=[3]', 'b=false', 'either=seven', 'maybe=x'], a), { tags: [3], b: false, either: 'seven', maybe: 'x' });
    assert.deepEqual(convertParams(undefined, a), {});
  });

  test('a value that is not of its type is a usage error (exit code 2); a secret one is not echoed', () => {
    const fails = (values: string[], message: RegExp) =>
      assert.throws(() => convertParams(values, a), (err: unknown) => err instanceof CliError && err.exitCode === 2 && message.test(err.message));
    fails(['n=1.5'], /--param n: "1\.5" is not a whole number/);
    fails(['b=maybe'], /is not true or false/);
    fails(['o=[1]'], /is not a JSON object/);
    fails(['tags=1,x'], /--param tags: "1,x" is not a JSON array or a,b,c/);
    fails(['token=hunter2'], /--param token: the value is not a whole number/);
    fails(['n=1', 'n=2'], /given twice/);
    fails(['=1'], /takes name=value/);
  });
});
