import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadPlatformFolder } from './loader.ts';
import { validateInputs } from './inputs.ts';
import { expandContext, expandInputs, findPlaceholders, isScoreStringField, PlaceholderError, tokenize, unescapePlaceholders, type PlaceholderContext } from './placeholders.ts';

const inputs = { port: 8080, size: 'small', path: '/healthz', flag: true, db: { name: 'shop', tags: ['a', 'b'] }, price: 'costs $5' };

describe('expandInputs', () => {
  test('substitutes inside strings, deep in objects and arrays', () => {
    assert.deepEqual(expandInputs({ a: ['class-${inputs.size}', { b: 'http://x:${inputs.port}${inputs.path}' }], n: 3, z: null }, inputs), {
      a: ['class-small', { b: 'http://x:8080/healthz' }],
      n: 3,
      z: null,
    });
  });

  test('a string that is exactly one placeholder takes the input\'s type', () => {
    assert.deepEqual(expandInputs({ port: '${inputs.port}', flag: '${inputs.flag}', db: '${inputs.db}', tag: '${inputs.db.tags.1}' }, inputs), {
      port: 8080,
      flag: true,
      db: { name: 'shop', tags: ['a', 'b'] },
      tag: 'b',
    });
  });

  test('stringAt keeps chosen fields strings', () => {
    const workload = { containers: { web: { variables: { PORT: '${inputs.port}' }, readinessProbe: { httpGet: { port: '${inputs.port}', path: '${inputs.path}' } } } }, service: { ports: { web: { port: '${inputs.port}' } } } };
    assert.deepEqual(expandInputs(workload, inputs, { stringAt: isScoreStringField }), {
      containers: { web: { variables: { PORT: '8080' }, readinessProbe: { httpGet: { port: 8080, path: '/healthz' } } } },
      service: { ports: { web: { port: 8080 } } },
    });
  });

  test('leaves other namespaces and escapes for later stages', () => {
    assert.deepEqual(expandInputs(['${resources.db.host}:${inputs.port}', '${metadata.name}', '$${inputs.port}', 'a $$ b', '${HOME}'], inputs), [
      '${resources.db.host}:8080',
      '${metadata.name}',
      '$${inputs.port}',
      'a $$ b',
      '${HOME}',
    ]);
  });

  test('an inserted value is escaped so that later stages read it literally', () => {
    const out = expandInputs({ a: 'x ${inputs.price}', b: '${inputs.price}' }, inputs);
    assert.deepEqual(out, { a: 'x costs $$5', b: 'costs $$5' });
    assert.deepEqual(unescapePlaceholders(out), { a: 'x costs $5', b: 'costs $5' });
    const evil = expandInputs('${inputs.x}', { x: '${resources.db.password}' });
    assert.equal(evil, '$${resources.db.password}');
    assert.deepEqual(expandInputs({ a: 'x ${inputs.price} $$' }, inputs, { final: true }), { a: 'x costs $5 $' });
  });

  test('an unknown input is an error naming the field', () => {
    assert.throws(
      () => expandInputs({ containers: { web: { variables: { A: 'x${inputs.nope}' } } } }, inputs, { path: 'workload' }),
      (e: unknown) => {
        assert.ok(e instanceof PlaceholderError);
        assert.equal(e.path, 'workload.containers.web.variables.A');
        assert.match(e.message, /unknown input "nope" in \$\{inputs\.nope\} \(known inputs: db, flag, path, port, price, size\)/);
        return true;
      },
    );
    assert.throws(() => expandInputs({ list: ['${inputs}'] }, inputs), /list\[0\]: \$\{inputs\} must name an input/);
    assert.throws(() => expandInputs('${inputs.db.missing}', inputs), /input "db" has no field "missing"/);
    assert.throws(() => expandInputs('${inputs.port', inputs), /unterminated placeholder/);
  });

  test('keys are not expanded, values are copied', () => {
    const value = { '${inputs.size}': ['${inputs.size}'] };
    const out = expandInputs(value, inputs);
    assert.deepEqual(out, { '${inputs.size}': ['small'] });
    assert.deepEqual(value, { '${inputs.size}': ['${inputs.size}'] });
  });

  test('the sample template\'s workload with default inputs', async () => {
    const { objects } = await loadPlatformFolder(new URL('../../platform', import.meta.url).pathname);
    const t = objects.find((o) => o.object.kind === 'Template')?.object;
    assert.ok(t?.kind === 'Template');
    const r = validateInputs(t.spec.inputs, {}, { caller: 'developer' });
    assert.ok(r.ok);
    const w = expandInputs(t.spec.workload, r.value, { path: 'workload', stringAt: isScoreStringField });
    assert.deepEqual(w, {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'node-service', annotations: { 'pave.dev/size': 'small', 'pave.dev/node-version': '24', 'pave.dev/runtime': 'local' } },
      containers: {
        web: {
          image: '.',
          variables: { PORT: '8080', NODE_ENV: 'production' },
          resources: { limits: { memory: '256Mi' } },
          livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        },
      },
      service: { ports: { web: { port: 8080, targetPort: 8080 } } },
    });
  });
});

