import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, createApiClient, csrfToken, type ApiClient, type Me } from './client.ts';

export const TOKEN_KEY = 'pave.token';

type Status = 'checking' | 'signed-in' | 'signed-out';

/**
 * How the portal is signed in: with a pasted API token (kept in localStorage, sent as a bearer token),
 * or with the server's session cookie (after a password or identity-provider sign-in; HTTP-only, so the
 * portal only knows of it through the readable CSRF cookie that comes with it).
 */
export type SessionMode = 'token' | 'cookie';

export interface Session {
  status: Status;
  me: Me | null;
  /** The pasted API token (token mode); null in cookie mode. */
  token: string | null;
  mode: SessionMode | null;
  /** A client that sends the session's token (or cookie and CSRF header), and signs out when the server no longer accepts it. */
  api: ApiClient;
  /** Checks the token with GET /api/v1/me; stores it on success, throws the ApiError otherwise. */
  signIn(token: string): Promise<Me>;
  /** Signs in a local user with a password (cookie session); throws the ApiError otherwise. */
  signInWithPassword(user: string, password: string): Promise<Me>;
  signOut(): void;
  /** A problem that ended the session on its own (e.g. a revoked token), shown on the sign-in page. */
  endedBecause: string | null;
}

const SessionContext = createContext<Session | null>(null);

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the session lasts as long as the page.
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(readToken);
  // Without a token, a CSRF cookie tells that a cookie session may be there: check it with /me.
  const [cookie, setCookie] = useState<boolean>(() => !readToken() && csrfToken() !== null);
  const [me, setMe] = useState<Me | null>(null);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);
  const [checkFailed, setCheckFailed] = useState(false);

  const signOut = useCallback(() => {
    // A cookie session ends on the server too (which clears its cookies); a token stays valid until revoked.
    // It ends after the pages have unmounted (which aborts their polls), so that no request in flight
    // meets an ended session and answers 401.
    if (csrfToken() !== null) setTimeout(() => void createApiClient({ token: null }).logout().catch(() => undefined), 0);
    writeToken(null);
    setToken(null);
    setCookie(false);
    setMe(null);
  }, []);

  const api = useMemo(
    () =>
      createApiClient({
        token,
        onUnauthorized: (err) => {
          setEndedBecause(`You were signed out: ${err.message}.`);
          signOut();
        },
      }),
    [token, signOut],
  );

  // A stored token or cookie session is checked once per page load; until then pages wait.
  useEffect(() => {
    if ((!token && !cookie) || me) return;
    const ctl = new AbortController();
    api
      .me(ctl.signal)
      .then((m) => setMe(m))
      .catch((err: unknown) => {
        if (ctl.signal.aborted) return;
        if (!(err instanceof ApiError && err.status === 401)) setCheckFailed(true);
      });
    return () => ctl.abort();
  }, [api, token, cookie, me]);

  const signIn = useCallback(async (candidate: string) => {
    const m = await createApiClient({ token: candidate }).me();
    writeToken(candidate);
    setEndedBecause(null);
    setCheckFailed(false);
    setCookie(false);
    setMe(m);
    setToken(candidate);
    return m;
  }, []);

  const signInWithPassword = useCallback(async (user: string, password: string) => {
    const client = createApiClient({ token: null });
    await client.passwordLogin(user, password);
    const m = await client.me();
    writeToken(null);
    setToken(null);
    setEndedBecause(null);
    setCheckFailed(false);
    setCookie(true);
    setMe(m);
    return m;
  }, []);

  const active = token !== null || cookie;
  const status: Status = !active ? 'signed-out' : me ? 'signed-in' : checkFailed ? 'signed-out' : 'checking';
  const mode: SessionMode | null = token ? 'token' : cookie ? 'cookie' : null;
  const value = useMemo<Session>(
    () => ({
      status, me, token, mode, api, signIn, signInWithPassword, signOut,
      endedBecause: checkFailed ? 'The Pave server could not check your sign-in. Try again.' : endedBecause,
    }),
    [status, me, token, mode, api, signIn, signInWithPassword, signOut, endedBecause, checkFailed],
  );
  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): Session {
  const s = use(SessionContext);
  if (!s) throw new Error('useSession must be used inside <SessionProvider>');
  return s;
}

export function useApi(): ApiClient {
  return useSession().api;
}
