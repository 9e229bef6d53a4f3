import { SCORE_FIXTURES } from '../../test/support/fixtures.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  checkPlaceholders,
  PlaceholderError,
  placeholdersIn,
  referencedResources,
  resolveParams,
  resolveWorkload,
  splitRef,
  substitute,
  WorkloadResolveError,
  type PlaceholderContext,
} from './placeholders.ts';
import { parseScore, type ScoreWorkload } from './score.ts';

function workloadOf(text: string): ScoreWorkload {
  const result = parseScore(text);
  assert.ok('workload' in result, JSON.stringify(result));
  return result.workload;
}

const CTX: PlaceholderContext = {
  metadata: { name: 'web', annotations: { team: 'core', 'example.com/owner': 'ops' }, extra: { depth: { n: 1 } } },
  resources: {
    db: {
      host: 'db.internal',
      port: 5432,
      username: 'app',
      password: 's3cret',
      conn: { primary: { host: 'p1.internal' } },
      'tls.crt': 'CERT',
      enabled: true,
    },
    dns: { host: 'web.example.test' },
  },
};

function throwsPlaceholder(fn: () => unknown, expected: { placeholder: string; path: string; reason: string }): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PlaceholderError, `expected a PlaceholderError, got ${String(err)}`);
    assert.deepEqual({ placeholder: err.placeholder, path: err.path, reason: err.reason }, expected);
    assert.equal(err.message, `invalid placeholder ${expected.placeholder}${expected.path ? ` in ${expected.path}` : ''}: ${expected.reason}`);
    return true;
  });
}

describe('placeholdersIn and splitRef', () => {
  test('finds placeholders, not escapes', () => {
    assert.deepEqual(placeholdersIn('${resources.db.host}:${resources.db.port} costs $$5 and $${literal} $$${metadata.name}'), [
      { text: '${resources.db.host}', ref: 'resources.db.host', parts: ['resources', 'db', 'host'], index: 0 },
      { text: '${resources.db.port}', ref: 'resources.db.port', parts: ['resources', 'db', 'port'], index: 21 },
      { text: '${metadata.name}', ref: 'metadata.name', parts: ['metadata', 'name'], index: 70 },
    ]);
    assert.deepEqual(placeholdersIn('no placeholders: $HOME ${unterminated'), []);
  });

  test('splitRef: dots separate, \\. is a dot in a key', () => {
    assert.deepEqual(splitRef('metadata.annotations.example\\.com/owner'), ['metadata', 'annotations', 'example.com/owner']);
    assert.deepEqual(splitRef('resources.db.conn.primary.host'), ['resources', 'db', 'conn', 'primary', 'host']);
  });
});

describe('substitute', () => {
  const cases: [string, string][] = [
    ['${metadata.name}', 'web'],
    ['${metadata.annotations.team}', 'core'],
    ['${metadata.annotations.example\\.com/owner}', 'ops'],
    ['${metadata.extra.depth.n}', '1'],
    ['${resources.db.host}', 'db.internal'],
    [
      'postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}:${resources.db.port}/app',
      'postgres://app:s3cret@db.internal:5432/app',
    ],
    // nested output keys
    ['${resources.db.conn.primary.host}', 'p1.internal'],
    // an output key containing a dot, found without escaping (and with it)
    ['${resources.db.tls.crt}', 'CERT'],
    ['${resources.db.tls\\.crt}', 'CERT'],
    // values that are not strings are written as JSON
    ['${resources.db.enabled}', 'true'],
    ['${resources.db.conn}', '{"primary":{"host":"p1.internal"}}'],
    // escapes: $$ is $, so $${x} is ${x}
    ['', ''],
    ['abc', 'abc'],
    ['$abc', '$abc'],
    ['abc $$ abc', 'abc $ abc'],
    ['$${abc}', '${abc}'],
    ['$$$${abc}', '$${abc}'],
    ['$$${metadata.name}', '$web'],
    ['$${abc .4t3298y *(^&(*}', '${abc .4t3298y *(^&(*}'],
    ['echo $${HOME} and ${metadata.name}', 'echo ${HOME} and web'],
    ['100$', '100$'],
    ['${unterminated', '${unterminated'],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(substitute(input, CTX, 'containers.web.variables.X'), expected);
    });
  }

  const where = 'containers.web.variables.X';
  const failures: [string, string, string][] = [
    ['${abc}', '${abc}', "unknown reference 'abc': placeholders start with metadata. or resources. (write $$ for a literal $)"],
    ['x ${} y', '${}', "unknown reference '': placeholders start with metadata. or resources. (write $$ for a literal $)"],
    ['$$${abc}', '${abc}', "unknown reference 'abc': placeholders start with metadata. or resources. (write $$ for a literal $)"],
    ['${metadata}', '${metadata}', 'needs a metadata key, e.g. ${metadata.name}'],
    ['${metadata.missing}', '${metadata.missing}', "metadata has no key 'missing'"],
    ['${metadata.annotations.nope}', '${metadata.annotations.nope}', "metadata has no key 'annotations.nope'"],
    ['${metadata.name.first}', '${metadata.name.first}', "metadata key 'name' is not a map (cannot look up 'first')"],
    ['${resources}', '${resources}', 'needs a resource name, e.g. ${resources.db.host}'],
    ['${resources.cache.host}', '${resources.cache.host}', "no outputs for resource 'cache' (not provisioned)"],
    ['${resources.db}', '${resources.db}', 'needs an output key, e.g. ${resources.db.host}'],
    ['${resources.db.hots}', '${resources.db.hots}', "resource 'db' has no output 'hots'"],
    ['${resources.db.conn.replica.host}', '${resources.db.conn.replica.host}', "resource 'db' has no output 'conn.replica'"],
    ['${resources.db.host.name}', '${resources.db.host.name}', "resource 'db' output 'host' is not a map (cannot look up 'name')"],
  ];
  for (const [input, placeholder, reason] of failures) {
    test(`${JSON.stringify(input)} is an error naming the placeholder and where it is`, () => {
      throwsPlaceholder(() => substitute(input, CTX, where), { placeholder, path: where, reason });
    });
  }

  test('without a place, the message has none', () => {
    throwsPlaceholder(() => substitute('${resources.db.hots}', CTX), { placeholder: '${resources.db.hots}', path: '', reason: "resource 'db' has no output 'hots'" });
  });
});