describe('expandContext', () => {
  const ctx: PlaceholderContext = { application: 'shop', environment: 'dev', environmentType: 'development', team: 'payments', id: 'db', class: 'default', resource: 'db' };

  test('substitutes context fields and unescapes', () => {
    assert.deepEqual(expandContext({ outputs: { host: '${context.application}-${context.environment}.localhost' }, s: 'echo $$HOME ${HOME}', t: '${context.team}' }, ctx), {
      outputs: { host: 'shop-dev.localhost' },
      s: 'echo $HOME ${HOME}',
      t: 'payments',
    });
  });

  test('unknown fields and unset values are errors', () => {
    assert.throws(() => expandContext({ a: '${context.app}' }, ctx), /a: unknown context field in \$\{context\.app\}/);
    assert.throws(() => expandContext({ a: '${context.application}' }, { ...ctx, application: null }), /a: \$\{context\.application\} is not set for this resource \(a shared resource has no application\)/);
  });
});

describe('tokenize and findPlaceholders', () => {
  test('Score syntax', () => {
    assert.deepEqual(tokenize('a${metadata.annotations.my\\.key}$$b'), [
      { kind: 'text', text: 'a' },
      { kind: 'ref', ref: ['metadata', 'annotations', 'my.key'], raw: '${metadata.annotations.my\\.key}' },
      { kind: 'escape' },
      { kind: 'text', text: 'b' },
    ]);
  });

  test('finds references with their paths', () => {
    assert.deepEqual(findPlaceholders({ a: ['x', '${inputs.a} ${resources.db.host}'], b: 1 }), [
      { path: ['a', 1], ref: ['inputs', 'a'], raw: '${inputs.a}' },
      { path: ['a', 1], ref: ['resources', 'db', 'host'], raw: '${resources.db.host}' },
    ]);
    assert.deepEqual(findPlaceholders({ a: '${x' }), { path: ['a'], error: 'unterminated placeholder "${x": a "${" needs a closing "}" (write "$$" for a literal "$")' });
  });

  test('isScoreStringField', () => {
    assert.equal(isScoreStringField(['containers', 'web', 'variables', 'PORT']), true);
    assert.equal(isScoreStringField(['containers', 'web', 'readinessProbe', 'httpGet', 'port']), false);
    assert.equal(isScoreStringField(['containers', 'web', 'files', 0, 'noExpand']), false);
    assert.equal(isScoreStringField(['service', 'ports', 'web', 'port']), false);
    assert.equal(isScoreStringField(['resources', 'db', 'params', 'x']), false);
    assert.equal(isScoreStringField(['metadata', 'name']), true);
  });
});
