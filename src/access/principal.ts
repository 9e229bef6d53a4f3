/** Who is calling: the user a bearer token (or a portal session) belongs to. Set by the HTTP layer, passed to domain code. */
export interface Principal {
  userId: string;
  userRef: string;
  userName: string;
  roles: string[];
  tokenId: string;
  tokenName: string;
  tokenExpiresAt: Date | null;
  /** Signed in with a browser session cookie (then tokenId is the session's id), not a bearer token. */
  session?: boolean;
  /** Limits of the API token in use (src/access/tokens.ts); undefined or null fields: no limit. Sessions have none. */
  scopes?: TokenScopes | undefined;
  /** The caller's effective role bindings, loaded once per request by the route kernel (src/access/rbac.ts). */
  grants?: Grant[] | undefined;
}

/** An API token's scopes: at most these permissions, only these teams' applications (team refs). */
export interface TokenScopes {
  permissions: string[] | null;
  teams: string[] | null;
}

/** One effective role binding: a role for a team (a ref, or '*' for all) in some environment types ('*': all). */
export interface Grant {
  role: string;
  team: string;
  environmentTypes: '*' | string[];
  source: 'binding' | 'membership' | 'account';
  /** The binding's id and subject (bindings made with the API). */
  id?: string | undefined;
  subject?: string | undefined;
  createdBy?: string | undefined;
  createdAt?: string | undefined;
}

/**
 * An administrator with nothing held back: an admin account (or an admin role binding for every team),
 * through a session or an unscoped token. A token scoped to some permissions or teams is not an admin.
 */
export const isAdmin = (p: Principal): boolean =>
  !p.scopes?.permissions && !p.scopes?.teams && (p.roles.includes('admin') || (p.grants ?? []).some((g) => g.role === 'admin' && g.team === '*'));