// ---- resolveWorkload --------------------------------------------------------------------------------

const APP = `apiVersion: score.dev/v1b1
metadata:
  name: shop
  annotations:
    team: payments
containers:
  web:
    image: shop:1
    command: ["/bin/sh", "-c"]
    args: ["exec shop --db $\${DB_URL} --name \${metadata.name}"]
    variables:
      DB_HOST: \${resources.db.host}
      DB_PORT: \${resources.db.port}
      DB_PASSWORD: \${resources.db.password}
      DATABASE_URL: postgres://\${resources.db.username}:\${resources.db.password}@\${resources.db.host}:\${resources.db.port}/shop
      PUBLIC_URL: https://\${resources.route.host}/
      TEAM: \${metadata.annotations.team}
      PRICE: $$5
    files:
      /etc/shop/app.conf:
        content: |
          db=\${resources.db.host}
          password=\${resources.db.password}
      /etc/shop/raw.tmpl:
        noExpand: true
        content: host=\${resources.db.host} unknown=\${whatever}
      /etc/shop/logo.png:
        binaryContent: JHtyZXNvdXJjZXMuZGIuaG9zdH0=
      /etc/shop/from-file.conf:
        source: ./app.conf
    volumes:
      /data:
        source: \${resources.data}
resources:
  db:
    type: postgres
  data:
    type: volume
  dns:
    type: dns
  route:
    type: route
    params:
      host: \${resources.dns.host}
      path: /
      port: 8080
      labels: ["\${metadata.name}", "\${resources.dns.host}:8080"]
      nested:
        upstream: http://\${resources.db.host}:\${resources.db.port}
`;

const OUTPUTS = {
  db: { host: 'db.internal', port: 5432, username: 'shop', password: 's3cret' },
  data: { type: 'volume', source: 'shop-data' },
  dns: { host: 'shop.example.test' },
  route: { host: 'shop.example.test' },
};

