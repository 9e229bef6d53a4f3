import type { CatalogService } from '../catalog/service.ts';
import type { Db } from '../store/db.ts';
import { IdentityService } from './identity.ts';
import { parseTeamMapping } from './mapping.ts';
import { OidcService, type OidcSettings } from './oidc.ts';
import { PasswordService } from './passwords.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './ratelimit.ts';
import { DEFAULT_SESSION_SETTINGS, SessionService, type SessionSettings } from './sessions.ts';

/** How people sign in (see the README's configuration reference): OIDC when an issuer is set, local passwords always. */
export interface AuthSettings {
  oidc?: (OidcSettings & { groupsClaim?: string | undefined; teamMapping?: string | undefined }) | undefined;
  /**
   * The URL people reach Pave at (PAVE_PUBLIC_URL): the OIDC redirect URI is `<publicUrl>/api/v1/auth/oidc/callback`,
   * and cookies are `Secure` when it is https. Default: the URL the server listens on (set once listening).
   */
  publicUrl?: string | undefined;
  session?: Partial<SessionSettings> | undefined;
  login?: Partial<LoginLimits> | undefined;
}

export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';
export const DEFAULT_OIDC_SCOPES = 'openid profile email groups';

/** The identity services, wired once (src/services.ts). */
export class Auth {
  readonly sessions: SessionService;
  readonly passwords: PasswordService;
  readonly limiter: LoginLimiter;
  /** Undefined without an issuer: the OIDC routes answer 404. */
  readonly oidc: OidcService | undefined;
  readonly identities: IdentityService | undefined;
  private publicUrlValue: string | undefined;

  constructor(db: Db, catalog: CatalogService, settings: AuthSettings = {}) {
    this.publicUrlValue = settings.publicUrl?.replace(/\/+$/, '');
    this.sessions = new SessionService(db, { ...DEFAULT_SESSION_SETTINGS, ...defined(settings.session) });
    this.passwords = new PasswordService(db);
    this.limiter = new LoginLimiter(db, { ...DEFAULT_LOGIN_LIMITS, ...defined(settings.login) });
    const o = settings.oidc;
    if (o?.issuer) {
      // a bad mapping stops the server at start, with the rule that is wrong
      let mapping: ReturnType<typeof parseTeamMapping>;
      try {
        mapping = parseTeamMapping(o.teamMapping);
      } catch (err) {
        throw new Error(`PAVE_OIDC_TEAM_MAPPING: ${(err as Error).message}`, { cause: err });
      }
      this.oidc = new OidcService(db, { issuer: o.issuer, clientId: o.clientId, clientSecret: o.clientSecret, scopes: o.scopes || DEFAULT_OIDC_SCOPES, displayName: o.displayName }, () => this.publicUrl() + OIDC_CALLBACK_PATH);
      this.identities = new IdentityService(db, catalog, { mapping, groupsClaim: o.groupsClaim || 'groups' });
    } else {
      this.oidc = undefined;
      this.identities = undefined;
    }
  }

  /** The public URL, once known (PAVE_PUBLIC_URL, or the listen URL once the server listens). */
  publicUrl(): string {
    if (!this.publicUrlValue) throw new Error('the public URL is not known yet (set PAVE_PUBLIC_URL)');
    return this.publicUrlValue;
  }

  /** Called with the listen URL once listening; PAVE_PUBLIC_URL wins when it was set. */
  listening(url: string): void {
    this.publicUrlValue ??= url.replace(/\/+$/, '');
  }

  /** Cookies are Secure (and `__Host-` prefixed) when people reach Pave over https. */
  secureCookies(): boolean {
    return !!this.publicUrlValue?.startsWith('https:');
  }
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
