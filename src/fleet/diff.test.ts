import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AvailableAction } from '../actions/catalog.ts';
import { actionsDiff, diffValues, workloadDiff } from './diff.ts';

test('values: leaves that differ, by path; a new object shown by its members; arrays whole', () => {
  assert.deepEqual(diffValues({ a: 1, b: { c: 2, d: [1] } }, { a: 1, b: { c: 3, d: [1, 2] }, e: { f: { g: 1 } } }), [
    { path: 'b.c', change: 'changed', from: 2, to: 3 },
    { path: 'b.d', change: 'changed', from: [1], to: [1, 2] },
    { path: 'e.f', change: 'added', to: { g: 1 } },
  ]);
  assert.deepEqual(diffValues({ x: { y: 1 } }, {}), [{ path: 'x.y', change: 'removed', from: 1 }]);
  assert.deepEqual(diffValues({ k: { b: 1, a: 2 } }, { k: { a: 2, b: 1 } }), [], 'key order does not matter');
});

test('workload: the name is left out, the variables add-ons inject are under variables.', () => {
  const before = { workload: { metadata: { name: 'a' }, containers: { web: { variables: { X: '1' } } } }, variables: { DB: 'x' } };
  const after = { workload: { metadata: { name: 'a', annotations: { s: 'l' } }, containers: { web: { variables: { X: '2' } } } }, variables: { DB: 'x', CACHE: 'y' } };
  assert.deepEqual(workloadDiff(before, after), [
    { path: 'containers.web.variables.X', change: 'changed', from: '1', to: '2' },
    { path: 'metadata.annotations', change: 'added', to: { s: 'l' } },
    { path: 'variables.CACHE', change: 'added', to: 'y' },
  ]);
});

test('actions: added, removed and changed by key', () => {
  const a = (key: string, timeoutMs = 1000) => ({ key, id: key, title: key, description: null, parameters: { type: 'object', properties: {} }, environments: ['development'], role: 'developer', confirm: 'never', timeoutMs, kind: 'command', source: 's', addon: null, run: { command: 'x' }, resourceNames: {} }) as unknown as AvailableAction;
  assert.deepEqual(actionsDiff([a('migrate'), a('smoke')], [a('migrate', 2000), a('warmup')]), { added: ['warmup'], removed: ['smoke'], changed: ['migrate'] });
  assert.deepEqual(actionsDiff([a('x')], [a('x')]), { added: [], removed: [], changed: [] });
});
