import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useSession } from '../api/session.tsx';
import { Loading } from './Loading.tsx';

/** Pages behind it need a signed-in user; others go to /sign-in and come back here afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'checking') return <Loading label="Checking your sign-in" fullScreen />;
  if (status === 'signed-out') {
    const next = location.pathname + location.search + location.hash;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return children;
}
