import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FleetApp } from './inventory.ts';
import { matchesSelector, parseLabels, versionMatches } from './selector.ts';

const app: FleetApp = {
  entityId: 'e', ref: 'application:default/shop', namespace: 'default', name: 'shop', owner: 'team:default/payments', team: 'team:default/payments', labels: { tier: 'gold' }, annotations: {},
  template: 'node-service', templateVersion: '1.2.0', inputs: {}, workload: null, addons: [{ name: 'db', addon: 'postgres', version: '1.0.0', inputs: {} }],
  environments: [{ id: '1', name: 'development', type: 'development', released: null }, { id: '2', name: 'prod', type: 'production', released: null }],
};

test('versions: exact or semver range', () => {
  assert.equal(versionMatches('1.2.0', ['1.x']), true);
  assert.equal(versionMatches('1.2.0', ['^2', '1.2.0']), true);
  assert.equal(versionMatches('1.2.0', ['<1.2.0']), false);
});

test('every field narrows, values of a list are alternatives; names short or as refs', () => {
  assert.equal(matchesSelector(app, {}, 'template', 'node-service'), true);
  assert.equal(matchesSelector(app, { applications: ['other', 'shop'] }, 'template', 'node-service'), true);
  assert.equal(matchesSelector(app, { applications: ['application:default/shop'], teams: ['payments'] }, 'template', 'node-service'), true);
  assert.equal(matchesSelector(app, { teams: ['team:default/search'] }, 'template', 'node-service'), false);
  assert.equal(matchesSelector(app, { environmentTypes: ['staging', 'production'] }, 'template', 'node-service'), true);
  assert.equal(matchesSelector(app, { environmentTypes: ['staging'] }, 'template', 'node-service'), false);
  assert.equal(matchesSelector(app, { labels: { tier: 'gold' }, versions: ['1.x'] }, 'template', 'node-service'), true);
  assert.equal(matchesSelector(app, { labels: { tier: 'silver' } }, 'template', 'node-service'), false);
  assert.equal(matchesSelector(app, { versions: ['1.0.0'] }, 'addon', 'postgres'), true);
  assert.equal(matchesSelector(app, { versions: ['2.x'] }, 'addon', 'postgres'), false);
  assert.deepEqual(parseLabels(['a=b', 'c=d=e']), { labels: { a: 'b', c: 'd=e' } });
  assert.deepEqual(parseLabels(['nope']), { bad: 'nope' });
});
