import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appRank, envRank, orderApplications, orderEnvironments, splitWaves } from './waves.ts';

const ORDER = ['development', 'preview', 'staging', 'production'];
const app = (name: string, ...types: string[]) => ({ name, environments: types.map((t) => ({ name: t, type: t })) });

test('an application ranks by its most critical environment; unlisted types come last', () => {
  assert.equal(envRank('staging', ORDER), 2);
  assert.equal(envRank('edge', ORDER), 4);
  assert.equal(appRank(['development', 'production'], ORDER), 3);
  assert.equal(appRank([], ORDER), 0);
});

test('development-only applications first, then staging, then production; the plan order among equals', () => {
  const ordered = orderApplications([app('p', 'development', 'production'), app('s', 'staging'), app('d1', 'development'), app('x', 'edge'), app('d2', 'preview', 'development')], ORDER);
  assert.deepEqual(ordered.map((a) => a.name), ['d1', 'd2', 's', 'p', 'x']);
  const told = orderApplications([app('p', 'production'), app('d', 'development')], ['production', 'development']);
  assert.deepEqual(told.map((a) => a.name), ['p', 'd'], 'another order when told');
});

test('environments of an application in the order', () => {
  assert.deepEqual(orderEnvironments([{ name: 'prod', type: 'production' }, { name: 'qa', type: 'staging' }, { name: 'dev', type: 'development' }], ORDER).map((e) => e.name), ['dev', 'qa', 'prod']);
});

test('a canary wave, then waves of the given size; no canary when its size is 0', () => {
  assert.deepEqual(splitWaves([1, 2, 3, 4, 5, 6], 1, 2).map((w) => [w.index, w.canary, w.items]), [[0, true, [1]], [1, false, [2, 3]], [2, false, [4, 5]], [3, false, [6]]]);
  assert.deepEqual(splitWaves([1, 2, 3], 0, 5).map((w) => [w.index, w.canary, w.items]), [[0, false, [1, 2, 3]]]);
  assert.deepEqual(splitWaves([1, 2], 5, 1).map((w) => w.items), [[1, 2]]);
  assert.deepEqual(splitWaves([], 1, 1), []);
});
