import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { Auth } from '../../access/auth.ts';
import { isAdmin } from '../../access/principal.ts';
import { isLoopbackRedirect } from '../../access/oidc.ts';
import { TooManyAttempts } from '../../access/ratelimit.ts';
import { csrfMatches } from '../../access/sessions.ts';
import { tokenView, type TokenService } from '../../access/tokens.ts';
import type { AuditEntry } from '../../audit/log.ts';
import { refOf, parseRef } from '../../catalog/model.ts';
import {
  AuthProvidersSchema,
  CliCodeExchangeSchema,
  CliTokenResultSchema,
  DevicePollSchema,
  DeviceStartSchema,
  LoginResultSchema,
  OidcCallbackQuerySchema,
  OidcLoginQuerySchema,
  PasswordLoginSchema,
  PasswordSetSchema,
  SessionSchema,
} from '../../contracts/auth.ts';
import { NamePathSchema, NamespaceQuerySchema } from '../../contracts/catalog.ts';
import { forbidden, notFound, PaveError, unauthorized } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { defineRoute, type Route } from '../route.ts';
import { clearSessionCookies, cookieNames, CSRF_HEADER, csrfRefused, readCookie, requestCsrfToken, setCookie, setSessionCookies } from '../session.ts';

/**
 * Sign-in routes. Public (like health): which providers are on offer, password sign-in, the OIDC
 * browser flow (login → provider → callback), the CLI's device and loopback flows, and sign-out. Every
 * sign-in, refused or not, writes an `auth.login` audit event; sign-out `auth.logout`; password
 * changes `auth.password` (written here, without a digest of the body, which holds the password).
 */
export interface AuthRouteDeps {
  db: Db;
  auth: Auth;
  tokens: TokenService;
  audit: (e: AuditEntry) => Promise<unknown>;
}

const DEFAULT_CLI_TOKEN_DAYS = 90;

const oidcNotConfigured = () => new PaveError(404, 'oidc-not-configured', 'No identity provider', 'this Pave has no OpenID Connect provider configured (PAVE_OIDC_ISSUER): sign in with a password or an API token');

/** Only paths inside this server may be returned to after a browser sign-in. */
function safeRedirect(raw: string | undefined): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\') || /[\r\n]/.test(raw)) return '/';
  return raw;
}

const cliTokenName = () => `cli-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;

const htmlEscape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A browser that lands on a failed callback gets a page it can read; API clients get problem+json. */
function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

function failurePage(reply: FastifyReply, err: PaveError, req: FastifyRequest): FastifyReply {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · Pave</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}a{color:#1c7ed6}</style></head>
<body><main><h1>Sign-in failed</h1><p role="alert">${htmlEscape(err.message)}.</p><p><a href="/sign-in">Back to sign-in</a></p><p><small>Request ${htmlEscape(String(req.id))}</small></p></main></body></html>`;
  return reply.status(err.status).type('text/html; charset=utf-8').send(body);
}

