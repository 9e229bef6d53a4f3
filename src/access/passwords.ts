import { randomBytes } from 'node:crypto';
import { argon2id, argon2Verify } from 'hash-wasm';
import type { Db } from '../store/db.ts';

/**
 * Local users' passwords, for installations without an identity provider: argon2id (WebAssembly, no
 * native addon) with OWASP's second recommended setting (19 MiB, 2 passes, 1 lane: about 60 ms here),
 * stored in PHC's encoded form (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so stronger settings
 * later still verify the hashes made with these.
 */
export const ARGON2 = { memorySize: 19_456, iterations: 2, parallelism: 1, hashLength: 32 } as const;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export async function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), ...ARGON2, outputType: 'encoded' });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!hash.startsWith('$argon2id$')) return false;
  try {
    return await argon2Verify({ password, hash });
  } catch {
    return false;
  }
}

/** Verified against when the user is unknown or has no password, so that both take as long as a wrong password. */
let decoy: Promise<string> | undefined;

export class PasswordService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async set(userId: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.db
      .insertInto('user_passwords')
      .values({ user_id: userId, hash })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: new Date() }))
      .execute();
  }

  async has(userId: string): Promise<boolean> {
    return !!(await this.db.selectFrom('user_passwords').select('user_id').where('user_id', '=', userId).executeTakeFirst());
  }

  async remove(userId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('user_passwords').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Whether `password` is the user's (undefined: no such user). Takes about as long whether the user
   * exists, has a password, or not.
   */
  async check(userId: string | undefined, password: string): Promise<boolean> {
    const row = userId ? await this.db.selectFrom('user_passwords').select('hash').where('user_id', '=', userId).executeTakeFirst() : undefined;
    if (!row) {
      decoy ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await decoy);
      return false;
    }
    return verifyPassword(password, row.hash);
  }
}
