import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadSecretBox, SecretBox } from './secret-box.ts';

const key = Buffer.alloc(32, 7);

test('sealed secrets round-trip and do not contain the plaintext', () => {
  const box = new SecretBox(key);
  const sealed = box.encrypt('hunter2-password', 'resource:a:outputs');
  assert.ok(!sealed.toString('latin1').includes('hunter2'));
  assert.equal(box.decrypt(sealed, 'resource:a:outputs'), 'hunter2-password');
  assert.notDeepEqual(box.encrypt('same', 'c'), box.encrypt('same', 'c'), 'a fresh nonce each time');
  assert.deepEqual(box.openJson(box.sealJson({ a: 1 }, 'ctx'), 'ctx'), { a: 1 });
});

test('a ciphertext does not open in another context, under another key, or when tampered with', () => {
  const box = new SecretBox(key);
  const sealed = box.encrypt('value', 'resource:a:outputs');
  assert.throws(() => box.decrypt(sealed, 'resource:b:outputs'));
  assert.throws(() => new SecretBox(Buffer.alloc(32, 8)).decrypt(sealed, 'resource:a:outputs'), /another key/);
  const tampered = Buffer.from(sealed);
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => box.decrypt(tampered, 'resource:a:outputs'));
});

test('the key comes from PAVE_SECRET_KEY, or from a 0600 file created once in the data directory', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pave-key-'));
  const a = loadSecretBox({ dataDir: dir });
  assert.equal(a.source, 'file');
  assert.equal(statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
  const b = loadSecretBox({ dataDir: dir });
  assert.equal(b.box.decrypt(a.box.encrypt('x', 'c'), 'c'), 'x', 'the same key on the next start');
  const fromEnv = loadSecretBox({ dataDir: dir, secretKey: readFileSync(path.join(dir, 'secret.key'), 'utf8').trim() });
  assert.equal(fromEnv.source, 'env');
  assert.throws(() => loadSecretBox({ dataDir: dir, secretKey: 'c2hvcnQ=' }), /32 random bytes/);
});

test('a data directory that does not exist yet is created for the key', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pave-key-')), 'not', 'yet');
  const { box } = loadSecretBox({ dataDir: dir });
  assert.equal(loadSecretBox({ dataDir: dir }).box.decrypt(box.encrypt('x', 'c'), 'c'), 'x');
});
