import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { digestOf, formatPlatformError, loadPlatformFolder, loadPlatformFromGit, parsePlatformFile, PlatformGitError, type PlatformFileError } from './loader.ts';
import { PLATFORM_KINDS } from './schema.ts';

const SAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'platform');

const tmp: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pave-platform-'));
  tmp.push(d);
  return d;
}
after(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

function write(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

function errorIn(errors: PlatformFileError[], file: string, document = 1): PlatformFileError {
  const e = errors.find((x) => x.file === file && x.document === document);
  assert.ok(e, `expected an error in ${file} (document ${document}); got:\n${errors.map(formatPlatformError).join('\n')}`);
  return e;
}

describe('the sample platform', () => {
  test('loads without errors', async () => {
    const { objects, errors } = await loadPlatformFolder(SAMPLE, { drivers: ['postgres', 'mysql', 'redis', 'amqp', 'nats-stream', 'volume', 'echo', 'cmd'] });
    assert.deepEqual(errors.map(formatPlatformError), []);
    const counts = Object.fromEntries(PLATFORM_KINDS.map((k) => [k, objects.filter((o) => o.object.kind === k).length]));
    assert.deepEqual(counts, { Template: 1, AddOn: 6, ResourceType: 11, ResourceDefinition: 11, TeamProfile: 1, Policy: 6 });
  });

  test('has Score\'s resource types with score-compose\'s outputs', async () => {
    const { objects } = await loadPlatformFolder(SAMPLE);
    const outputs = (name: string) => {
      const o = objects.find((x) => x.object.kind === 'ResourceType' && x.object.metadata.name === name)?.object;
      assert.ok(o && o.kind === 'ResourceType', `resource type ${name}`);
      return o.spec.outputs;
    };
    assert.deepEqual(Object.keys(outputs('postgres')).sort(), ['database', 'host', 'name', 'password', 'port', 'username']);
    assert.equal(outputs('postgres').password?.secret, true);
    assert.deepEqual(Object.keys(outputs('redis')).sort(), ['host', 'password', 'port', 'username']);
    assert.deepEqual(Object.keys(outputs('amqp')).sort(), ['host', 'password', 'port', 'username', 'vhost']);
    assert.deepEqual(Object.keys(outputs('service-port')).sort(), ['hostname', 'port']);
    assert.deepEqual(Object.keys(outputs('volume')), ['source']);
  });

  test('each object has its file, document and a stable digest', async () => {
    const a = await loadPlatformFolder(SAMPLE);
    const b = await loadPlatformFolder(SAMPLE);
    const t = a.objects.find((o) => o.object.kind === 'Template');
    assert.ok(t);
    assert.equal(t.file, 'templates/node-service.yaml');
    assert.equal(t.document, 1);
    assert.match(t.digest, /^[0-9a-f]{64}$/);
    assert.equal(t.digest, digestOf(t.object));
    assert.deepEqual(
      a.objects.map((o) => o.digest),
      b.objects.map((o) => o.digest),
    );
    const defs = a.objects.filter((o) => o.file === 'resource-definitions/local.yaml');
    assert.deepEqual(
      defs.map((o) => o.document),
      defs.map((_, i) => i + 1),
    );
  });

  test('normalises defaults: add-on instance names, empty criteria', async () => {
    const { objects } = await loadPlatformFolder(SAMPLE);
    const def = objects.find((o) => o.object.kind === 'ResourceDefinition' && o.object.metadata.name === 'local-postgres')?.object;
    assert.ok(def?.kind === 'ResourceDefinition');
    assert.deepEqual(def.spec.criteria, []);
    assert.deepEqual(def.spec.inputs, { adminUrl: { secretRef: 'local-postgres-admin' } });
    const r = parsePlatformFile(
      'x.yaml',
      `apiVersion: pave.dev/v1
kind: Template
metadata: { name: t, version: 1.0.0 }
spec:
  workload: { apiVersion: score.dev/v1b1, containers: { web: { image: . } } }
  addons: [{ addon: postgres, version: ^1 }]
`,
    );
    assert.deepEqual(r.errors, []);
    const t = r.objects[0]?.object;
    assert.ok(t?.kind === 'Template');
    assert.deepEqual(t.spec.addons, [{ addon: 'postgres', version: '^1', name: 'postgres' }]);
    assert.deepEqual(t.spec.inputs, { type: 'object', properties: {} });
  });
});

describe('bad files', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof loadPlatformFolder>>;

  before(async () => {
    dir = tempDir();
    cpSync(SAMPLE, dir, { recursive: true });
    write(
      dir,
      'bad/syntax.yaml',
      `apiVersion: pave.dev/v1
kind: ResourceType
metadata:
  name: broken
  name: twice
spec: {}
`,
    );
    write(
      dir,
      'bad/kind.yaml',
      `# a comment
apiVersion: pave.dev/v1
kind: Widget
metadata: { name: w }
spec: {}
`,
    );
    write(
      dir,
      'bad/no-version.yaml',
      `apiVersion: pave.dev/v1
kind: Template
metadata:
  name: unversioned
  title: No version
spec:
  workload:
    apiVersion: score.dev/v1b1
    containers: { web: { image: . } }
`,
    );
    write(
      dir,
      'bad/multi.yml',
      `apiVersion: pave.dev/v1
kind: ResourceType
metadata: { name: fine-one }
spec:
  outputs: { url: { type: string } }
---
apiVersion: pave.dev/v1
kind: AddOn
metadata:
  name: bad-enum
  version: 1.0.0
spec:
  inputs:
    type: object
    properties:
      size:
        type: string
        enum: small
  resources: {}
`,
    );
    // the same Template (name and version) as the sample's
    write(dir, 'zz/duplicate.yaml', `# copied\n${readFileSync(join(SAMPLE, 'templates/node-service.yaml'), 'utf8')}`);
    write(
      dir,
      'bad/refs.yaml',
      `apiVersion: pave.dev/v1
kind: AddOn
metadata: { name: cache, version: 2.0.0 }
spec:
  resources:
    cc: { type: memcached }
  outputs:
    URL: \${resources.cc.url}
`,
    );
    write(dir, '.git/ignored.yaml', 'not: [valid');
    write(dir, 'notes.txt', 'not yaml: [');
    result = await loadPlatformFolder(dir);
  });

  test('a YAML syntax error is reported at its line', () => {
    const e = errorIn(result.errors, 'bad/syntax.yaml');
    assert.equal(e.line, 5);
    assert.match(e.message, /YAML syntax error: Map keys must be unique/);
  });

  test('an unknown kind is reported at the kind line', () => {
    const e = errorIn(result.errors, 'bad/kind.yaml');
    assert.equal(e.line, 3);
    assert.equal(e.path, 'kind');
    assert.match(e.message, /unknown kind "Widget": must be one of Template, AddOn/);
  });

  test('a Template without version is reported at metadata', () => {
    const e = errorIn(result.errors, 'bad/no-version.yaml');
    assert.equal(e.path, 'metadata.version');
    assert.equal(e.line, 3);
    assert.match(e.message, /is required: a Template is versioned/);
  });

  test('an invalid JSON Schema in inputs is reported at the offending keyword', () => {
    const e = errorIn(result.errors, 'bad/multi.yml', 2);
    assert.equal(e.path, 'spec.inputs.properties.size.enum');
    assert.equal(e.line, 18);
    assert.match(e.message, /invalid JSON Schema: must be array/);
  });

  test('a duplicate (kind, name, version) is reported where it repeats', () => {
    const e = errorIn(result.errors, 'zz/duplicate.yaml');
    assert.equal(e.line, 5);
    assert.equal(e.path, 'metadata.name');
    assert.match(e.message, /duplicate Template node-service 1\.0\.0: already defined in templates\/node-service\.yaml/);
  });

  test('references to unknown resource types are reported', () => {
    const e = errorIn(result.errors, 'bad/refs.yaml');
    assert.equal(e.path, 'spec.resources.cc.type');
    assert.equal(e.line, 6);
    assert.match(e.message, /unknown resource type "memcached"/);
  });

  test('the good objects still load, hidden folders and other files are skipped', () => {
    assert.equal(result.errors.length, 6, result.errors.map(formatPlatformError).join('\n'));
    assert.ok(result.errors.every((e) => e.file.startsWith('bad/') || e.file.startsWith('zz/')));
    const names = result.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);
    assert.ok(names.includes('ResourceType/fine-one'));
    assert.ok(names.includes('Template/node-service'));
    assert.equal(result.objects.filter((o) => o.object.kind === 'Template').length, 1);
    assert.equal(result.objects.find((o) => o.object.kind === 'Template')?.file, 'templates/node-service.yaml');
    assert.equal(result.objects.length, 37);
  });

  test('formatPlatformError', () => {
    assert.equal(
      formatPlatformError({ file: 'a.yaml', document: 2, line: 7, path: 'spec.type', message: 'is required' }),
      'a.yaml:7 (document 2): spec.type: is required',
    );
    assert.equal(formatPlatformError({ file: 'a.yaml', document: 1, line: null, path: null, message: 'boom' }), 'a.yaml: boom');
  });
});

