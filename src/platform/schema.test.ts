import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadPlatformFolder } from './loader.ts';
import { addOnSecretOutputs, isSecretRef, PlatformObjectSchema, type AddOn, type ResourceType } from './schema.ts';

describe('schema', () => {
  test('the discriminated union parses every kind', () => {
    const r = PlatformObjectSchema.safeParse({ apiVersion: 'pave.dev/v1', kind: 'ResourceType', metadata: { name: 'dns' }, spec: { outputs: { host: { type: 'string' } } } });
    assert.ok(r.success);
    assert.equal(r.data.kind, 'ResourceType');
    assert.ok(r.data.kind === 'ResourceType' && r.data.spec.openOutputs === false);
    const bad = PlatformObjectSchema.safeParse({ apiVersion: 'pave.dev/v1', kind: 'AddOn', metadata: { name: 'x' }, spec: {} });
    assert.equal(bad.success, false);
  });

  test('isSecretRef', () => {
    assert.equal(isSecretRef({ secretRef: 'a' }), true);
    assert.equal(isSecretRef({ secretRef: 'a', b: 1 }), false);
    assert.equal(isSecretRef('a'), false);
  });

  test('addOnSecretOutputs', async () => {
    const { objects } = await loadPlatformFolder(new URL('../../platform', import.meta.url).pathname);
    const types = objects.map((o) => o.object).filter((o): o is ResourceType => o.kind === 'ResourceType');
    const addon = (name: string) => objects.map((o) => o.object).find((o): o is AddOn => o.kind === 'AddOn' && o.metadata.name === name);
    const pg = addon('postgres');
    assert.ok(pg);
    assert.deepEqual(addOnSecretOutputs(pg, types), ['DATABASE_URL', 'PGPASSWORD']);
    const vol = addon('volume');
    assert.ok(vol);
    assert.deepEqual(addOnSecretOutputs(vol, types), []);
  });
});
