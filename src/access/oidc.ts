import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { PaveError, badRequest } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { IdentityClaims } from './identity.ts';

/**
 * The OpenID Connect relying party (openid-client): the authorization code flow with PKCE for the
 * portal and the CLI's loopback redirect, and the device authorization grant for the CLI.
 *
 * Every sign-in request's secrets (state, nonce, PKCE verifier, device code) stay on the server, in
 * `auth_requests`, keyed by the SHA-256 of the value the client holds, short-lived and used once. A
 * browser flow is also bound to the browser that started it (a random value in an HTTP-only cookie,
 * whose digest is kept with the request), so that a callback URL handed to someone else signs no one in.
 *
 * openid-client validates the ID token's issuer, audience, expiry, nonce and (with PKCE) the code; the
 * signature is checked against the provider's JWKS too (enableNonRepudiationChecks), not only trusted
 * because it came over TLS. Plain-HTTP issuers are accepted only on loopback (tests, local providers).
 */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Omit for a public client (PKCE only). */
  clientSecret?: string | undefined;
  scopes: string;
  /** The provider's name on the sign-in page ("Sign in with …"); default the issuer's host. */
  displayName?: string | undefined;
}

/** How long a sign-in may take at the provider. */
const REQUEST_TTL_S = 600;
/** How long a CLI has to exchange the code the loopback redirect gave it. */
const CLI_CODE_TTL_S = 120;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const b64sha = (s: string) => createHash('sha256').update(s).digest('base64url');
const random = () => randomBytes(32).toString('base64url');

export const oidcFailed = (detail: string) => new PaveError(401, 'oidc-failed', 'Sign-in failed', detail);
const stateProblem = (detail: string) => badRequest('oidc-state', detail);

/** Loopback addresses a CLI may listen on for the redirect (RFC 8252 §7.3). */
export function isLoopbackRedirect(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname) && !!u.port && !u.username && !u.password && !u.hash;
  } catch {
    return false;
  }
}

function isLoopbackUrl(u: URL): boolean {
  return ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
}

/** What a finished browser sign-in gives back: who signed in, and where to send the browser. */
export interface BrowserSignIn {
  claims: IdentityClaims;
  redirectTo: string;
  /** Set when the CLI's loopback flow started it: send the browser back to the CLI with a one-use code. */
  cli?: { redirect: string; state: string; challenge: string } | undefined;
}

export interface DeviceStart {
  handle: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresIn: number;
  interval: number;
}

export class OidcService {
  private readonly db: Db;
  readonly settings: OidcSettings;
  private config: Promise<client.Configuration> | undefined;
  private readonly redirectUri: () => string;
  constructor(db: Db, settings: OidcSettings, redirectUri: () => string) {
    this.db = db;
    this.settings = settings;
    this.redirectUri = redirectUri;
  }

  get displayName(): string {
    return this.settings.displayName || new URL(this.settings.issuer).host;
  }

  /** The provider's configuration, discovered once (again after a failure). */
  async configuration(): Promise<client.Configuration> {
    this.config ??= this.discover().catch((err: unknown) => {
      this.config = undefined;
      throw new PaveError(502, 'oidc-unavailable', 'Identity provider unavailable', `the identity provider ${this.settings.issuer} could not be reached or described itself wrongly: ${(err as Error).message}`);
    });
    return this.config;
  }