describe('single documents', () => {
  const parse = (text: string) => parsePlatformFile('f.yaml', text);

  test('unknown fields, bad values and bad placeholders name the field and line', () => {
    const r = parse(`apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: p }
spec:
  team: payments
  environments:
    prod: { replicas: 1 }
---
apiVersion: pave.dev/v1
kind: TeamProfile
metadata: { name: q }
spec:
  team: "*"
  environments:
    development:
      replicas: -1
      colour: red
---
apiVersion: pave.dev/v1
kind: Template
metadata: { name: t, version: 1.0.0 }
spec:
  inputs: { type: object, properties: { port: { type: integer, default: 80 } } }
  workload:
    apiVersion: score.dev/v1b1
    containers:
      web:
        image: .
        variables:
          PORT: \${inputs.prot}
`);
    assert.deepEqual(
      r.errors.map((e) => [e.document, e.line, e.path, e.message]),
      [
        [1, 7, 'spec.environments.prod', 'unknown environment type "prod": must be one of development, staging, production, preview'],
        [2, 16, 'spec.environments.development.replicas', 'must be >= 0'],
        [2, 17, 'spec.environments.development.colour', 'unknown field "colour"'],
        [3, 30, 'spec.workload.containers.web.variables.PORT', '${inputs.prot} refers to an input that spec.inputs does not declare (declared: port)'],
      ],
    );
  });

  test('a default outside its own schema is an error', () => {
    const r = parse(`apiVersion: pave.dev/v1
kind: AddOn
metadata: { name: a, version: 1.0.0 }
spec:
  inputs:
    type: object
    properties:
      size: { type: string, enum: [small, large], default: huge }
`);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]?.path, 'spec.inputs.properties.size.default');
    assert.equal(r.errors[0]?.line, 8);
    assert.match(r.errors[0]?.message ?? '', /"huge" does not fit the input's schema: must be one of small, large/);
  });

  test('an unknown JSON Schema keyword is found in the schema', () => {
    const r = parse(`apiVersion: pave.dev/v1
kind: AddOn
metadata: { name: a, version: 1.0.0 }
spec:
  inputs:
    type: object
    properties:
      n:
        type: integer
        minimun: 3
`);
    assert.equal(r.errors[0]?.path, 'spec.inputs.properties.n.minimun');
    assert.equal(r.errors[0]?.line, 10);
    assert.match(r.errors[0]?.message ?? '', /unknown keyword "minimun"/);
  });

  test('secret references and context placeholders in definitions are checked', () => {
    const r = parse(`apiVersion: pave.dev/v1
kind: ResourceDefinition
metadata: { name: d }
spec:
  type: postgres
  driver: postgres
  inputs:
    adminUrl: { secretRef: "Not A Name" }
    host: \${context.app}.localhost
    script: "echo $$HOME \${HOME}"
`);
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.path]),
      [
        [8, 'spec.inputs.adminUrl.secretRef'],
        [9, 'spec.inputs.host'],
      ],
    );
  });

  test('not a mapping, wrong apiVersion, empty documents', () => {
    const r = parse(`- a\n- b\n---\napiVersion: v1\nkind: Template\n---\n`);
    assert.deepEqual(
      r.errors.map((e) => [e.document, e.line, e.path]),
      [
        [1, 1, null],
        [2, 4, 'apiVersion'],
      ],
    );
    assert.deepEqual(parse('# nothing here\n'), { objects: [], errors: [] });
  });
});

