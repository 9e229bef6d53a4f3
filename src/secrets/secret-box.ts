import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Encryption of secrets at rest: AES-256-GCM, a fresh 96-bit nonce per value, and the value's context
 * (e.g. `resource:<uid>:outputs`) as additional authenticated data, so a ciphertext moved to another
 * row does not decrypt. Layout: version (1 byte) | key id (4) | nonce (12) | tag (16) | ciphertext.
 * Invariant: plaintext secrets exist only in memory; they are never logged and never stored.
 */
const VERSION = 1;

export class SecretBox {
  private readonly key: Buffer;
  readonly keyId: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    this.key = key;
    this.keyId = createHash('sha256').update(key).digest().subarray(0, 4);
  }

  encrypt(plaintext: string, context: string): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), this.keyId, nonce, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer, context: string): string {
    if (sealed.length < 33 || sealed[0] !== VERSION) throw new Error('not a sealed secret');
    if (!sealed.subarray(1, 5).equals(this.keyId)) throw new Error('the secret was sealed with another key (check PAVE_SECRET_KEY)');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(5, 17));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(sealed.subarray(17, 33));
    return Buffer.concat([decipher.update(sealed.subarray(33)), decipher.final()]).toString('utf8');
  }

  /** A key for another purpose (e.g. keyed digests), derived from this one, so it shares its rotation. */
  derive(label: string): Buffer {
    return createHmac('sha256', this.key).update(`pave:${label}`).digest();
  }

  sealJson(value: unknown, context: string): Buffer {
    return this.encrypt(JSON.stringify(value), context);
  }

  openJson<T>(sealed: Buffer, context: string): T {
    return JSON.parse(this.decrypt(sealed, context)) as T;
  }
}

/**
 * The key: PAVE_SECRET_KEY (32 bytes, base64 or base64url) when set, which every replica of a
 * multi-server installation must share; otherwise `<dataDir>/secret.key`, created on first start (0600).
 */
export function loadSecretBox(opts: { secretKey?: string | undefined; dataDir: string }): { box: SecretBox; source: 'env' | 'file' } {
  if (opts.secretKey) {
    const key = Buffer.from(opts.secretKey, 'base64');
    if (key.length !== 32) throw new Error('PAVE_SECRET_KEY must be 32 random bytes, base64-encoded (e.g. openssl rand -base64 32)');
    return { box: new SecretBox(key), source: 'env' };
  }
  const file = path.join(opts.dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another server sharing this data directory created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte key`);
  return { box: new SecretBox(key), source: 'file' };
}
