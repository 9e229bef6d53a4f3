/** Who is calling: the user a bearer token belongs to. Set by the HTTP layer, passed to domain code. */
export interface Principal {
  userId: string;
  userRef: string;
  userName: string;
  roles: string[];
  tokenId: string;
  tokenName: string;
  tokenExpiresAt: Date | null;
}

export const isAdmin = (p: Principal) => p.roles.includes('admin');