describe('loading from git', () => {
  const gitEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd, env: gitEnv, encoding: 'utf8' }).trim();
  let bare: string;
  let v1: string;
  let v2: string;

  before(() => {
    const root = tempDir();
    const work = join(root, 'work');
    bare = join(root, 'platform.git');
    mkdirSync(work);
    git(work, 'init', '--quiet');
    cpSync(SAMPLE, join(work, 'golden'), { recursive: true });
    write(work, 'README.md', '# our platform\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'v1');
    git(work, 'tag', '-a', 'v1.0.0', '-m', 'v1');
    v1 = git(work, 'rev-parse', 'HEAD');
    write(
      work,
      'golden/addons/postgres-2.yaml',
      `apiVersion: pave.dev/v1
kind: AddOn
metadata: { name: postgres, version: 2.0.0 }
spec:
  resources: { db: { type: postgres } }
  outputs: { DATABASE_URL: "postgres://\${resources.db.host}" }
---
apiVersion: pave.dev/v1
kind: Widget
metadata: { name: w }
`,
    );
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'v2');
    git(work, 'tag', 'v2.0.0');
    v2 = git(work, 'rev-parse', 'HEAD');
    git(root, 'clone', '--quiet', '--bare', work, bare);
  });

  test('clones a tag of a local bare repository and reports the commit', async () => {
    const cacheDir = tempDir();
    const r = await loadPlatformFromGit(bare, 'v1.0.0', { cacheDir, subdir: 'golden' });
    assert.equal(r.commit, v1);
    assert.deepEqual(r.errors, []);
    assert.equal(r.objects.length, 36);
    assert.ok(r.objects.some((o) => o.file === 'golden/templates/node-service.yaml'));
  });

  test('fetches another ref into the same cache, with file:// URLs too', async () => {
    const cacheDir = tempDir();
    const url = `file://${bare}`;
    const first = await loadPlatformFromGit(url, 'v1.0.0', { cacheDir, subdir: 'golden' });
    assert.equal(first.commit, v1);
    const second = await loadPlatformFromGit(url, 'v2.0.0', { cacheDir, subdir: 'golden' });
    assert.equal(second.commit, v2);
    assert.equal(second.dir, first.dir);
    assert.equal(second.objects.length, 37);
    assert.deepEqual(
      second.errors.map((e) => [e.file, e.document, e.line, e.path]),
      [['golden/addons/postgres-2.yaml', 2, 9, 'kind']],
    );
    const main = await loadPlatformFromGit(url, 'main', { cacheDir, subdir: 'golden' });
    assert.equal(main.commit, v2);
    const back = await loadPlatformFromGit(url, 'v1.0.0', { cacheDir, subdir: 'golden' });
    assert.equal(back.commit, v1);
    assert.equal(back.objects.length, 36, 'files of the later commit are gone');
    const bySha = await loadPlatformFromGit(url, v1, { cacheDir: tempDir(), subdir: 'golden' });
    assert.equal(bySha.commit, v1);
  });

  test('an unknown ref, a bad subdir or a bad ref fails with a clear error', async () => {
    const cacheDir = tempDir();
    await assert.rejects(loadPlatformFromGit(bare, 'no-such-tag', { cacheDir }), (e: unknown) => e instanceof PlatformGitError && /git clone failed: .*Remote branch no-such-tag not found/.test(e.message));
    await assert.rejects(loadPlatformFromGit(bare, 'v1.0.0', { cacheDir, subdir: '../..' }), /outside the repository/);
    await assert.rejects(loadPlatformFromGit(bare, 'v1.0.0', { cacheDir, subdir: 'nope' }), /subdir "nope" does not exist/);
    await assert.rejects(loadPlatformFromGit(bare, '--upload-pack=evil', { cacheDir }), /invalid git ref/);
  });
});
