import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../access/principal.ts';
import { csrfMatches } from '../access/sessions.ts';
import type { Auth } from '../access/auth.ts';
import type { TokenService } from '../access/tokens.ts';
import { PaveError, unauthorized } from '../errors.ts';

/**
 * How the HTTP layer knows the caller: a bearer token (`Authorization: Bearer pave_…`, the CLI and
 * automation), or the portal's session cookie. Cookies are HTTP-only and SameSite=Lax (Secure, with the
 * `__Host-` prefix, when the public URL is https); a request made with the session cookie that changes
 * something (POST, PUT, PATCH, DELETE) must also send the session's CSRF token in X-CSRF-Token, which
 * the portal reads from the (readable) CSRF cookie or GET /api/v1/auth/session. Bearer requests need
 * none: a browser never adds an Authorization header on its own.
 */

export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface CookieNames {
  session: string;
  csrf: string;
  binding: string;
}

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-pave_session', csrf: '__Host-pave_csrf', binding: '__Secure-pave_oidc' }
    : { session: 'pave_session', csrf: 'pave_csrf', binding: 'pave_oidc' };
}

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

export interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  path: string;
  /** seconds; 0 deletes the cookie */
  maxAge: number;
}

export function setCookie(reply: FastifyReply, name: string, value: string, o: CookieOptions): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${o.path}`, `Max-Age=${o.maxAge}`, 'SameSite=Lax'];
  if (o.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (o.httpOnly) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  const prev = reply.getHeader('set-cookie');
  const list = Array.isArray(prev) ? prev.map(String) : prev !== undefined ? [String(prev)] : [];
  reply.header('set-cookie', [...list, parts.join('; ')]);
}

/** CSRF tokens of cookie-authenticated requests, for GET /api/v1/auth/session. */
const csrfOf = new WeakMap<FastifyRequest, string>();
export const requestCsrfToken = (req: FastifyRequest) => csrfOf.get(req);

export const csrfRefused = () =>
  new PaveError(403, 'csrf', 'CSRF token missing or wrong', `a request that changes something with the session cookie must repeat the session's CSRF token in the X-CSRF-Token header (GET /api/v1/auth/session gives it)`);

/** The route kernel's authenticate: a bearer token, else the session cookie (with CSRF for changes). */
export function authenticator(tokens: TokenService, auth: Auth): (req: FastifyRequest) => Promise<Principal> {
  return async (req) => {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw unauthorized('send an API token as "Authorization: Bearer <token>"');
      return tokens.verify(m[1]!);
    }
    const secret = readCookie(req, cookieNames(auth.secureCookies()).session);
    if (!secret) throw unauthorized('send an API token as "Authorization: Bearer <token>", or sign in to the portal');
    const { principal, csrfToken } = await auth.sessions.verify(secret);
    if (UNSAFE.has(req.method)) {
      const given = req.headers[CSRF_HEADER];
      if (!csrfMatches(csrfToken, typeof given === 'string' ? given : undefined)) throw csrfRefused();
    }
    csrfOf.set(req, csrfToken);
    return principal;
  };
}

/** Sets the session and CSRF cookies of a new session. */
export function setSessionCookies(reply: FastifyReply, auth: Auth, s: { secret: string; csrfToken: string; expiresAt: Date }): void {
  const secure = auth.secureCookies();
  const names = cookieNames(secure);
  const maxAge = Math.max(1, Math.floor((s.expiresAt.getTime() - Date.now()) / 1000));
  setCookie(reply, names.session, s.secret, { httpOnly: true, secure, path: '/', maxAge });
  setCookie(reply, names.csrf, s.csrfToken, { httpOnly: false, secure, path: '/', maxAge });
}

export function clearSessionCookies(reply: FastifyReply, auth: Auth): void {
  const secure = auth.secureCookies();
  const names = cookieNames(secure);
  setCookie(reply, names.session, '', { httpOnly: true, secure, path: '/', maxAge: 0 });
  setCookie(reply, names.csrf, '', { httpOnly: false, secure, path: '/', maxAge: 0 });
}
