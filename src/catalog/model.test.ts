import { BACKSTAGE_FIXTURES } from '../../test/support/fixtures.ts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCatalogFile } from './descriptor.ts';
import { hashDraft, jsonText, relationRows, type EntityDraft } from './model.ts';

/** The content digest as it was first written (digests stored by earlier versions must not change). */
function referenceHash(d: EntityDraft): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value as Record<string, unknown>)
          .sort()
          .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(d))).digest('base64url');
}

const ODD: Record<string, unknown> = {
  b: 1, a: [3, { z: null, y: undefined, x: 'é\u2028"\\\n\u0001' }], '10': 'ten', '2': 'two', '01': 'zero-one', '4294967295': 'not an index',
  '-1': 'minus', é: 'accent', Z: 'upper', aa: [undefined, null, 1.5, -0, 1e21, 0.1, Number.NaN, true], '': 'empty', 'ü-longer': { '3': [], k: {} },
};

function draft(extra: Partial<EntityDraft>): EntityDraft {
  return {
    kind: 'application', namespace: 'default', name: 'x', title: null, description: null, type: null, lifecycle: null, owner: null, system: null,
    tags: [], labels: {}, annotations: {}, links: [], spec: {}, relations: [], ...extra,
  };
}

test('content digests are the ones earlier versions stored, for the fixtures and odd values', () => {
  const drafts = (readdirSync(BACKSTAGE_FIXTURES, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseCatalogFile(f, readFileSync(join(BACKSTAGE_FIXTURES, f), 'utf8')).drafts.map((d) => d.draft));
  assert.ok(drafts.length > 40);
  drafts.push(draft({ spec: ODD, labels: { '1': 'a', b: 'c' }, relations: [{ type: 'dependsOn', target: 'application:default/y' }] }));
  drafts.push(draft({ spec: { when: new Date(0), map: new Map([['a', 1]]), list: [new Date(1)] } }));
  for (const d of drafts) assert.equal(hashDraft(d), referenceHash(d), `${d.kind}:${d.name}`);
});

test('jsonText writes what JSON.stringify writes, with jsonb key order (length, then bytes) and integer-like keys first', () => {
  const sortedLikeJsonb = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortedLikeJsonb);
    if (!value || typeof value !== 'object') return value;
    const keys = Object.keys(value).sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return Object.fromEntries(keys.map((k) => [k, sortedLikeJsonb((value as Record<string, unknown>)[k])]));
  };
  for (const v of [ODD, {}, [], { spec: { owner: 'a', type: 'service', lifecycle: 'x', dependsOn: ['b'] } }, [{ b: 1, a: 2 }, 'x', null]]) {
    assert.equal(jsonText(v), JSON.stringify(sortedLikeJsonb(v)));
  }
  assert.equal(jsonText({ ab: 1, b: 2, a: 3, '7': 0 }), '{"7":0,"a":3,"b":2,"ab":1}');
  assert.equal(jsonText({ when: new Date(0), b: 1 }), '{"b":1,"when":"1970-01-01T00:00:00.000Z"}');
});

test('relation rows: one per declared relation, duplicates dropped, no inverses', () => {
  assert.deepEqual(relationRows('application:default/a', [
    { type: 'ownedBy', target: 'team:default/t' },
    { type: 'ownedBy', target: 'team:default/t' },
    { type: 'dependsOn', target: 'application:default/b' },
  ]), [
    { source_ref: 'application:default/a', type: 'ownedBy', target_ref: 'team:default/t' },
    { source_ref: 'application:default/a', type: 'dependsOn', target_ref: 'application:default/b' },
  ]);
});
