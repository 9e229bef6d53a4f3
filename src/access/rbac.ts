import { sql } from 'kysely';
import { PERMISSIONS, ROLES, type Permission, type Role, type RoleBinding, type RoleBindingCreate } from '../contracts/access.ts';
import { toRef } from '../catalog/model.ts';
import { conflict, notFound, PaveError, validationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { RoleBindingRow } from '../store/schema.ts';
import { isAdmin, type Grant, type Principal } from './principal.ts';

/**
 * Role-based access control. Every route declares the permission it needs and where its scope comes
 * from (src/http/route.ts); the route kernel resolves the scope (the application → its owning team;
 * the environment → its type) and calls `authorize` here, once, before the handler.
 *
 * A caller's rights are the union of their grants: the roles of their user account (the first admin),
 * the role bindings made for them or for a team they are a member of, and `developer` of every team
 * they are a member of (in development, staging and preview environments). An API token may be scoped
 * to some permissions and some teams: it may then do at most the intersection of its user's rights and
 * its scopes.
 */

/** The role → permission table (documented in the README's "Access control" section). */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  'platform-engineer': ['catalog.read', 'catalog.write', 'platform.read', 'platform.write', 'policy.write', 'application.read', 'audit.read'],
  developer: [
    'catalog.read', 'platform.read', 'application.read', 'application.create', 'application.write',
    'environment.write', 'config.write', 'deploy', 'release', 'action.run', 'secret.read',
  ],
  deployer: ['catalog.read', 'platform.read', 'application.read', 'deploy', 'release', 'action.run'],
  viewer: ['catalog.read', 'platform.read', 'application.read'],
};

/** What every signed-in user may do, bound or not: the catalog and the golden paths are public inside the company. */
export const EVERYONE: readonly Permission[] = ['catalog.read', 'platform.read'];

/** Permissions over the whole platform: only bindings for every team (`*`) grant them. */
export const PLATFORM_WIDE: ReadonlySet<Permission> = new Set(['catalog.write', 'platform.write', 'policy.write', 'audit.read', 'token.manage', 'user.manage']);

/** Permissions that hold only in the environment types a binding names. */
export const ENVIRONMENT_BOUND: ReadonlySet<Permission> = new Set(['environment.write', 'config.write', 'deploy', 'release', 'action.run', 'secret.read']);

/** The environment types in which a team member is a developer of the team's applications, without any binding. */
export const MEMBER_ENVIRONMENT_TYPES: readonly string[] = ['development', 'staging', 'preview'];

/**
 * What a request concerns. `team` undefined: the platform as a whole; null: an application that no team
 * owns (only bindings for every team cover it). `environmentType` undefined: no particular environment.
 * `missing`: the application (or run) does not exist, so nothing can be done to it: holding the
 * permission for any team lets the request through to its handler, which answers 404.
 */
export interface Scope {
  team?: string | null | undefined;
  environmentType?: string | undefined;
  /** Every environment type the application has (for what concerns all its environments, e.g. deleting it). */
  environmentTypes?: string[] | undefined;
  application?: string | undefined;
  environment?: string | undefined;
  missing?: boolean | undefined;
}

/** Where a scope comes from, before it is looked up. */
export type ScopeTarget =
  | { kind: 'global' }
  | { kind: 'team'; team: string; environmentType?: string | undefined }
  /** `environment: '*'`: every environment the application has (their types must all be covered). */
  | { kind: 'application'; application: string; environment?: string | undefined; environmentType?: string | undefined }
  | { kind: 'run'; run: string };

export const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

const accountAdmin = (p: Principal) => p.roles.includes('admin');

/**
 * Whether the caller is an administrator with nothing held back: an admin account or an admin binding
 * for every team, through a session or an unscoped token (a scoped token of an admin is not an admin).
 */
export const isFullAdmin = isAdmin;

function describeScope(permission: Permission, s: Scope): string {
  if (PLATFORM_WIDE.has(permission) || (s.team === undefined && !s.application)) return 'on the whole platform';
  if (s.team === undefined) return `for ${s.application}`;
  const team = s.team === null ? `${s.application ?? 'an application'} (owned by no team)` : s.team;
  const env = ENVIRONMENT_BOUND.has(permission) && s.environmentType ? ` in ${s.environmentType} environments` : '';
  return `for ${team}${env}`;
}

