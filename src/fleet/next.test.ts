import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddOn, InputsSchema, Template } from '../platform/schema.ts';
import type { FleetApp } from './inventory.ts';
import { carryInputs, nextForAddon, nextForTemplate, upToDate, type Published } from './next.ts';

const schema = (properties: Record<string, Record<string, unknown>>, required: string[] = []): InputsSchema => ({ type: 'object', properties, ...(required.length ? { required } : {}) });

test('inputs carried over: kept, dropped, new ones with their defaults, the platform team\'s new values', () => {
  const res = carryInputs(schema({ size: { type: 'string' }, tier: { type: 'string', default: 'std' }, node: { type: 'string', default: '26', user_editable: false } }), { size: 'm', legacy: 1, node: '24' }, {});
  assert.ok(res.ok);
  assert.deepEqual(res.value, { size: 'm', tier: 'std', node: '26' });
  assert.deepEqual(res.changes.map((c) => [c.name, c.change, c.why]), [
    ['legacy', 'removed', 'no longer an input of the new version'],
    ['node', 'changed', 'set by the platform team (user_editable: false): the new version\'s value'],
    ['tier', 'added', 'new input, its default'],
  ]);
});

test('a new required input without default refuses; the plan may give it; an invalid value refuses', () => {
  const s = schema({ region: { type: 'string' } }, ['region']);
  const refused = carryInputs(s, {}, {});
  assert.deepEqual(refused, { ok: false, code: 'required-input', reason: 'new required input region has no default; give it in the plan\'s inputs' });
  const given = carryInputs(s, {}, { region: 'eu' });
  assert.ok(given.ok && given.value.region === 'eu');
  const invalid = carryInputs(schema({ size: { type: 'string', enum: ['s', 'm'] } }), { size: 'xl' }, {});
  assert.equal(invalid.ok, false);
  assert.ok(!invalid.ok && invalid.code === 'invalid-input' && /size: must be one of s, m/.test(invalid.reason));
});

const app = (extra: Partial<FleetApp> = {}): FleetApp => ({
  entityId: 'e', ref: 'application:default/a', namespace: 'default', name: 'a', owner: null, team: null, labels: {}, annotations: {},
  template: 't', templateVersion: '1.0.0', inputs: {}, workload: null, addons: [], environments: [], ...extra,
});
const tpl = (version: string, addons: { addon: string; version: string; name: string }[] = []) =>
  ({ apiVersion: 'pave.dev/v1', kind: 'Template', metadata: { name: 't', version }, spec: { inputs: schema({}), workload: { apiVersion: 'score.dev/v1b1', containers: {} }, addons } }) as unknown as Template;
const addon = (name: string, version: string, inputs = schema({})) => ({ apiVersion: 'pave.dev/v1', kind: 'AddOn', metadata: { name, version }, spec: { inputs, resources: {}, outputs: {} } }) as unknown as AddOn;
const pub = (addons: AddOn[], templates: Template[] = []): Published => ({
  template: (n, v) => templates.find((t) => t.metadata.name === n && t.metadata.version === v),
  addon: (n, v) => addons.find((a) => a.metadata.name === n && a.metadata.version === v),
  addonVersions: (n) => addons.filter((a) => a.metadata.name === n).map((a) => a.metadata.version!),
});

test('template add-ons: a new one is attached, one out of range moves to the newest match, one no longer declared stays', () => {
  const p = pub([addon('pg', '1.0.0'), addon('pg', '1.4.0'), addon('pg', '2.1.0'), addon('redis', '1.0.0')], [tpl('1.0.0', [{ addon: 'redis', version: '^1', name: 'cache' }])]);
  const a = app({ addons: [{ name: 'db', addon: 'pg', version: '1.0.0', inputs: {} }, { name: 'cache', addon: 'redis', version: '1.0.0', inputs: {} }] });
  const next = nextForTemplate(a, tpl('2.0.0', [{ addon: 'pg', version: '^2', name: 'db' }, { addon: 'pg', version: '^1', name: 'audit' }]), {}, p);
  assert.ok(next.ok);
  assert.deepEqual(next.state.addons.map((x) => [x.name, x.version]), [['db', '2.1.0'], ['cache', '1.0.0'], ['audit', '1.4.0']]);
  assert.deepEqual(next.addons.map((x) => [x.instance, x.change, x.from, x.to]), [['db', 'upgraded', '1.0.0', '2.1.0'], ['audit', 'added', null, '1.4.0'], ['cache', 'kept', '1.0.0', '1.0.0']]);
  assert.equal(next.warnings.length, 1);
  const clash = nextForTemplate(app({ addons: [{ name: 'db', addon: 'mysql', version: '1.0.0', inputs: {} }] }), tpl('2.0.0', [{ addon: 'pg', version: '^1', name: 'db' }]), {}, p);
  assert.deepEqual(clash.ok ? null : clash.code, 'conflict');
});

test('an add-on: each of its instances moves, the others stay', () => {
  const a = app({ addons: [{ name: 'db', addon: 'pg', version: '1.0.0', inputs: {} }, { name: 'db2', addon: 'pg', version: '1.1.0', inputs: {} }, { name: 'c', addon: 'redis', version: '1.0.0', inputs: {} }] });
  const next = nextForAddon(a, addon('pg', '1.1.0', schema({ size: { type: 'string', default: 's' } })), {});
  assert.ok(next.ok);
  assert.deepEqual(next.instances, ['db']);
  assert.deepEqual(next.state.addons.map((x) => [x.name, x.version, x.inputs]), [['db', '1.1.0', { size: 's' }], ['db2', '1.1.0', {}], ['c', '1.0.0', {}]]);
  assert.deepEqual(next.inputs.map((i) => i.name), ['db.size']);
  assert.equal(upToDate(a, 'addon', 'pg', '1.1.0'), false);
  assert.equal(upToDate(app({ addons: [{ name: 'db', addon: 'pg', version: '1.1.0', inputs: {} }] }), 'addon', 'pg', '1.1.0'), true);
});
