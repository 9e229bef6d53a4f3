import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { PatternSummary, PlanView } from '../../src/contracts/golden.ts';
import { parseAddon, templateInputs } from '../../src/cli/commands/create.ts';
import { planText } from '../../src/cli/commands/resources.ts';
import { detectStacks, repositoryUrl, sanitiseName } from '../../src/cli/detect.ts';
import { ndjson } from '../../src/cli/golden-client.ts';
import { parseInputs, type InputField } from '../../src/cli/inputs.ts';
import { CliError } from '../../src/cli/output.ts';
import { progressPrinter } from '../../src/cli/progress.ts';

/** The pure parts of the golden-path commands: detection, input parsing, plan and progress rendering. */

const field = (name: string, type: string, extra: Partial<InputField> = {}): InputField => ({ name, type, title: name, required: false, editable: true, ...extra });

const template = (fields: InputField[]): PatternSummary => ({
  kind: 'Template', name: 'node-service', version: '1.0.0', versions: ['1.0.0'], title: null, description: null, tags: ['node'],
  inputs: {}, fields, readme: null, addons: [], resources: [], outputs: [], applications: 0,
});

describe('pave create: what a folder tells', () => {
  test('folder names become application names', () => {
    assert.equal(sanitiseName('Shop_App'), 'shop-app');
    assert.equal(sanitiseName('  --My Service (v2)!! '), 'my-service-v2');
    assert.equal(sanitiseName('___'), '');
    assert.equal(sanitiseName('a'.repeat(80)).length, 63);
  });

  test('git remotes become web addresses without credentials; local remotes have none', () => {
    assert.equal(repositoryUrl('git@github.com:acme/shop.git'), 'https://github.com/acme/shop');
    assert.equal(repositoryUrl('ssh://git@gitlab.example.com:2222/group/sub/repo.git'), 'https://gitlab.example.com/group/sub/repo');
    assert.equal(repositoryUrl('https://user:s3cret@github.com/acme/shop.git'), 'https://github.com/acme/shop');
    assert.equal(repositoryUrl('git://example.org/x/y'), 'https://example.org/x/y');
    assert.equal(repositoryUrl('/srv/git/shop.git'), null);
    assert.equal(repositoryUrl('file:///srv/git/shop.git'), null);
    assert.equal(repositoryUrl('../shop'), null);
  });

  test('stacks are detected from marker files, one per stack', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-detect-'));
    try {
      assert.deepEqual(detectStacks(dir), []);
      for (const f of ['package.json', 'build.gradle', 'pom.xml']) writeFileSync(path.join(dir, f), '');
      assert.deepEqual(detectStacks(dir), [{ stack: 'node', file: 'package.json' }, { stack: 'java', file: 'pom.xml' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('inputs from flags', () => {
  const fields = [field('port', 'integer'), field('ratio', 'number'), field('debug', 'boolean'), field('subjects', 'array'), field('size', 'string'), field('extra', 'object'), field('healthPath', 'string')];

  test('--input values are parsed by the declared type; what does not parse is sent as typed', () => {
    assert.deepEqual(parseInputs(['port=8081', 'ratio=0.5', 'debug=true', 'subjects=a.>, b.>', 'size=large', 'extra={"a":1}', 'unknown=7', 'x=a=b'], fields), {
      port: 8081, ratio: 0.5, debug: true, subjects: ['a.>', 'b.>'], size: 'large', extra: { a: 1 }, unknown: '7', x: 'a=b',
    });
    assert.deepEqual(parseInputs(['port=80.5', 'debug=maybe', 'subjects=["x"]'], fields), { port: '80.5', debug: 'maybe', subjects: ['x'] });
    assert.throws(() => parseInputs(['novalue'], fields), CliError);
    assert.throws(() => parseInputs(['extra={'], fields), /not valid JSON/);
  });

  test('named flags map onto declared inputs; --port without a port input is an error; --memory without one is a note', () => {
    const t = template(fields);
    assert.deepEqual(templateInputs(t, { port: 9000, size: 'medium', healthPath: '/ready', input: ['debug=false'] }).inputs, { port: 9000, size: 'medium', healthPath: '/ready', debug: false });
    assert.throws(() => templateInputs(template([]), { port: 9000 }), /has no input "port" for --port/);
    const { inputs, notes } = templateInputs(t, { memory: '1Gi', runtime: 'kubernetes' }, { team: 't', profiles: [], defaultTemplate: null, environments: { development: { memory: '256Mi' } } });
    assert.deepEqual(inputs, {});
    assert.match(notes[0]!, /--memory is not recorded.*runtime targets arrive with deployments.*memory 256Mi/);
    assert.match(notes[1]!, /--runtime is not recorded/);
    assert.deepEqual(templateInputs(template([field('memory', 'string')]), { memory: '1Gi' }).inputs, { memory: '1Gi' });
  });

  test('--addon NAME[@VERSION][:INSTANCE]', () => {
    assert.deepEqual(parseAddon('postgres'), { addon: 'postgres' });
    assert.deepEqual(parseAddon('postgres:db'), { addon: 'postgres', name: 'db' });
    assert.deepEqual(parseAddon('redis@^1.0.0:cache'), { addon: 'redis', version: '^1.0.0', name: 'cache' });
    assert.throws(() => parseAddon('a:b:c'), CliError);
  });
});

describe('plans and progress', () => {
  test('a plan reads as a diff', () => {
    const item = { definition: 'local-postgres', definitionVersion: 'r1', driver: 'postgres', changes: [], reason: null, error: null };
    const plan: PlanView = {
      order: ['db', 'cache', 'old', 'bad', 'same'],
      items: [
        { ...item, resource: 'db', type: 'postgres', class: 'small', action: 'create' },
        { ...item, resource: 'cache', type: 'redis', class: 'small', action: 'update', changes: [{ field: 'params.x', from: 'a', to: 'b' }] },
        { ...item, resource: 'old', type: 'redis', class: 'small', action: 'delete' },
        { ...item, resource: 'bad', type: 'dns', class: 'default', action: 'create', error: 'no resource definition matches' },
        { ...item, resource: 'same', type: 'postgres', class: 'small', action: 'noop' },
      ],
      errors: ['a cycle'],
    };
    assert.equal(
      planText(plan, 'development of shop'),
      [
        '+ create db (postgres, small) via local-postgres r1',
        '~ update cache: params.x: a → b',
        '- delete old (redis)',
        '! error bad (dns, default): no resource definition matches',
        '  same (postgres, small): no change',
        '! error: a cycle',
        '',
        'Plan for development of shop: 2 to create, 1 to update, 0 to replace, 1 to delete, 1 unchanged.',
      ].join('\n'),
    );
    assert.equal(planText({ order: [], items: [], errors: [] }, 'dev of x'), 'No changes: the resources of dev of x match the application.');
  });

  test('progress: one line per event, or a completed line at a terminal', () => {
    let plain = '';
    const p = progressPrinter({ write: (s: string) => (plain += s) });
    p.event({ resource: 'db', type: 'postgres', phase: 'provisioning', detail: 'postgres via local-postgres r1' });
    p.event({ resource: 'db', type: 'postgres', phase: 'ready', ms: 300 });
    p.event({ resource: 'q', type: 'amqp', phase: 'failed', detail: 'refused' });
    p.end();
    assert.equal(plain, '  db (postgres) provisioning… (postgres via local-postgres r1)\n  db (postgres) ready in 0.3 s\n  q (amqp) failed: refused\n');

    let tty = '';
    const t = progressPrinter({ write: (s: string) => (tty += s), isTTY: true });
    t.event({ resource: 'db', type: 'postgres', phase: 'provisioning' });
    t.event({ resource: 'db', type: 'postgres', phase: 'ready', ms: 1250 });
    t.event({ resource: 'a', type: 'redis', phase: 'deleting' });
    t.event({ resource: 'b', type: 'redis', phase: 'deleting' });
    t.end();
    assert.equal(tty, '  db (postgres) provisioning… ready in 1.3 s\n  a (redis) deleting…\n  b (redis) deleting…\n');
  });

  test('NDJSON lines split across chunks', async () => {
    const enc = new TextEncoder();
    async function* chunks() {
      yield enc.encode('{"event":{"a":1}}\n{"ev');
      yield enc.encode('ent":{"a":2}}\n\n{"result":');
      yield enc.encode('{"ok":true}}');
    }
    const out: unknown[] = [];
    for await (const v of ndjson(chunks())) out.push(v);
    assert.deepEqual(out, [{ event: { a: 1 } }, { event: { a: 2 } }, { result: { ok: true } }]);
  });
});