/** Why a grant does or does not cover a permission in a scope. */
function covers(g: Grant, permission: Permission, s: Scope): boolean {
  if (!isRole(g.role) || !ROLE_PERMISSIONS[g.role].includes(permission)) return false;
  if (PLATFORM_WIDE.has(permission)) {
    if (g.team !== '*') return false;
  } else if (s.missing) {
    // nothing to act on: the permission for any team lets the handler answer 404
  } else if (s.team === undefined || s.team === null) {
    if (g.team !== '*') return false;
  } else if (g.team !== '*' && g.team !== s.team) return false;
  if (ENVIRONMENT_BOUND.has(permission) && s.environmentType !== undefined && g.environmentTypes !== '*' && !g.environmentTypes.includes(s.environmentType)) return false;
  return true;
}

export interface Decision {
  allowed: boolean;
  /** Why not, naming the permission and the scope. */
  reason?: string;
}

const rolesWith = (permission: Permission) => ROLES.filter((r) => ROLE_PERMISSIONS[r].includes(permission)).join(', ');

/** The decision, without throwing: the user's grants, within the scopes of the token in use. */
export function decide(p: Principal, permission: Permission, scope: Scope = {}): Decision {
  const where = `${describeScope(permission, scope)} (roles with it: ${rolesWith(permission)})`;
  const limits = p.scopes;
  if (limits?.permissions && !limits.permissions.includes(permission)) {
    return { allowed: false, reason: `permission "${permission}" is needed ${where}, and this token is limited to ${limits.permissions.join(', ')}` };
  }
  if (limits?.teams && !(EVERYONE.includes(permission) && scope.team === undefined) && !scope.missing) {
    if (typeof scope.team !== 'string' || !limits.teams.includes(scope.team)) {
      return { allowed: false, reason: `permission "${permission}" is needed ${where}, and this token is limited to ${limits.teams.join(', ')}` };
    }
  }
  if (accountAdmin(p) || EVERYONE.includes(permission)) return { allowed: true };
  if (ENVIRONMENT_BOUND.has(permission) && scope.environmentTypes?.length && scope.environmentType === undefined) {
    // each environment type the application has, by some grant
    for (const environmentType of scope.environmentTypes) {
      const one = { ...scope, environmentType, environmentTypes: undefined };
      if (!(p.grants ?? []).some((g) => covers(g, permission, one))) return { allowed: false, reason: `permission "${permission}" is needed ${describeScope(permission, one)} (roles with it: ${rolesWith(permission)}), as ${scope.application ?? 'the application'} has ${environmentType} environments` };
    }
    return { allowed: true };
  }
  if ((p.grants ?? []).some((g) => covers(g, permission, scope))) return { allowed: true };
  return { allowed: false, reason: `permission "${permission}" is needed ${where}` };
}

/** A 403 that names the permission and the scope (also as problem+json members). */
export class ForbiddenError extends PaveError {
  /** The permission lacked; `admin` for a route that declares none (only admins may call it). */
  readonly permission: Permission | 'admin';
  readonly scope: Record<string, unknown>;
  constructor(permission: Permission | 'admin', scope: Scope, reason: string) {
    super(403, 'forbidden', 'Forbidden', reason);
    this.permission = permission;
    const p = permission as Permission;
    const team = PLATFORM_WIDE.has(p) || permission === 'admin' || scope.team === undefined ? '*' : scope.team;
    this.scope = {
      team,
      ...(scope.application ? { application: scope.application } : {}),
      ...(scope.environment ? { environment: scope.environment } : {}),
      ...(ENVIRONMENT_BOUND.has(p) && scope.environmentType ? { environmentType: scope.environmentType } : {}),
    };
  }

  /** Extra problem+json members (src/http/problem.ts). */
  get extensions(): Record<string, unknown> {
    return { permission: this.permission, scope: this.scope };
  }
}

/** The one check: throws a 403 naming the permission and the scope unless the caller may. */
export function authorize(p: Principal, permission: Permission, scope: Scope = {}): void {
  const d = decide(p, permission, scope);
  if (!d.allowed) throw new ForbiddenError(permission, scope, d.reason ?? `permission "${permission}" is needed`);
}