  private async discover(): Promise<client.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const insecure = issuer.protocol === 'http:';
    if (insecure && !isLoopbackUrl(issuer)) throw new Error('an issuer must use https (plain http only on loopback)');
    const secret = this.settings.clientSecret;
    const config = await client.discovery(
      issuer,
      this.settings.clientId,
      secret ? { client_secret: secret } : { token_endpoint_auth_method: 'none' },
      secret ? client.ClientSecretBasic(secret) : client.None(),
      insecure ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
    );
    client.enableNonRepudiationChecks(config);
    return config;
  }

  /** Whether the provider offers the device authorization grant (RFC 8628). */
  async supportsDeviceFlow(): Promise<boolean> {
    try {
      return !!(await this.configuration()).serverMetadata().device_authorization_endpoint;
    } catch {
      return false;
    }
  }

  private async sweep(): Promise<void> {
    await this.db.deleteFrom('auth_requests').where('expires_at', '<', sql<Date>`now()`).execute();
  }

  /**
   * Starts a browser sign-in: stores state, nonce and PKCE verifier, and returns the provider's
   * authorization URL and the value to bind the browser with (an HTTP-only cookie).
   */
  async begin(opts: { redirectTo: string; cli?: { redirect: string; state: string; challenge: string } | undefined }): Promise<{ url: string; binding: string }> {
    const config = await this.configuration();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const binding = random();
    await this.sweep();
    await this.db
      .insertInto('auth_requests')
      .values({
        id_hash: sha(state), kind: 'oidc',
        data: JSON.stringify({ nonce, verifier, redirectTo: opts.redirectTo, binding: sha(binding), ...(opts.cli ? { cli: opts.cli } : {}) }),
        expires_at: new Date(Date.now() + REQUEST_TTL_S * 1000),
      })
      .execute();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(),
      scope: this.settings.scopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, binding };
  }

  /**
   * Finishes a browser sign-in from the callback's query: the state must name a request this server
   * started (used once, not expired) in this browser; then openid-client exchanges the code (PKCE) and
   * validates the ID token (signature, issuer, audience, expiry, nonce). Groups missing from the ID
   * token are read from the UserInfo endpoint.
   */
  async complete(query: URLSearchParams, binding: string | undefined): Promise<BrowserSignIn> {
    const state = query.get('state');
    if (!state) throw stateProblem('the callback carries no state: start the sign-in again');
    const row = await this.db.deleteFrom('auth_requests').where('id_hash', '=', sha(state)).where('kind', '=', 'oidc').returningAll().executeTakeFirst();
    if (!row || new Date(row.expires_at).getTime() < Date.now()) throw stateProblem('the sign-in request is unknown, was used already or has expired: start the sign-in again');
    const data = row.data as { nonce: string; verifier: string; redirectTo: string; binding: string; cli?: BrowserSignIn['cli'] };
    if (!binding || sha(binding) !== data.binding) throw stateProblem('this sign-in was started in another browser (or its cookie was lost): start the sign-in again');
    const config = await this.configuration();
    // The callback URL as the provider was told it (the public URL), with the query the browser brought.
    const current = new URL(this.redirectUri());
    current.search = query.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: data.verifier, expectedState: state, expectedNonce: data.nonce, idTokenExpected: true });
    } catch (err) {
      throw this.failure(err);
    }
    const claims = await this.claimsOf(config, tokens);
    return { claims, redirectTo: data.redirectTo, ...(data.cli ? { cli: data.cli } : {}) };
  }

  private async claimsOf(config: client.Configuration, tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>): Promise<IdentityClaims> {
    const idClaims = tokens.claims();
    if (!idClaims) throw oidcFailed('the identity provider sent no ID token');
    const claims: IdentityClaims = { ...(idClaims as Record<string, unknown>), sub: idClaims.sub };
    if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        for (const [k, v] of Object.entries(info)) if (claims[k] === undefined) claims[k] = v;
      } catch {
        // the ID token's claims are enough; UserInfo only adds what it lacks
      }
    }
    return claims;
  }

  private failure(err: unknown): PaveError {
    if (err instanceof PaveError) return err;
    if (err instanceof client.AuthorizationResponseError) return oidcFailed(`the identity provider refused the sign-in: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`);
    if (err instanceof client.ResponseBodyError) return oidcFailed(`the identity provider refused the code: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`);
    // openid-client wraps the precise reason (e.g. 'unexpected ID Token "nonce" claim value') as the cause
    const e = err as { message?: string; cause?: unknown };
    const cause = e.cause instanceof Error && e.cause.message !== e.message ? `: ${e.cause.message}` : '';
    return oidcFailed(`the identity provider's answer did not validate: ${e.message ?? String(err)}${cause}`);
  }

  /** A one-use code that the CLI exchanges (with its PKCE verifier) for an API token, after a loopback sign-in. */
  async issueCliCode(userId: string, challenge: string): Promise<string> {
    const code = random();
    await this.db
      .insertInto('auth_requests')
      .values({ id_hash: sha(code), kind: 'cli-code', data: JSON.stringify({ userId, challenge }), expires_at: new Date(Date.now() + CLI_CODE_TTL_S * 1000) })
      .execute();
    return code;
  }

  /** The user a CLI code was issued to, when the verifier matches its challenge; the code is used up either way. */
  async redeemCliCode(code: string, verifier: string): Promise<string> {
    const row = await this.db.deleteFrom('auth_requests').where('id_hash', '=', sha(code)).where('kind', '=', 'cli-code').returningAll().executeTakeFirst();
    if (!row || new Date(row.expires_at).getTime() < Date.now()) throw oidcFailed('the sign-in code is unknown, was used already or has expired: run pave login again');
    const data = row.data as { userId: string; challenge: string };
    if (b64sha(verifier) !== data.challenge) throw oidcFailed('the code verifier does not match: run pave login again');
    return data.userId;
  }

  /** Starts the device authorization grant; the CLI polls with the returned handle. */
  async startDevice(): Promise<DeviceStart> {
    const config = await this.configuration();
    if (!config.serverMetadata().device_authorization_endpoint) throw new PaveError(404, 'oidc-no-device-flow', 'Device flow not offered', 'the identity provider does not offer the device authorization grant: use the browser sign-in (pave login --oidc --browser)');
    let res: Awaited<ReturnType<typeof client.initiateDeviceAuthorization>>;
    try {
      res = await client.initiateDeviceAuthorization(config, { scope: this.settings.scopes });
    } catch (err) {
      throw this.failure(err);
    }
    const handle = random();
    await this.sweep();
    await this.db
      .insertInto('auth_requests')
      .values({ id_hash: sha(handle), kind: 'device', data: JSON.stringify({ deviceCode: res.device_code }), expires_at: new Date(Date.now() + res.expires_in * 1000) })
      .execute();
    return {
      handle,
      userCode: res.user_code,
      verificationUri: res.verification_uri,
      verificationUriComplete: res.verification_uri_complete ?? null,
      expiresIn: res.expires_in,
      interval: res.interval ?? 5,
    };
  }

  /** Asks the provider once whether the user approved the device; the ID token is validated as in the code flow. */
  async pollDevice(handle: string): Promise<{ status: 'pending' | 'slow_down' } | { status: 'done'; claims: IdentityClaims }> {
    const row = await this.db.selectFrom('auth_requests').selectAll().where('id_hash', '=', sha(handle)).where('kind', '=', 'device').executeTakeFirst();
    if (!row || new Date(row.expires_at).getTime() < Date.now()) throw oidcFailed('the device sign-in is unknown, finished or expired: run pave login again');
    const { deviceCode } = row.data as { deviceCode: string };
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.genericGrantRequest>>;
    try {
      tokens = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: deviceCode });
    } catch (err) {
      if (err instanceof client.ResponseBodyError && err.error === 'authorization_pending') return { status: 'pending' };
      if (err instanceof client.ResponseBodyError && err.error === 'slow_down') return { status: 'slow_down' };
      await this.db.deleteFrom('auth_requests').where('id_hash', '=', row.id_hash).execute();
      throw this.failure(err);
    }
    const removed = await this.db.deleteFrom('auth_requests').where('id_hash', '=', row.id_hash).executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) throw oidcFailed('the device sign-in was finished already');
    return { status: 'done', claims: await this.claimsOf(config, tokens) };
  }
}
