import type { Me } from '../../api/client.ts';

/**
 * Whether the caller holds one of `permissions` for some team (or everywhere): for what the server
 * narrows to what the caller may touch (a plan holds only the applications they may read). Only to
 * hide what would be refused; the server checks every request itself.
 */
export function mayAnywhere(me: Me | null, permissions: string[]): boolean {
  if (!me) return false;
  if (!me.permissions) return me.roles.includes('admin');
  return me.permissions.some((p) => permissions.includes(p.permission) && p.where.length > 0);
}
