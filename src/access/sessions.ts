import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { unauthorized } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { Principal } from './principal.ts';
import { hashToken } from './tokens.ts';

/**
 * Browser sessions of the portal: a random secret in an HTTP-only cookie, stored only as a SHA-256
 * digest, with an absolute expiry, and a CSRF token that every state-changing request made with the
 * cookie must repeat in the X-CSRF-Token header (the HTTP layer checks it). Ending a session deletes
 * its row, so it stops working at once on every replica.
 */
export interface SessionSettings {
  /** How long a session lasts from sign-in, in seconds (default 12 hours). */
  ttlSeconds: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { ttlSeconds: 12 * 3600 };

const TOUCH_MS = 60_000;

export interface NewSession {
  /** The cookie's value; never stored. */
  secret: string;
  csrfToken: string;
  expiresAt: Date;
  id: string;
}

export interface VerifiedSession {
  principal: Principal;
  csrfToken: string;
}

export function csrfMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class SessionService {
  private readonly db: Db;
  readonly settings: SessionSettings;
  private readonly touched = new Map<string, number>();
  constructor(db: Db, settings: SessionSettings) {
    this.db = db;
    this.settings = settings;
  }

  async create(userId: string, method: 'oidc' | 'password'): Promise<NewSession> {
    const secret = `pvs_${randomBytes(32).toString('base64url')}`;
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.settings.ttlSeconds * 1000);
    const row = await this.db
      .insertInto('sessions')
      .values({ secret_hash: hashToken(secret), user_id: userId, method, csrf_token: csrfToken, expires_at: expiresAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    // expired sessions are swept as new ones are made
    void this.db.deleteFrom('sessions').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).execute().catch(() => undefined);
    return { secret, csrfToken, expiresAt, id: row.id };
  }

  /** The principal of a session cookie, or 401. */
  async verify(secret: string): Promise<VerifiedSession> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('entities as u', 'u.id', 's.user_id')
      .leftJoin('user_accounts as a', 'a.user_id', 's.user_id')
      .select(['s.id', 's.method', 's.csrf_token', 's.expires_at', 'u.id as user_id', 'u.ref', 'u.name as user_name', 'a.roles'])
      .where('s.secret_hash', '=', hashToken(secret))
      .executeTakeFirst();
    if (!row) throw unauthorized('the session has ended; sign in again');
    const expiresAt = new Date(row.expires_at);
    if (expiresAt.getTime() <= Date.now()) throw unauthorized('the session has expired; sign in again');
    this.touch(row.id);
    return {
      principal: {
        userId: row.user_id,
        userRef: row.ref,
        userName: row.user_name,
        roles: row.roles ?? [],
        tokenId: row.id,
        tokenName: `session:${row.method}`,
        tokenExpiresAt: expiresAt,
        session: true,
      },
      csrfToken: row.csrf_token,
    };
  }

  /** Ends the session of a cookie (if any); returns whether one ended. */
  async end(secret: string): Promise<boolean> {
    const r = await this.db.deleteFrom('sessions').where('secret_hash', '=', hashToken(secret)).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Ends a user's sessions, but `keep` (e.g. the one that changed the password). */
  async endAll(userId: string, keep?: string): Promise<number> {
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keep) q = q.where('id', '!=', keep);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  private touch(id: string) {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) > now - TOUCH_MS) return;
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(id, now);
    void this.db.updateTable('sessions').set({ last_seen_at: new Date(now) }).where('id', '=', id).execute().catch(() => undefined);
  }
}
