import { useSession } from './session.tsx';
import type { Me } from './client.ts';

/**
 * What the signed-in caller may do, from GET /api/v1/me (its `permissions`: each with the teams and
 * environment types where it holds). Only to hide or disable what would be refused: the server checks
 * every request itself.
 */
export interface PermissionScope {
  /** The team whose application it is (a ref, e.g. team:default/payments); undefined: the platform as a whole. */
  team?: string | null | undefined;
  /** The environment's type, for what happens in one environment. */
  environmentType?: string | undefined;
}

export function can(me: Me | null, permission: string, scope: PermissionScope = {}): boolean {
  if (!me?.permissions) return me?.roles.includes('admin') ?? false;
  const entry = me.permissions.find((p) => p.permission === permission);
  if (!entry) return false;
  return entry.where.some((w) => {
    if (w.team !== '*' && (scope.team === undefined || w.team !== scope.team)) return false;
    return scope.environmentType === undefined || w.environmentTypes === '*' || w.environmentTypes.includes(scope.environmentType);
  });
}

/** `can` for the signed-in caller. */
export function useCan(): (permission: string, scope?: PermissionScope) => boolean {
  const { me } = useSession();
  return (permission, scope) => can(me, permission, scope);
}
