import { sql } from 'kysely';
import { PaveError } from '../errors.ts';
import type { Db } from '../store/db.ts';

/**
 * Login rate limiting, in the store so that it holds across restarts and replicas: failed password
 * sign-ins are counted per user name and per client address over a sliding window. Once either
 * reaches its limit, sign-ins for that user (or from that address) are refused with 429 and a
 * Retry-After until enough failures have left the window, even with the right password.
 */
export interface LoginLimits {
  /** Failures per user name within the window (default 5). */
  maxPerUser: number;
  /** Failures per client address within the window (default 20). */
  maxPerIp: number;
  /** The window, in seconds (default 900). */
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxPerUser: 5, maxPerIp: 20, windowSeconds: 900 };

export class TooManyAttempts extends PaveError {
  readonly retryAfter: number;
  constructor(retryAfter: number) {
    super(429, 'too-many-attempts', 'Too many sign-in attempts', `too many failed sign-in attempts; try again in ${retryAfter} seconds`);
    this.retryAfter = retryAfter;
  }
}

export class LoginLimiter {
  private readonly db: Db;
  readonly limits: LoginLimits;
  constructor(db: Db, limits: LoginLimits) {
    this.db = db;
    this.limits = limits;
  }

  private keys(user: string, ip: string): { key: string; max: number }[] {
    return [
      { key: `user:${user.toLowerCase()}`, max: this.limits.maxPerUser },
      { key: `ip:${ip}`, max: this.limits.maxPerIp },
    ];
  }

  /** Throws TooManyAttempts (429) when the user or the address has used up its failures. */
  async check(user: string, ip: string): Promise<void> {
    const window = this.limits.windowSeconds;
    let retryAfter = 0;
    for (const { key, max } of this.keys(user, ip)) {
      const rows = await this.db
        .selectFrom('login_failures')
        .select('failed_at')
        .where('key', '=', key)
        .where('failed_at', '>', sql<Date>`now() - make_interval(secs => ${window})`)
        .orderBy('failed_at', 'desc')
        .limit(max)
        .execute();
      if (rows.length < max) continue;
      // the window reopens when the max-th newest failure leaves it
      const oldest = new Date(rows[rows.length - 1]!.failed_at).getTime();
      retryAfter = Math.max(retryAfter, Math.ceil((oldest + window * 1000 - Date.now()) / 1000));
    }
    if (retryAfter > 0) throw new TooManyAttempts(retryAfter);
  }

  async fail(user: string, ip: string): Promise<void> {
    const keys = this.keys(user, ip).map((k) => k.key);
    await this.db.insertInto('login_failures').values(keys.map((key) => ({ key }))).execute();
    await this.db
      .deleteFrom('login_failures')
      .where('key', 'in', keys)
      .where('failed_at', '<', sql<Date>`now() - make_interval(secs => ${this.limits.windowSeconds})`)
      .execute();
  }

  /** A successful sign-in forgets the user's failures (not the address's). */
  async succeed(user: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', `user:${user.toLowerCase()}`).execute();
  }
}
