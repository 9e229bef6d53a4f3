import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * A real OpenID provider for the tests (npm `oidc-provider`, a certified implementation) on
 * 127.0.0.1:<random>, in the test process: one confidential client for Pave (code flow with PKCE and
 * the device grant), an in-memory account store, and its own minimal login page (labelled "Username",
 * "Password", "Sign in"), without a consent page (grants are given at once).
 *
 * `tamper` rewrites the ID token of the next token responses (re-signed with the provider's own key
 * where the test wants a validly signed token with bad content): `signature` flips a signature byte,
 * `expired` moves exp an hour into the past, `nonce` replaces the nonce, `audience` the audience.
 */
export interface TestAccount {
  password: string;
  claims: { email?: string; email_verified?: boolean; name?: string; preferred_username?: string; groups?: string[] };
}

export type Tamper = 'signature' | 'expired' | 'nonce' | 'audience' | null;

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Record<string, TestAccount>;
  tamper: Tamper;
  /** Token responses seen (for assertions). */
  tokenResponses: number;
  /** Creates the provider with Pave's redirect URI (known once Pave listens). */
  register(redirectUri: string): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head><body><main>
<h1>Test IdP</h1>${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="username">Username</label> <input id="username" name="username" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form></main></body></html>`;
}

export async function startTestIdp(opts: { accounts: Record<string, TestAccount>; clientId?: string; clientSecret?: string; deviceFlow?: boolean }): Promise<TestIdp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const signingKey = await importJWK(jwk, 'RS256');
  let provider: Provider | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const idp: TestIdp = {
    issuer: '',
    clientId: opts.clientId ?? 'pave-test',
    clientSecret: opts.clientSecret ?? 'pave-test-secret-0123456789',
    accounts: opts.accounts,
    tamper: null,
    tokenResponses: 0,
    register(redirectUri) {
      const config: Configuration = {
        clients: [
          {
            client_id: idp.clientId,
            client_secret: idp.clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code', ...(opts.deviceFlow === false ? [] : ['urn:ietf:params:oauth:grant-type:device_code'])],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-idp-cookie-key'] },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
        features: { devInteractions: { enabled: false }, deviceFlow: { enabled: opts.deviceFlow !== false } },
        pkce: { required: () => true },
        ttl: { AccessToken: 600, AuthorizationCode: 60, DeviceCode: 600, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
        interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
        findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
          const account = idp.accounts[sub];
          if (!account) return undefined;
          return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
        },
        // first-party client: no consent page
        loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
          const oidc = ctx.oidc;
          const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client!.clientId);
          if (grantId) return oidc.provider.Grant.find(grantId);
          const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId });
          grant.addOIDCScope('openid profile email groups');
          await grant.save();
          return grant;
        },
      };
      provider = new Provider(idp.issuer, config);
      provider.use(async (ctx, next) => {
        await next();
        if (ctx.path !== '/token' || ctx.status !== 200) return;
        idp.tokenResponses++;
        const body = ctx.body as { id_token?: string } | undefined;
        if (!body?.id_token || !idp.tamper) return;
        body.id_token = await tamper(body.id_token, idp.tamper, signingKey);
        ctx.body = body;
      });
      handler = provider.callback();
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      if (!provider || !handler) {
        res.writeHead(503).end('not registered yet');
        return;
      }
      const url = new URL(req.url ?? '/', idp.issuer);
      const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
      if (m) {
        try {
          const details = await provider.interactionDetails(req, res);
          if (req.method === 'GET') {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid));
            return;
          }
          const form = new URLSearchParams(await readBody(req));
          const username = form.get('username') ?? '';
          const account = idp.accounts[username];
          if (!account || account.password !== form.get('password')) {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, 'Wrong username or password'));
            return;
          }
          await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
        } catch (err) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${(err as Error).message}`);
        }
        return;
      }
      handler(req, res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return idp;
}

async function tamper(idToken: string, mode: Exclude<Tamper, null>, key: Awaited<ReturnType<typeof importJWK>>): Promise<string> {
  const [h, p, s] = idToken.split('.') as [string, string, string];
  if (mode === 'signature') {
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length >> 1]! ^= 0x01;
    return `${h}.${p}.${sig.toString('base64url')}`;
  }
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'expired') Object.assign(payload, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'nonce') payload.nonce = 'not-the-nonce-pave-sent';
  if (mode === 'audience') payload.aud = 'someone-else';
  const header = decodeProtectedHeader(idToken);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: header.alg!, kid: header.kid!, ...(header.typ ? { typ: header.typ } : {}) }).sign(key);
}

// ---- a minimal scripted browser: cookies, redirects, forms -------------------------------------------

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

/** Follows redirects by hand with a cookie jar (per host and path), and submits HTML forms: enough to click through the provider. */
export class ScriptedBrowser {
  readonly cookies: StoredCookie[] = [];
  /** The last response of `follow`. */
  last: { url: string; status: number; body: string; headers: Headers } | undefined;

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.host && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(host: string, name: string): string | undefined {
    return this.cookies.find((c) => c.host === host && c.name === name)?.value;
  }

  private store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((x) => x.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let path = '/';
      let remove = false;
      for (const a of attrs) {
        const [k, v] = a.split('=') as [string, string | undefined];
        if (k.toLowerCase() === 'path' && v) path = v;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) remove = true;
        if (k.toLowerCase() === 'expires' && v && Date.parse(v) < Date.now()) remove = true;
      }
      const i = this.cookies.findIndex((c) => c.host === url.host && c.name === name && c.path === path);
      if (i >= 0) this.cookies.splice(i, 1);
      if (!remove) this.cookies.push({ name, value, host: url.host, path });
    }
  }

  /** One request, no redirect followed. */
  async request(url: string, init: { method?: string; form?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Response> {
    const u = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(u);
    if (cookie) headers.set('cookie', cookie);
    if (init.form) headers.set('content-type', 'application/x-www-form-urlencoded');
    const res = await fetch(u, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body: init.form ? init.form.toString() : null, redirect: 'manual' });
    this.store(u, res);
    return res;
  }

  /**
   * Requests `url` and follows redirects until `stop` says so (given the next URL) or a page answers;
   * returns the URL it stopped at.
   */
  async follow(url: string, init: { method?: string; form?: URLSearchParams } = {}, stop?: (next: string) => boolean): Promise<{ url: string; status: number; body: string; headers: Headers }> {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, current).href;
      await res.body?.cancel();
      if (stop?.(next)) return (this.last = { url: next, status: res.status, body: '', headers: res.headers });
      current = next;
      res = await this.request(current);
    }
    this.last = { url: current, status: res.status, body: await res.text(), headers: res.headers };
    return this.last;
  }

  /** Fills and submits the page's first form (its hidden fields plus `fields`), following redirects. */
  async submit(page: { url: string; body: string }, fields: Record<string, string>, stop?: (next: string) => boolean) {
    const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page.body);
    if (!form) throw new Error(`no form on ${page.url}: ${page.body.slice(0, 300)}`);
    const action = /action="([^"]*)"/i.exec(form[1]!)?.[1] ?? page.url;
    const data = new URLSearchParams();
    for (const input of form[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[1]!)?.[1];
      const value = /value="([^"]*)"/i.exec(input[1]!)?.[1];
      if (name && value !== undefined) data.set(name, value.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&'));
    }
    for (const [k, v] of Object.entries(fields)) data.set(k, v);
    return this.follow(new URL(action.replace(/&amp;/g, '&'), page.url).href, { form: data }, stop);
  }
}
