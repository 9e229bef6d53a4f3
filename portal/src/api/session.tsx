import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, createApiClient, type ApiClient, type Me } from './client.ts';

export const TOKEN_KEY = 'pave.token';

type Status = 'checking' | 'signed-in' | 'signed-out';

export interface Session {
  status: Status;
  me: Me | null;
  token: string | null;
  /** A client that sends the session's token, and signs out when the server no longer accepts it. */
  api: ApiClient;
  /** Checks the token with GET /api/v1/me; stores it on success, throws the ApiError otherwise. */
  signIn(token: string): Promise<Me>;
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
  const [me, setMe] = useState<Me | null>(null);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);
  const [checkFailed, setCheckFailed] = useState(false);

  const signOut = useCallback(() => {
    writeToken(null);
    setToken(null);
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

  // A stored token is checked once per page load; until then pages wait.
  useEffect(() => {
    if (!token || me) return;
    const ctl = new AbortController();
    api
      .me(ctl.signal)
      .then((m) => setMe(m))
      .catch((err: unknown) => {
        if (ctl.signal.aborted) return;
        if (!(err instanceof ApiError && err.status === 401)) setCheckFailed(true);
      });
    return () => ctl.abort();
  }, [api, token, me]);

  const signIn = useCallback(async (candidate: string) => {
    const m = await createApiClient({ token: candidate }).me();
    writeToken(candidate);
    setEndedBecause(null);
    setCheckFailed(false);
    setMe(m);
    setToken(candidate);
    return m;
  }, []);

  const status: Status = !token ? 'signed-out' : me ? 'signed-in' : checkFailed ? 'signed-out' : 'checking';
  const value = useMemo<Session>(
    () => ({ status, me, token, api, signIn, signOut, endedBecause: checkFailed ? 'The Pave server could not check your token. Try again.' : endedBecause }),
    [status, me, token, api, signIn, signOut, endedBecause, checkFailed],
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
