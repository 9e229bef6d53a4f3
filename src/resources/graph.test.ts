import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCycle, GraphError, layers, topologicalOrder } from './graph.ts';

const n = (name: string, ...dependsOn: string[]) => ({ name, dependsOn });

test('dependencies come first; ties are ordered by name', () => {
  const order = topologicalOrder([n('app-route', 'dns'), n('dns'), n('cache'), n('db'), n('queue', 'db', 'cache')]);
  assert.deepEqual(order.map((x) => x.name), ['cache', 'db', 'dns', 'app-route', 'queue']);
});

test('layers group what can be provisioned together', () => {
  assert.deepEqual(layers([n('c', 'b'), n('b', 'a'), n('a'), n('x')]).map((l) => l.map((x) => x.name)), [['a', 'x'], ['b'], ['c']]);
});

test('a cycle is an error that names the cycle', () => {
  assert.deepEqual(findCycle([n('a', 'b'), n('b', 'c'), n('c', 'a'), n('d')]), ['a', 'b', 'c', 'a']);
  assert.throws(
    () => topologicalOrder([n('db', 'secret'), n('secret', 'db')]),
    (e: unknown) => e instanceof GraphError && e.message === 'the resources form a cycle: db → secret → db' && e.cycle?.length === 3,
  );
  assert.throws(() => topologicalOrder([n('self', 'self')]), /self → self/);
});

test('a dependency on an undeclared resource is an error naming both', () => {
  assert.throws(() => topologicalOrder([n('api', 'ghost')]), /resource api depends on ghost, which the application does not declare/);
});