export function authRoutes(d: AuthRouteDeps): Route[] {
  const { db, auth, tokens } = d;

  const audit = async (req: FastifyRequest, e: Omit<AuditEntry, 'requestId'>) => {
    try {
      await d.audit({ ...e, requestId: req.id, details: { ip: req.ip, ...(e.details ?? {}) } });
    } catch (err) {
      req.log.error({ err, audit: { action: e.action, target: e.target } }, 'audit event not written');
    }
  };

  const oidc = () => {
    if (!auth.oidc || !auth.identities) throw oidcNotConfigured();
    return { oidc: auth.oidc, identities: auth.identities };
  };

  /** An API token for a user who signed in through the CLI. */
  const issueToken = async (userId: string, userRef: string, t: { name?: string | undefined; expiresInDays?: number | undefined }) => {
    const { token, row } = await tokens.create(userId, t.name ?? cliTokenName(), { expiresInDays: t.expiresInDays ?? DEFAULT_CLI_TOKEN_DAYS });
    return { ...tokenView(row, userRef), token };
  };

  const startSession = async (reply: FastifyReply, userId: string, userRef: string, method: 'oidc' | 'password') => {
    const s = await auth.sessions.create(userId, method);
    setSessionCookies(reply, auth, s);
    return { user: userRef, method, expiresAt: s.expiresAt.toISOString(), csrfToken: s.csrfToken };
  };

  return [
    defineRoute({
      method: 'GET', url: '/api/v1/auth/providers', operationId: 'getAuthProviders', summary: 'How one may sign in here: the identity provider, passwords', tag: 'auth', auth: false,
      response: { status: 200, description: 'The sign-in methods on offer', schema: AuthProvidersSchema },
      handler: async () => ({
        oidc: auth.oidc ? { name: auth.oidc.displayName, loginUrl: '/api/v1/auth/oidc/login', deviceFlow: await auth.oidc.supportsDeviceFlow() } : null,
        password: true,
      }),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/auth/password/login', operationId: 'passwordLogin', summary: 'Sign in with a user name and password (session cookie, or an API token for the CLI)', tag: 'auth', auth: false,
      description: 'Failed attempts are limited per user name and per client address (PAVE_LOGIN_MAX_FAILURES, PAVE_LOGIN_MAX_FAILURES_PER_IP within PAVE_LOGIN_WINDOW seconds); past the limit the answer is 429 with Retry-After, even for the right password. An unknown user and a wrong password get the same answer.',
      body: PasswordLoginSchema, errors: [401, 429], response: { status: 200, description: 'Signed in', schema: LoginResultSchema },
      handler: async ({ body, req, reply }) => {
        const parsed = parseRef(body.user, { kind: 'user', namespace: 'default' });
        const ref = parsed && parsed.kind === 'user' ? refOf('user', parsed.namespace, parsed.name) : undefined;
        const limitKey = ref ?? body.user.toLowerCase();
        const target = ref ?? `user:${body.user.slice(0, 100)}`;
        try {
          await auth.limiter.check(limitKey, req.ip);
        } catch (err) {
          if (err instanceof TooManyAttempts) {
            reply.header('retry-after', String(err.retryAfter));
            await audit(req, { actor: 'anonymous', action: 'auth.login', target, outcome: 'denied', details: { method: 'password', reason: 'rate-limited' } });
          }
          throw err;
        }
        const user = ref ? await db.selectFrom('entities').select(['id', 'ref']).where('ref', '=', ref).executeTakeFirst() : undefined;
        const ok = await auth.passwords.check(user?.id, body.password);
        if (!user || !ok) {
          await auth.limiter.fail(limitKey, req.ip);
          await audit(req, { actor: 'anonymous', action: 'auth.login', target, outcome: 'denied', details: { method: 'password', reason: 'wrong user name or password' } });
          throw unauthorized('the user name or password is wrong');
        }
        await auth.limiter.succeed(limitKey);
        const result = body.token
          ? { user: user.ref, session: null, token: await issueToken(user.id, user.ref, body.token) }
          : { user: user.ref, session: await startSession(reply, user.id, user.ref, 'password'), token: null };
        await audit(req, { actor: user.ref, action: 'auth.login', target: user.ref, outcome: 'succeeded', details: { method: 'password', as: body.token ? 'token' : 'session' } });
        return result;
      },
    }),

    defineRoute({
      method: 'GET', url: '/api/v1/auth/session', operationId: 'getSession', summary: 'The caller\'s session and its CSRF token', tag: 'auth',
      permission: 'authenticated',
      response: { status: 200, description: 'The session (or the bearer token) the request was made with', schema: SessionSchema },
      handler: ({ principal: p, req }) => ({
        user: p.userRef,
        method: p.session ? (p.tokenName === 'session:oidc' ? 'oidc' as const : 'password' as const) : 'token' as const,
        expiresAt: p.tokenExpiresAt?.toISOString() ?? null,
        csrfToken: p.session ? requestCsrfToken(req) ?? null : null,
      }),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/auth/logout', operationId: 'logout', summary: 'End the portal session (clears its cookies)', tag: 'auth', auth: false,
      description: 'With the session cookie, the X-CSRF-Token header must match the session, as for every change.',
      errors: [403], response: { status: 204, description: 'Signed out' },
      handler: async ({ req, reply }) => {
        const secret = readCookie(req, cookieNames(auth.secureCookies()).session);
        if (secret) {
          const session = await auth.sessions.verify(secret).catch(() => undefined);
          if (session) {
            const given = req.headers[CSRF_HEADER];
            if (!csrfMatches(session.csrfToken, typeof given === 'string' ? given : undefined)) throw csrfRefused();
            await auth.sessions.end(secret);
            await audit(req, { actor: session.principal.userRef, action: 'auth.logout', target: session.principal.userRef, outcome: 'succeeded', details: { session: session.principal.tokenId } });
          }
        }
        clearSessionCookies(reply, auth);
        return undefined;
      },
    }),

    defineRoute({
      method: 'PUT', url: '/api/v1/users/:name/password', operationId: 'setUserPassword', summary: 'Set a local user\'s password (admins: anyone\'s; users: their own, with the current one)', tag: 'auth',
      description: `Passwords are hashed with argon2id. Setting a password ends the user's other sessions. A wrong current password counts as a failed sign-in (rate limited).`,
      // anyone signed in may call it: the handler lets admins set anyone's, and users only their own
      permission: 'authenticated',
      params: NamePathSchema, query: NamespaceQuerySchema, body: PasswordSetSchema, audit: false, errors: [403, 404, 429],
      response: { status: 204, description: 'The password was set' },
      handler: async ({ principal: p, params, query, body, req, reply }) => {
        const ref = refOf('user', query.namespace, params.name);
        const record = (outcome: string, reason?: string) => audit(req, { actor: p.userRef, action: 'auth.password', target: ref, outcome, details: { token: p.tokenName, ...(reason ? { reason } : {}) } });
        const self = ref === p.userRef;
        if (!isAdmin(p) && !self) {
          await record('denied', 'not an admin');
          throw forbidden('only admins may set other users\' passwords');
        }
        const user = await db.selectFrom('entities').select(['id', 'kind']).where('ref', '=', ref).executeTakeFirst();
        if (!user) throw notFound(`user ${ref}`);
        if (!isAdmin(p)) {
          try {
            await auth.limiter.check(ref, req.ip);
          } catch (err) {
            if (err instanceof TooManyAttempts) reply.header('retry-after', String(err.retryAfter));
            await record('denied', 'rate-limited');
            throw err;
          }
          if (!body.currentPassword || !(await auth.passwords.check(user.id, body.currentPassword))) {
            await auth.limiter.fail(ref, req.ip);
            await record('denied', 'wrong current password');
            throw forbidden('the current password is wrong (send it as currentPassword)');
          }
        }
        await auth.passwords.set(user.id, body.password);
        await auth.sessions.endAll(user.id, p.session && self ? p.tokenId : undefined);
        await record('succeeded');
        return undefined;
      },
    }),

    defineRoute({
      method: 'DELETE', url: '/api/v1/users/:name/password', operationId: 'deleteUserPassword', summary: 'Remove a local user\'s password (admin): they can no longer sign in with one', tag: 'auth',
      permission: { name: 'user.manage' },
      params: NamePathSchema, query: NamespaceQuerySchema, errors: [403, 404], response: { status: 204, description: 'The password was removed' },
      handler: async ({ principal: p, params, query }) => {
        if (!isAdmin(p)) throw forbidden('only admins may remove passwords');
        const user = await db.selectFrom('entities').select('id').where('ref', '=', refOf('user', query.namespace, params.name)).executeTakeFirst();
        if (!user || !(await auth.passwords.remove(user.id))) throw notFound(`a password of user ${params.name}`);
        return undefined;
      },
    }),

    // ---- OpenID Connect ------------------------------------------------------------------------------

    defineRoute({
      method: 'GET', url: '/api/v1/auth/oidc/login', operationId: 'oidcLogin', summary: 'Start signing in with the identity provider (redirects the browser there)', tag: 'auth', auth: false,
      description: 'Authorization code flow with PKCE; state, nonce and verifier stay on the server. `redirect` is the portal path to come back to. The CLI\'s loopback sign-in passes `cli_redirect` (a loopback URL), `cli_state` and `cli_challenge` (S256) instead.',
      query: OidcLoginQuerySchema, errors: [404, 502], response: { status: 302, description: 'To the identity provider' },
      handler: async ({ query, reply }) => {
        const { oidc: o } = oidc();
        let cli: { redirect: string; state: string; challenge: string } | undefined;
        if (query.cli_redirect !== undefined || query.cli_state !== undefined || query.cli_challenge !== undefined) {
          if (!query.cli_redirect || !isLoopbackRedirect(query.cli_redirect)) throw new PaveError(400, 'validation', 'Invalid request', 'cli_redirect must be a loopback URL such as http://127.0.0.1:<port>/callback', [{ path: 'query.cli_redirect', message: 'must be a loopback http URL with a port' }]);
          if (!query.cli_state || !query.cli_challenge) throw new PaveError(400, 'validation', 'Invalid request', 'cli_state and cli_challenge come with cli_redirect', [{ path: query.cli_state ? 'query.cli_challenge' : 'query.cli_state', message: 'required with cli_redirect' }]);
          cli = { redirect: query.cli_redirect, state: query.cli_state, challenge: query.cli_challenge };
        }
        const { url, binding } = await o.begin({ redirectTo: safeRedirect(query.redirect), cli });
        const secure = auth.secureCookies();
        setCookie(reply, cookieNames(secure).binding, binding, { httpOnly: true, secure, path: '/api/v1/auth/oidc', maxAge: 600 });
        reply.header('cache-control', 'no-store');
        return reply.redirect(url, 302);
      },
    }),

    defineRoute({
      method: 'GET', url: '/api/v1/auth/oidc/callback', operationId: 'oidcCallback', summary: 'Where the identity provider sends the browser back (the redirect URI)', tag: 'auth', auth: false,
      description: 'Checks the state (known, unused, unexpired, started in this browser), exchanges the code with the PKCE verifier, validates the ID token (signature, issuer, audience, expiry, nonce), creates or updates the user and its team memberships from the group claim, starts a session (cookies) and redirects to the portal.',
      query: OidcCallbackQuerySchema, errors: [400, 401, 404, 502], response: { status: 302, description: 'To the portal, signed in (or to the CLI\'s loopback URL)' },
      handler: async ({ query, req, reply }) => {
        const secure = auth.secureCookies();
        const names = cookieNames(secure);
        setCookie(reply, names.binding, '', { httpOnly: true, secure, path: '/api/v1/auth/oidc', maxAge: 0 });
        reply.header('cache-control', 'no-store');
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
        try {
          const { oidc: o, identities } = oidc();
          const signIn = await o.complete(params, readCookie(req, names.binding));
          const issuer = (await o.configuration()).serverMetadata().issuer;
          const user = await identities.signIn(issuer, signIn.claims);
          await audit(req, { actor: user.userRef, action: 'auth.login', target: user.userRef, outcome: 'succeeded', details: { method: 'oidc', issuer, created: user.created, teams: user.teams, via: signIn.cli ? 'cli-browser' : 'portal' } });
          if (signIn.cli) {
            const code = await o.issueCliCode(user.userId, signIn.cli.challenge);
            const back = new URL(signIn.cli.redirect);
            back.searchParams.set('code', code);
            back.searchParams.set('state', signIn.cli.state);
            return reply.redirect(back.href, 302);
          }
          await startSession(reply, user.userId, user.userRef, 'oidc');
          return reply.redirect(signIn.redirectTo, 302);
        } catch (err) {
          if (!(err instanceof PaveError)) throw err;
          if (err.status !== 404) await audit(req, { actor: 'anonymous', action: 'auth.login', target: 'oidc', outcome: err.status === 502 ? 'failed' : 'denied', details: { method: 'oidc', problem: err.type, reason: err.message } });
          if (wantsHtml(req)) return failurePage(reply, err, req);
          throw err;
        }
      },
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/auth/oidc/device', operationId: 'oidcDeviceStart', summary: 'Start a device sign-in for the CLI (the user approves it in a browser)', tag: 'auth', auth: false,
      errors: [404, 502], response: { status: 200, description: 'The code to show the user, and the handle to poll with', schema: DeviceStartSchema },
      handler: async () => oidc().oidc.startDevice(),
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/auth/oidc/device/token', operationId: 'oidcDevicePoll', summary: 'Poll a device sign-in; once approved, an API token for the CLI', tag: 'auth', auth: false,
      body: DevicePollSchema, errors: [401, 404, 502], response: { status: 200, description: 'pending, slow_down (wait longer), or done with the token', schema: CliTokenResultSchema },
      handler: async ({ body, req }) => {
        const { oidc: o, identities } = oidc();
        let result: Awaited<ReturnType<typeof o.pollDevice>>;
        try {
          result = await o.pollDevice(body.handle);
        } catch (err) {
          if (err instanceof PaveError) await audit(req, { actor: 'anonymous', action: 'auth.login', target: 'oidc', outcome: 'denied', details: { method: 'oidc-device', problem: err.type, reason: err.message } });
          throw err;
        }
        if (result.status !== 'done') return { status: result.status, user: null, token: null };
        const issuer = (await o.configuration()).serverMetadata().issuer;
        const user = await identities.signIn(issuer, result.claims);
        const token = await issueToken(user.userId, user.userRef, body);
        await audit(req, { actor: user.userRef, action: 'auth.login', target: user.userRef, outcome: 'succeeded', details: { method: 'oidc-device', issuer, created: user.created, teams: user.teams, token: token.name } });
        return { status: 'done' as const, user: user.userRef, token };
      },
    }),

    defineRoute({
      method: 'POST', url: '/api/v1/auth/oidc/cli/token', operationId: 'oidcCliToken', summary: 'Exchange the code of a CLI loopback sign-in (with its PKCE verifier) for an API token', tag: 'auth', auth: false,
      body: CliCodeExchangeSchema, errors: [401, 404], response: { status: 200, description: 'The API token', schema: CliTokenResultSchema },
      handler: async ({ body, req }) => {
        oidc();
        let userId: string;
        try {
          userId = await auth.oidc!.redeemCliCode(body.code, body.verifier);
        } catch (err) {
          if (err instanceof PaveError) await audit(req, { actor: 'anonymous', action: 'auth.login', target: 'oidc', outcome: 'denied', details: { method: 'oidc-cli', reason: err.message } });
          throw err;
        }
        const user = await db.selectFrom('entities').select(['id', 'ref']).where('id', '=', userId).executeTakeFirst();
        if (!user) throw unauthorized('the user of this sign-in no longer exists');
        const token = await issueToken(user.id, user.ref, body);
        await audit(req, { actor: user.ref, action: 'auth.token', target: user.ref, outcome: 'succeeded', details: { method: 'oidc-cli', token: token.name } });
        return { status: 'done' as const, user: user.ref, token };
      },
    }),
  ];
}