/** Whether the caller may, without throwing (e.g. to filter a list, or decide what a handler does). */
export const can = (p: Principal, permission: Permission, scope: Scope = {}): boolean => decide(p, permission, scope).allowed;

/** Where a permission holds: for a team (or `*`), in some environment types (or `*`; only environment-bound permissions care). */
export interface PermissionPlace {
  team: string;
  environmentTypes: '*' | string[];
}

/**
 * What the caller may do, per permission: for every team (`*`) or some, and where exactly (team and
 * environment types), within the token's scopes. For clients (the portal) to show only what works.
 */
export function effectivePermissions(p: Principal): { permission: Permission; teams: '*' | string[]; where: PermissionPlace[] }[] {
  const out: { permission: Permission; teams: '*' | string[]; where: PermissionPlace[] }[] = [];
  const limitTeams = p.scopes?.teams ?? null;
  for (const permission of PERMISSIONS) {
    if (p.scopes?.permissions && !p.scopes.permissions.includes(permission)) continue;
    let where: PermissionPlace[];
    if (accountAdmin(p) || EVERYONE.includes(permission)) where = [{ team: '*', environmentTypes: '*' }];
    else {
      where = (p.grants ?? [])
        .filter((g) => isRole(g.role) && ROLE_PERMISSIONS[g.role].includes(permission) && (g.team === '*' || !PLATFORM_WIDE.has(permission)))
        .map((g) => ({ team: g.team, environmentTypes: ENVIRONMENT_BOUND.has(permission) ? g.environmentTypes : '*' }));
    }
    if (limitTeams && !EVERYONE.includes(permission)) {
      if (PLATFORM_WIDE.has(permission)) continue;
      where = where.flatMap((w) => (w.team === '*' ? limitTeams.map((team) => ({ ...w, team })) : limitTeams.includes(w.team) ? [w] : []));
    }
    if (where.length === 0) continue;
    const teams: '*' | string[] = where.some((w) => w.team === '*') ? '*' : [...new Set(where.map((w) => w.team))].sort();
    out.push({ permission, teams, where });
  }
  return out;
}

// ---- bindings -------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date | string) => new Date(d).toISOString();

/** `payments`, `team:payments`, `group:default/payments` → `team:default/payments`; '*' stays. */
export function teamRef(input: string): string | undefined {
  if (input === '*') return '*';
  const ref = toRef(input, { kind: 'team', namespace: 'default' });
  return ref?.startsWith('team:') ? ref : undefined;
}

/** `user:alice` → `user:default/alice`; `team:sre`, `group:sre` → `team:default/sre`. */
export function subjectRef(input: string): string | undefined {
  const ref = toRef(input, { namespace: 'default' });
  return ref && (ref.startsWith('user:') || ref.startsWith('team:')) ? ref : undefined;
}

export function bindingView(g: Grant, subject: string): RoleBinding {
  return {
    id: g.id ?? null, subject: g.subject ?? subject, role: g.role as Role, team: g.team, environmentTypes: g.environmentTypes, source: g.source,
    createdBy: g.createdBy ?? null, createdAt: g.createdAt ?? null,
  };
}

const grantOf = (row: Pick<RoleBindingRow, 'id' | 'subject' | 'role' | 'team' | 'environment_types' | 'created_by' | 'created_at'>): Grant => ({
  role: row.role, team: row.team, environmentTypes: row.environment_types.includes('*') ? '*' : row.environment_types, source: 'binding',
  id: row.id, subject: row.subject, createdBy: row.created_by, createdAt: iso(row.created_at),
});

/** Bindings, grants and scopes, over the store. */
export class AccessControl {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * The caller with their grants, for one request (the token cache shares principals between requests,
   * so the grants go on a copy). An admin account needs no query, unless `full` (GET /api/v1/me).
   */
  async withGrants(p: Principal, full = false): Promise<Principal> {
    if (p.grants && !full) return p;
    if (accountAdmin(p) && !full) return { ...p, grants: this.accountGrants(p.userRef, p.roles) };
    return { ...p, grants: await this.grants(p.userRef, p.roles) };
  }

