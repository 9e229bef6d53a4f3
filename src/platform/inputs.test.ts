import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { humanize, inputsFormFields, validateInputs, type InputsResult } from './inputs.ts';
import type { InputsSchema } from './schema.ts';

const schema: InputsSchema = {
  type: 'object',
  properties: {
    port: { type: 'integer', default: 8080, minimum: 1024, maximum: 65535, description: 'listen port' },
    size: { type: 'string', enum: ['small', 'medium', 'large'], default: 'small' },
    healthPath: { type: 'string', default: '/healthz', pattern: '^/' },
    nodeVersion: { type: 'string', default: '24', user_editable: false, title: 'Node.js version' },
    replicas: { type: 'integer' },
  },
  required: ['replicas'],
};

function errors(r: InputsResult) {
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

describe('validateInputs', () => {
  test('applies defaults', () => {
    const r = validateInputs(schema, { replicas: 2 }, { caller: 'developer' });
    assert.deepEqual(r, { ok: true, value: { replicas: 2, port: 8080, size: 'small', healthPath: '/healthz', nodeVersion: '24' } });
  });

  test('does not change what it is given', () => {
    const given = { replicas: 1 };
    validateInputs(schema, given, { caller: 'developer' });
    assert.deepEqual(given, { replicas: 1 });
  });

  test('an enum error lists the allowed values', () => {
    assert.deepEqual(errors(validateInputs(schema, { replicas: 1, size: 'huge' }, { caller: 'developer' })), [
      { path: 'inputs.size', message: 'must be one of small, medium, large', allowed: ['small', 'medium', 'large'] },
    ]);
  });

  test('minimum, maximum, type, pattern and required, all at once', () => {
    assert.deepEqual(
      errors(validateInputs(schema, { port: 80, healthPath: 'healthz' }, { caller: 'developer' })).map((e) => [e.path, e.message]),
      [
        ['inputs.healthPath', 'must match pattern "^/"'],
        ['inputs.port', 'must be >= 1024'],
        ['inputs.replicas', 'is required'],
      ],
    );
    assert.deepEqual(
      errors(validateInputs(schema, { port: 70000, replicas: '2' }, { caller: 'developer' })).map((e) => [e.path, e.message]),
      [
        ['inputs.port', 'must be <= 65535'],
        ['inputs.replicas', 'must be integer'],
      ],
    );
  });

  test('unknown inputs are rejected unless the schema allows them', () => {
    assert.deepEqual(errors(validateInputs(schema, { replicas: 1, colour: 'red' }, { caller: 'platform' })), [
      { path: 'inputs.colour', message: 'is not an input; the inputs are port, size, healthPath, nodeVersion, replicas' },
    ]);
    const open = { ...schema, additionalProperties: true };
    assert.equal(validateInputs(open, { replicas: 1, colour: 'red' }, { caller: 'platform' }).ok, true);
    const nested: InputsSchema = { type: 'object', properties: { db: { type: 'object', properties: { name: { type: 'string' } } } } };
    assert.deepEqual(errors(validateInputs(nested, { db: { name: 'a', extra: 1 } }, { caller: 'developer' })), [{ path: 'inputs.db.extra', message: 'is not a known field' }]);
  });

  test('user_editable: false inputs are for the platform team only', () => {
    assert.deepEqual(errors(validateInputs(schema, { replicas: 1, nodeVersion: '22' }, { caller: 'developer' })), [
      { path: 'inputs.nodeVersion', message: 'is set by the platform team and cannot be changed by developers (user_editable: false)' },
    ]);
    const r = validateInputs(schema, { replicas: 1, nodeVersion: '22' }, { caller: 'platform' });
    assert.ok(r.ok);
    assert.equal(r.value.nodeVersion, '22');
  });

  test('a developer may resend a platform-only input unchanged', () => {
    const previous = { replicas: 1, nodeVersion: '22' };
    assert.equal(validateInputs(schema, { replicas: 3, nodeVersion: '22' }, { caller: 'developer', previous }).ok, true);
    assert.equal(validateInputs(schema, { replicas: 3, nodeVersion: '24' }, { caller: 'developer', previous }).ok, false);
  });

  test('no inputs, null, or not an object', () => {
    const empty: InputsSchema = { type: 'object', properties: {} };
    assert.deepEqual(validateInputs(empty, undefined, { caller: 'developer' }), { ok: true, value: {} });
    assert.deepEqual(validateInputs(empty, null, { caller: 'developer' }), { ok: true, value: {} });
    assert.deepEqual(errors(validateInputs(empty, [1], { caller: 'developer' })), [{ path: 'inputs', message: 'must be an object of input names and values' }]);
    assert.deepEqual(errors(validateInputs(empty, { a: 1 }, { caller: 'developer', prefix: 'addons.db.inputs' })), [
      { path: 'addons.db.inputs.a', message: 'is not an input; there are no inputs' },
    ]);
  });

  test('array items and formats', () => {
    const s: InputsSchema = {
      type: 'object',
      properties: { subjects: { type: 'array', items: { type: 'string', minLength: 1 } }, email: { type: 'string', format: 'email' } },
    };
    assert.deepEqual(
      errors(validateInputs(s, { subjects: ['a', ''], email: 'nope' }, { caller: 'developer' })).map((e) => e.path),
      ['inputs.email', 'inputs.subjects[1]'],
    );
  });

  test('schemas with the same $id can be used one after the other', () => {
    const a = { type: 'object' as const, $id: 'x', properties: { a: { type: 'string' } } };
    const b = { type: 'object' as const, $id: 'x', properties: { b: { type: 'string' } } };
    assert.equal(validateInputs(a, { a: 'x' }, { caller: 'developer' }).ok, true);
    assert.equal(validateInputs(b, { b: 'x' }, { caller: 'developer' }).ok, true);
  });
});

describe('inputsFormFields', () => {
  test('one field per input, in order', () => {
    assert.deepEqual(inputsFormFields(schema), [
      { name: 'port', type: 'integer', title: 'Port', description: 'listen port', default: 8080, minimum: 1024, maximum: 65535, required: false, editable: true },
      { name: 'size', type: 'string', title: 'Size', enum: ['small', 'medium', 'large'], default: 'small', required: false, editable: true },
      { name: 'healthPath', type: 'string', title: 'Health path', default: '/healthz', pattern: '^/', required: false, editable: true },
      { name: 'nodeVersion', type: 'string', title: 'Node.js version', default: '24', required: false, editable: false },
      { name: 'replicas', type: 'integer', title: 'Replicas', required: true, editable: true },
    ]);
  });

  test('types from unions and enums', () => {
    const fields = inputsFormFields({ type: 'object', properties: { a: { type: ['null', 'number'] }, b: { enum: [1, 2] }, c: {} } });
    assert.deepEqual(
      fields.map((f) => f.type),
      ['number', 'integer', 'string'],
    );
  });

  test('humanize', () => {
    assert.equal(humanize('nodeVersion'), 'Node version');
    assert.equal(humanize('health_path'), 'Health path');
    assert.equal(humanize('DB-size'), 'Db size');
  });
});