describe('resolveWorkload', () => {
  const workload = workloadOf(APP);

  test('substitutes in variables, command, args, file contents and resource params', () => {
    const before = structuredClone(workload);
    const { workload: resolved } = resolveWorkload(workload, { resources: OUTPUTS });
    assert.deepEqual(workload, before, 'the input is not changed');

    const web = resolved.containers.web;
    assert.ok(web);
    assert.deepEqual(web.command, ['/bin/sh', '-c']);
    assert.deepEqual(web.args, ['exec shop --db ${DB_URL} --name shop']);
    assert.deepEqual(web.variables, {
      DB_HOST: 'db.internal',
      DB_PORT: '5432',
      DB_PASSWORD: 's3cret',
      DATABASE_URL: 'postgres://shop:s3cret@db.internal:5432/shop',
      PUBLIC_URL: 'https://shop.example.test/',
      TEAM: 'payments',
      PRICE: '$5',
    });
    assert.deepEqual(web.files, {
      '/etc/shop/app.conf': { content: 'db=db.internal\npassword=s3cret\n' },
      // noExpand: left exactly as written, even an invalid placeholder
      '/etc/shop/raw.tmpl': { noExpand: true, content: 'host=${resources.db.host} unknown=${whatever}' },
      // binary content and source files are not expanded here
      '/etc/shop/logo.png': { binaryContent: 'JHtyZXNvdXJjZXMuZGIuaG9zdH0=' },
      '/etc/shop/from-file.conf': { source: './app.conf' },
    });
    // a volume source is a resource reference for the runtime
    assert.deepEqual(web.volumes, { '/data': { source: '${resources.data}' } });
    // resource params may use other resources' outputs
    assert.deepEqual(resolved.resources?.route?.params, {
      host: 'shop.example.test',
      path: '/',
      port: 8080,
      labels: ['shop', 'shop.example.test:8080'],
      nested: { upstream: 'http://db.internal:5432' },
    });
  });

  test('metadata from the context overrides the workload', () => {
    const { workload: resolved } = resolveWorkload(workload, { metadata: { name: 'shop-preview', annotations: { team: 'x' } }, resources: OUTPUTS });
    assert.equal(resolved.containers.web?.variables?.TEAM, 'x');
    assert.deepEqual(resolved.containers.web?.args, ['exec shop --db ${DB_URL} --name shop-preview']);
  });

  test('reports the variables and files that contain a secret output', () => {
    const result = resolveWorkload(workload, { resources: OUTPUTS }, { db: ['password'] });
    assert.deepEqual(result.secretVariables, [
      { container: 'web', name: 'DB_PASSWORD' },
      { container: 'web', name: 'DATABASE_URL' },
    ]);
    assert.deepEqual(result.secretFiles, [{ container: 'web', target: '/etc/shop/app.conf' }]);
    assert.deepEqual(resolveWorkload(workload, { resources: OUTPUTS }).secretVariables, []);
  });

  test('a secret output key covers its nested outputs', () => {
    const w = workloadOf(`apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: app
    variables:
      A: \${resources.vault.creds.password}
      B: \${resources.vault.creds.user}
      C: \${resources.vault.url}
resources:
  vault: {type: vault}
`);
    const outputs = { vault: { creds: { user: 'u', password: 'p' }, url: 'https://vault' } };
    assert.deepEqual(resolveWorkload(w, { resources: outputs }, { vault: ['creds'] }).secretVariables, [
      { container: 'main', name: 'A' },
      { container: 'main', name: 'B' },
    ]);
    assert.deepEqual(resolveWorkload(w, { resources: outputs }, { vault: new Set(['creds.password']) }).secretVariables, [{ container: 'main', name: 'A' }]);
  });

  test('every unresolvable placeholder is reported with the field it is in', () => {
    const broken = workloadOf(`apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: app
    args: ["ok", "\${resources.db.hots}"]
    variables:
      GOOD: \${resources.db.host}
      BAD: \${resources.cache.host}
      ROOT: \${env.HOME}
    files:
      /etc/app.conf:
        content: "user=\${metadata.owner}"
resources:
  db: {type: postgres}
  route:
    type: route
    params:
      host: \${resources.dns.host}
`);
    assert.throws(
      () => resolveWorkload(broken, { resources: { db: { host: 'h' }, cache: { host: 'c' }, dns: { host: 'd' } } }),
      (err: unknown) => {
        assert.ok(err instanceof WorkloadResolveError);
        assert.deepEqual(
          err.errors.map((e) => [e.path, e.placeholder, e.reason]),
          [
            ['containers.main.args[1]', '${resources.db.hots}', "resource 'db' has no output 'hots'"],
            ['containers.main.variables.BAD', '${resources.cache.host}', "resource 'cache' is not declared in the workload's resources"],
            ['containers.main.variables.ROOT', '${env.HOME}', "unknown reference 'env.HOME': placeholders start with metadata. or resources. (write $$ for a literal $)"],
            ['containers.main.files["/etc/app.conf"].content', '${metadata.owner}', "metadata has no key 'owner'"],
            ['resources.route.params.host', '${resources.dns.host}', "resource 'dns' is not declared in the workload's resources"],
          ],
        );
        assert.match(err.message, /^5 placeholders cannot be resolved:\n {2}invalid placeholder \$\{resources\.db\.hots\} in containers\.main\.args\[1\]: /);
        return true;
      },
    );
  });

  test('a declared resource without outputs yet', () => {
    const { dns: _dns, ...withoutDns } = OUTPUTS;
    assert.throws(
      () => resolveWorkload(workload, { resources: withoutDns }),
      (err: unknown) => {
        assert.ok(err instanceof WorkloadResolveError);
        assert.deepEqual(
          err.errors.map((e) => [e.path, e.reason]),
          [['resources.route.params.host', "no outputs for resource 'dns' (not provisioned)"], ['resources.route.params.labels[1]', "no outputs for resource 'dns' (not provisioned)"]],
        );
        return true;
      },
    );
  });
});