  private accountGrants(userRef: string, roles: string[]): Grant[] {
    return roles.filter(isRole).map((role) => ({ role, team: '*', environmentTypes: '*' as const, source: 'account' as const, subject: userRef }));
  }

  /** Every grant of a user: account roles, team memberships (developer), bindings of the user and of their teams. One query. */
  async grants(userRef: string, roles: string[]): Promise<Grant[]> {
    const { rows } = await sql<{ source: 'membership' | 'binding'; id: string | null; subject: string; role: string; team: string; environment_types: string[] | null; created_by: string | null; created_at: Date | null }>`
      WITH teams AS (
        SELECT r.target_ref AS team FROM relations r JOIN entities o ON o.id = r.origin_id
         WHERE o.ref = ${userRef} AND r.type = 'memberOf' AND r.target_ref LIKE 'team:%'
        UNION
        SELECT r.source_ref FROM relations r WHERE r.target_ref = ${userRef} AND r.type = 'hasMember' AND r.source_ref LIKE 'team:%'
      )
      SELECT 'membership' AS source, NULL::text AS id, t.team AS subject, 'developer' AS role, t.team AS team, NULL::text[] AS environment_types, NULL::text AS created_by, NULL::timestamptz AS created_at
        FROM teams t
      UNION ALL
      SELECT 'binding', b.id::text, b.subject, b.role, b.team, b.environment_types, b.created_by, b.created_at
        FROM role_bindings b
       WHERE b.subject = ${userRef} OR b.subject IN (SELECT team FROM teams)`.execute(this.db);
    const out = this.accountGrants(userRef, roles);
    for (const r of rows.sort((a, b) => (a.source === b.source ? a.team.localeCompare(b.team) || a.role.localeCompare(b.role) : a.source === 'membership' ? -1 : 1))) {
      if (r.source === 'membership') out.push({ role: 'developer', team: r.team, environmentTypes: [...MEMBER_ENVIRONMENT_TYPES], source: 'membership', subject: r.subject });
      else out.push(grantOf({ id: r.id!, subject: r.subject, role: r.role, team: r.team, environment_types: r.environment_types ?? ['*'], created_by: r.created_by ?? '', created_at: r.created_at ?? new Date() }));
    }
    return out;
  }

  /** The effective bindings of any user (for admins: GET /api/v1/role-bindings?user=). */
  async effective(userRef: string): Promise<RoleBinding[]> {
    const account = await this.db.selectFrom('user_accounts as a').innerJoin('entities as u', 'u.id', 'a.user_id').select('a.roles').where('u.ref', '=', userRef).executeTakeFirst();
    return (await this.grants(userRef, account?.roles ?? [])).map((g) => bindingView(g, userRef));
  }

  /**
   * Looks a scope up: an application's owning team and an environment's type, in one query. Nothing
   * found: `missing` (the handler answers 404). A run: its application and environment.
   */
  async scopeOf(t: ScopeTarget): Promise<Scope> {
    if (t.kind === 'global') return {};
    if (t.kind === 'team') return { team: t.team, ...(t.environmentType ? { environmentType: t.environmentType } : {}) };
    if (t.kind === 'run') {
      if (!UUID.test(t.run)) return { missing: true };
      const row = await this.db
        .selectFrom('action_runs as r')
        .innerJoin('entities as e', 'e.id', 'r.entity_id')
        .innerJoin('environments as env', 'env.id', 'r.environment_id')
        .select(['e.ref', 'e.owner_ref', 'env.name', 'env.type'])
        .where('r.id', '=', t.run)
        .executeTakeFirst();
      if (!row) return { missing: true };
      return { team: ownerTeam(row.owner_ref), application: row.ref, environment: row.name, environmentType: row.type };
    }
    const env = t.environment;
    if (env === '*') {
      const row = await this.db
        .selectFrom('entities as e')
        .leftJoin('environments as env', 'env.entity_id', 'e.id')
        .select(['e.owner_ref', sql<string[] | null>`array_agg(DISTINCT env.type) FILTER (WHERE env.type IS NOT NULL)`.as('types')])
        .where('e.ref', '=', t.application)
        .where('e.kind', '=', 'application')
        .groupBy('e.owner_ref')
        .executeTakeFirst();
      if (!row) return { application: t.application, missing: true };
      return { team: ownerTeam(row.owner_ref), application: t.application, environmentTypes: (row.types ?? []).sort() };
    }
    const row = await this.db
      .selectFrom('entities as e')
      .leftJoin('environments as env', (j) => j.onRef('env.entity_id', '=', 'e.id').on('env.name', '=', env ?? ''))
      .select(['e.owner_ref', 'env.type'])
      .where('e.ref', '=', t.application)
      .where('e.kind', '=', 'application')
      .executeTakeFirst();
    if (!row) return { application: t.application, missing: true };
    return {
      team: ownerTeam(row.owner_ref), application: t.application,
      ...(env !== undefined ? { environment: env } : {}),
      ...(t.environmentType !== undefined ? { environmentType: t.environmentType } : row.type ? { environmentType: row.type } : {}),
    };
  }

