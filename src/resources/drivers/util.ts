import { createHash, randomBytes } from 'node:crypto';
import { DriverError } from './driver.ts';

/**
 * Helpers shared by the built-in drivers: names derived from a resource's uid, generated passwords,
 * and error messages that never carry secrets.
 */

export interface NameOptions {
  /** Maximum length of the whole name. */
  max: number;
  /** Prefix, e.g. `pv`; joined with `separator`. Empty for none. */
  prefix?: string;
  separator?: string;
  upper?: boolean;
}

/** Eight hex characters of SHA-256 of the uid: keeps sanitised names of different uids apart. */
export function uidHash(uid: string): string {
  return createHash('sha256').update(uid, 'utf8').digest('hex').slice(0, 8);
}

/**
 * A name derived from a resource's uid, stable across calls: `<prefix>_<sanitised uid>_<hash>`, only
 * `[a-z0-9_]` (or upper case), at most `max` characters. The hash of the full uid keeps two uids
 * that sanitise or truncate alike apart.
 */
export function nameFromUid(uid: string, opts: NameOptions): string {
  const sep = opts.separator ?? '_';
  const prefix = opts.prefix ?? 'pv';
  const hash = uidHash(uid);
  const fixed = (prefix ? prefix.length + sep.length : 0) + sep.length + hash.length;
  const room = opts.max - fixed;
  if (room < 1) throw new Error(`name length ${opts.max} is too short`);
  let body = uid
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, sep)
    .slice(0, room);
  body = trimChar(body, sep) || 'r';
  const name = `${prefix ? prefix + sep : ''}${body}${sep}${hash}`;
  return opts.upper ? name.toUpperCase() : name;
}

function trimChar(s: string, c: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.startsWith(c, a)) a += c.length;
  while (b > a && s.endsWith(c, b)) b -= c.length;
  return s.slice(a, b);
}

/** A random password: 24 random bytes, base64url (32 characters, safe in URLs and SQL). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** A string from state, if it is one. */
export function stateString(state: Record<string, unknown> | null, key: string): string | undefined {
  const v = state?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Replaces every occurrence of each secret in `text` with `[redacted]`. Empty secrets are ignored. */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  const list = [...secrets].filter((s): s is string => typeof s === 'string' && s.length > 0).sort((a, b) => b.length - a.length);
  for (const s of list) {
    out = out.split(s).join('[redacted]');
    const enc = encodeURIComponent(s);
    if (enc !== s) out = out.split(enc).join('[redacted]');
  }
  return out;
}

/** A URL without its credentials, for messages: `scheme://host:port/path`. */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

/** The message and code of an error, with the given secrets removed; never the error object itself. */
export function describeError(err: unknown, secrets: Iterable<string | undefined> = []): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const base = err.message || err.name;
    const withCode = typeof code === 'string' && code && !base.includes(code) ? `${base} (${code})` : base;
    // AggregateError (e.g. connect to several addresses) keeps the useful part in its members.
    if (!err.message && err instanceof AggregateError && err.errors.length > 0) {
      return redact(err.errors.map((e) => describeError(e)).join('; '), secrets);
    }
    return redact(withCode, secrets);
  }
  return redact(String(err), secrets);
}

/** Network errors that are worth retrying (the system may be starting or briefly away). */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE'].includes(code);
}

/**
 * Wraps a failure from a client library into a DriverError: `<what>: <cause message>`, secrets
 * removed. The original error is not attached (some libraries keep the statement text, which can
 * hold a password hash, on their errors).
 */
export function wrapError(driver: string, what: string, err: unknown, secrets: Iterable<string | undefined> = [], retryable?: boolean): DriverError {
  if (err instanceof DriverError) return err;
  return new DriverError(driver, `${what}: ${describeError(err, secrets)}`, { retryable: retryable ?? isTransient(err) });
}

/** Throws a DriverError if the signal is aborted. */
export function throwIfAborted(driver: string, signal: AbortSignal): void {
  if (signal.aborted) throw new DriverError(driver, 'the operation was cancelled');
}

/** Parses a URL input or throws an actionable DriverError (without echoing the URL, which may hold credentials). */
export function parseUrl(driver: string, field: string, raw: string, protocols: string[]): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new DriverError(driver, `input ${field} is not a valid URL; expected ${protocols.map((p) => `${p}//host:port`).join(' or ')}`, { retryable: false });
  }
  if (!protocols.includes(u.protocol)) {
    throw new DriverError(driver, `input ${field} must use ${protocols.join(' or ')} (got ${u.protocol})`, { retryable: false });
  }
  return u;
}

/** A port number from a URL, or the scheme's default. */
export function urlPort(u: URL, fallback: number): number {
  return u.port ? Number(u.port) : fallback;
}
