import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Token } from '../contracts/access.ts';
import { conflict, notFound, unauthorized } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { ApiTokenRow } from '../store/schema.ts';
import type { Principal } from './principal.ts';

/**
 * API tokens: 32 random bytes behind a `pave_` prefix, stored only as a SHA-256 digest (a token has
 * full entropy, so a slow hash adds nothing). Invariant: the secret is returned once, at creation.
 * Verified tokens are cached for a few seconds; revocation clears this process's cache at once and
 * other replicas' within CACHE_MS.
 */
const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
const TOUCH_MS = 60_000;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newTokenSecret = () => `pave_${randomBytes(32).toString('base64url')}`;

export function tokenView(row: ApiTokenRow, userRef: string): Token {
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    user: userRef,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    lastUsedAt: iso(row.last_used_at),
    permissions: row.permissions ?? null,
    teams: row.teams ?? null,
  };
}

export class TokenService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly touched = new Map<string, number>();
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * A new token. `permissions` and `teams` (team refs) scope it: it may then do at most the intersection of
   * its user's rights and these (src/access/rbac.ts); omitted, it may do what its user may.
   */
  async create(userId: string, name: string, opts: { expiresInDays?: number | undefined; secret?: string; permissions?: string[] | null | undefined; teams?: string[] | null | undefined } = {}): Promise<{ token: string; row: ApiTokenRow }> {
    const token = opts.secret ?? newTokenSecret();
    const expires = opts.expiresInDays ? new Date(Date.now() + opts.expiresInDays * 86_400_000) : null;
    try {
      const row = await this.db
        .insertInto('api_tokens')
        .values({
          user_id: userId, name, token_hash: hashToken(token), prefix: token.slice(0, 12), expires_at: expires,
          permissions: opts.permissions ? [...new Set(opts.permissions)].sort() : null, teams: opts.teams ? [...new Set(opts.teams)].sort() : null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { token, row };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict(`a token named "${name}" already exists for this user`);
      throw err;
    }
  }

  async list(userId: string): Promise<ApiTokenRow[]> {
    return this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  }

  async revoke(userId: string, id: string, asAdmin: boolean): Promise<ApiTokenRow> {
    let q = this.db.updateTable('api_tokens').set({ revoked_at: sql`coalesce(revoked_at, now())` }).where('id', '=', id);
    if (!asAdmin) q = q.where('user_id', '=', userId);
    const row = await q.returningAll().executeTakeFirst();
    if (!row) throw notFound(`token ${id}`);
    for (const [hash, entry] of this.cache) if (entry.principal.tokenId === id) this.cache.delete(hash);
    return row;
  }

  /** Drops a user's cached principals at once (the user was deleted or changed). */
  forgetUser(userId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal.userId === userId) this.cache.delete(hash);
  }

  /** Resolves a bearer token to its principal, or throws 401 with the reason. */
  async verify(token: string): Promise<Principal> {
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now && (!hit.principal.tokenExpiresAt || hit.principal.tokenExpiresAt.getTime() > now)) return hit.principal;
    const row = await this.db
      .selectFrom('api_tokens as t')
      .innerJoin('entities as u', 'u.id', 't.user_id')
      .leftJoin('user_accounts as a', 'a.user_id', 't.user_id')
      .select(['t.id', 't.name', 't.token_hash', 't.expires_at', 't.revoked_at', 't.permissions', 't.teams', 'u.id as user_id', 'u.ref', 'u.name as user_name', 'a.roles'])
      .where('t.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash))) throw unauthorized('the token is not known');
    if (row.revoked_at) throw unauthorized('the token has been revoked');
    const expiresAt = row.expires_at ? new Date(row.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= now) throw unauthorized('the token has expired');
    const principal: Principal = {
      userId: row.user_id,
      userRef: row.ref,
      userName: row.user_name,
      roles: row.roles ?? [],
      tokenId: row.id,
      tokenName: row.name,
      tokenExpiresAt: expiresAt,
      ...(row.permissions || row.teams ? { scopes: { permissions: row.permissions ?? null, teams: row.teams ?? null } } : {}),
    };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { principal, until: now + CACHE_MS });
    this.touch(row.id, now);
    return principal;
  }

  private touch(id: string, now: number) {
    if ((this.touched.get(id) ?? 0) > now - TOUCH_MS) return;
    if (this.touched.size >= CACHE_MAX) this.touched.clear();
    this.touched.set(id, now);
    void this.db.updateTable('api_tokens').set({ last_used_at: new Date(now) }).where('id', '=', id).execute().catch(() => undefined);
  }
}