describe('resolveParams', () => {
  const workload = workloadOf(APP);

  test('resolves one resource once its dependencies have outputs', () => {
    assert.deepEqual(resolveParams(workload, 'route', { resources: { dns: OUTPUTS.dns, db: OUTPUTS.db } }), {
      host: 'shop.example.test',
      path: '/',
      port: 8080,
      labels: ['shop', 'shop.example.test:8080'],
      nested: { upstream: 'http://db.internal:5432' },
    });
    assert.deepEqual(resolveParams(workload, 'db', { resources: {} }), {});
  });

  test('fails while a dependency has no outputs, or for an unknown resource', () => {
    assert.throws(
      () => resolveParams(workload, 'route', { resources: { db: OUTPUTS.db } }),
      (err: unknown) => err instanceof WorkloadResolveError && err.errors.every((e) => e.reason === "no outputs for resource 'dns' (not provisioned)"),
    );
    assert.throws(() => resolveParams(workload, 'nope', { resources: {} }), /workload 'shop' has no resource 'nope'/);
  });
});

// ---- dependency edges and static checks -------------------------------------------------------------

describe('referencedResources', () => {
  test('edges from resource params to the resources they reference', () => {
    const edges = referencedResources(workloadOf(APP));
    assert.deepEqual(
      [...edges].map(([k, v]) => [k, [...v].sort()]),
      [
        ['db', []],
        ['data', []],
        ['dns', []],
        ['route', ['db', 'dns']],
      ],
    );
  });

  test('cycles and self references are edges like any other; escapes and metadata are not', () => {
    const w = workloadOf(`apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main: {image: app}
resources:
  aa:
    type: xx
    params: {peer: "\${resources.bb.host}"}
  bb:
    type: xx
    params: {peer: "\${resources.aa.host}", list: [{deep: "\${resources.cc.url}"}]}
  cc:
    type: xx
    params: {self: "\${resources.cc.host}", escaped: "$\${resources.aa.host}", name: "\${metadata.name}"}
  dd:
    type: xx
    params: {undeclared: "\${resources.zz.host}"}
`);
    assert.deepEqual(
      [...referencedResources(w)].map(([k, v]) => [k, [...v].sort()]),
      [
        ['aa', ['bb']],
        ['bb', ['aa', 'cc']],
        ['cc', ['cc']],
        ['dd', ['zz']],
      ],
    );
  });

  test('the dns example: the route depends on the dns resource', () => {
    const w = workloadOf(readFileSync(join(SCORE_FIXTURES, 'examples/resources/dns/score.yaml'), 'utf8'));
    assert.deepEqual(
      [...referencedResources(w)].map(([k, v]) => [k, [...v]]),
      [
        ['dns', []],
        ['route', ['dns']],
      ],
    );
  });
});

describe('checkPlaceholders', () => {
  test('every placeholder of every conformance file is valid', () => {
    const files = readdirSync(SCORE_FIXTURES, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && /\.ya?ml$/.test(d.name))
      .map((d) => join(d.parentPath, d.name));
    assert.ok(files.length > 0);
    for (const file of files) {
      assert.deepEqual(checkPlaceholders(workloadOf(readFileSync(file, 'utf8'))), [], file);
    }
  });

  test('reports undeclared resources, unknown roots, missing metadata and missing output keys', () => {
    const w = workloadOf(`apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: app
    command: ["\${resources.db}"]
    variables:
      A: \${resources.db.host}
      B: \${resources.cache.host}
      C: \${HOME}
      D: \${metadata.nope}
      E: $\${HOME}
    files:
      /raw:
        noExpand: true
        content: \${anything}
    volumes:
      /data: {source: "\${resources.data}"}
      /other: {source: "\${resources.missing}"}
resources:
  db: {type: postgres}
  data: {type: volume}
  route:
    type: route
    params: {host: "\${resources.dns.host}"}
`);
    assert.deepEqual(
      checkPlaceholders(w).map((e) => [e.path, e.placeholder, e.reason]),
      [
        ['containers.main.command[0]', '${resources.db}', 'needs an output key, e.g. ${resources.db.host}'],
        ['containers.main.variables.B', '${resources.cache.host}', "resource 'cache' is not declared in the workload's resources"],
        ['containers.main.variables.C', '${HOME}', "unknown reference 'HOME': placeholders start with metadata. or resources. (write $$ for a literal $)"],
        ['containers.main.variables.D', '${metadata.nope}', "metadata has no key 'nope'"],
        ['containers.main.volumes["/other"].source', '${resources.missing}', "resource 'missing' is not declared in the workload's resources"],
        ['resources.route.params.host', '${resources.dns.host}', "resource 'dns' is not declared in the workload's resources"],
      ],
    );
  });
});