  /** Which of these applications (refs) the caller holds a permission for: to filter a list. One query. */
  async readable(p: Principal, permission: Permission, refs: string[]): Promise<Set<string>> {
    if (refs.length === 0) return new Set();
    const caller = await this.withGrants(p);
    const rows = await this.db.selectFrom('entities').select(['ref', 'owner_ref']).where('ref', 'in', refs).execute();
    return new Set(rows.filter((r) => can(caller, permission, { team: ownerTeam(r.owner_ref), application: r.ref })).map((r) => r.ref));
  }

  async list(filter: { subject?: string | undefined; team?: string | undefined; role?: string | undefined } = {}): Promise<RoleBinding[]> {
    let q = this.db.selectFrom('role_bindings').selectAll().orderBy('team').orderBy('subject').orderBy('role');
    if (filter.subject) q = q.where('subject', '=', subjectRef(filter.subject) ?? filter.subject.toLowerCase());
    if (filter.team) q = q.where('team', '=', teamRef(filter.team) ?? filter.team.toLowerCase());
    if (filter.role) q = q.where('role', '=', filter.role);
    return (await q.execute()).map((r) => bindingView(grantOf(r), r.subject));
  }

  async create(input: RoleBindingCreate, by: string): Promise<RoleBinding> {
    const subject = subjectRef(input.subject);
    if (!subject) throw validationError(`subject ${input.subject} is neither a user nor a team`, [{ path: 'body.subject', message: 'must be user:<name> or team:<name>' }]);
    const team = teamRef(input.team ?? '*');
    if (!team) throw validationError(`team ${input.team} is not a team`, [{ path: 'body.team', message: 'must be a team name or ref, or *' }]);
    const types = input.environmentTypes === undefined || input.environmentTypes === '*' ? ['*'] : [...new Set(input.environmentTypes)].sort();
    try {
      const row = await this.db
        .insertInto('role_bindings')
        .values({ subject, role: input.role, team, environment_types: types, created_by: by })
        .returningAll()
        .executeTakeFirstOrThrow();
      return bindingView(grantOf(row), subject);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict(`${subject} is already bound as ${input.role} for ${team === '*' ? 'every team' : team}: delete that binding first to change it`);
      throw err;
    }
  }

  async get(id: string): Promise<RoleBinding> {
    const row = await this.db.selectFrom('role_bindings').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`role binding ${id}`);
    return bindingView(grantOf(row), row.subject);
  }

  async remove(id: string): Promise<RoleBinding> {
    const row = await this.db.deleteFrom('role_bindings').where('id', '=', id).returningAll().executeTakeFirst();
    if (!row) throw notFound(`role binding ${id}`);
    return bindingView(grantOf(row), row.subject);
  }

  /** A user or team was deleted: its bindings go with it (a new entity of the same name starts without them). */
  async forget(ref: string): Promise<void> {
    await this.db.deleteFrom('role_bindings').where((eb) => eb.or([eb('subject', '=', ref), eb('team', '=', ref)])).execute();
  }
}

/** An application's owner, when it is a team (an application a user owns has no team). */
function ownerTeam(owner: string | null): string | null {
  return owner && owner.startsWith('team:') ? owner : null;
}
