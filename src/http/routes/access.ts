import { z } from 'zod';
import type { Principal } from '../../access/principal.ts';
import { bindingView, can, effectivePermissions, subjectRef, teamRef, type AccessControl } from '../../access/rbac.ts';
import { tokenView, type TokenService } from '../../access/tokens.ts';
import {
  CreatedTokenSchema,
  MeSchema,
  RoleBindingCreateSchema,
  RoleBindingListSchema,
  RoleBindingQuerySchema,
  RoleBindingSchema,
  TokenCreateSchema,
  TokenListSchema,
  TokenSchema,
  type TokenCreate,
} from '../../contracts/access.ts';
import { NamePathSchema, NamespaceQuerySchema } from '../../contracts/catalog.ts';
import { refOf } from '../../catalog/model.ts';
import { getEntity, relationsOf } from '../../catalog/repository.ts';
import type { Db } from '../../store/db.ts';
import { forbidden, validationError } from '../../errors.ts';
import { defineRoute, type Route } from '../route.ts';

/**
 * The scopes of a new token: the request's, as team refs. A token made with a scoped token may not
 * reach further than it: it gets the creator's scopes when it names none, and is refused when it names more.
 */
function tokenScopes(body: TokenCreate, creator: Principal | undefined): { permissions: string[] | null; teams: string[] | null } {
  const teams = body.teams?.map((t, i) => {
    const ref = teamRef(t);
    if (!ref || ref === '*') throw validationError(`${t} is not a team`, [{ path: `body.teams[${i}]`, message: 'must be a team name or ref' }]);
    return ref;
  }) ?? null;
  const permissions: string[] | null = body.permissions ?? null;
  const limit = creator?.scopes;
  if (limit?.permissions) {
    const beyond = (permissions ?? []).filter((x) => !limit.permissions!.includes(x));
    if (beyond.length) throw forbidden(`this token is limited to ${limit.permissions.join(', ')}: a token made with it may not have ${beyond.join(', ')}`);
  }
  if (limit?.teams) {
    const beyond = (teams ?? []).filter((x) => !limit.teams!.includes(x));
    if (beyond.length) throw forbidden(`this token is limited to ${limit.teams.join(', ')}: a token made with it may not reach ${beyond.join(', ')}`);
  }
  return { permissions: permissions ?? limit?.permissions ?? null, teams: teams ?? limit?.teams ?? null };
}

const Id = z.strictObject({ id: z.uuid() });

export function accessRoutes(db: Db, tokens: TokenService, access: AccessControl): Route[] {
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/me', operationId: 'getMe', summary: 'The signed-in user, their roles, teams, role bindings and permissions', tag: 'access',
      permission: 'authenticated',
      response: { status: 200, description: 'The caller', schema: MeSchema },
      handler: async ({ principal }) => {
        const p = await access.withGrants(principal, true);
        const [user, relations] = await Promise.all([getEntity(db, p.userRef), relationsOf(db, p.userRef)]);
        const profile = ((user.spec as { profile?: { email?: string } }).profile ?? {}) as { email?: string };
        return {
          user: { ref: user.ref, name: user.name, title: user.title, email: profile.email ?? null },
          roles: p.roles,
          teams: relations.filter((r) => r.type === 'memberOf').map((r) => r.targetRef),
          token: {
            id: p.tokenId, name: p.tokenName, expiresAt: p.tokenExpiresAt?.toISOString() ?? null,
            permissions: p.scopes?.permissions ?? null, teams: p.scopes?.teams ?? null,
          },
          bindings: (p.grants ?? []).map((g) => bindingView(g, p.userRef)),
          permissions: effectivePermissions(p),
        };
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/tokens', operationId: 'listTokens', summary: "List the caller's API tokens (never their secrets)", tag: 'access',
      permission: 'authenticated',
      response: { status: 200, description: 'Tokens', schema: TokenListSchema },
      handler: async ({ principal: p }) => ({ items: (await tokens.list(p.userId)).map((t) => tokenView(t, p.userRef)) }),
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/tokens', operationId: 'createToken', summary: 'Create an API token for the caller, optionally scoped to some permissions and teams', tag: 'access',
      description: 'A scoped token may do at most what its user may, within its permissions and teams. A token made with a scoped token is scoped as narrowly (or more).',
      permission: 'authenticated',
      body: TokenCreateSchema, errors: [403, 409], response: { status: 201, description: 'The token, with its secret shown this once', schema: CreatedTokenSchema },
      handler: async ({ principal: p, body }) => {
        const { token, row } = await tokens.create(p.userId, body.name, { expiresInDays: body.expiresInDays, ...tokenScopes(body, p) });
        return { ...tokenView(row, p.userRef), token };
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/tokens/:id', operationId: 'revokeToken', summary: 'Revoke an API token (with token.manage, anyone\'s)', tag: 'access',
      permission: 'authenticated',
      params: z.strictObject({ id: z.string().uuid() }), errors: [404], response: { status: 200, description: 'The revoked token', schema: TokenSchema },
      handler: async ({ principal: p, params }) => {
        const row = await tokens.revoke(p.userId, params.id, can(p, 'token.manage'));
        // an admin may revoke another user's token: name that user, not the caller
        const owner = row.user_id === p.userId ? p.userRef : (await db.selectFrom('entities').select('ref').where('id', '=', row.user_id).executeTakeFirstOrThrow()).ref;
        return tokenView(row, owner);
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/users/:name/tokens', operationId: 'createUserToken', summary: 'Issue an API token to a user (admin)', tag: 'access',
      permission: { name: 'token.manage' },
      params: NamePathSchema, query: NamespaceQuerySchema, body: TokenCreateSchema, errors: [403, 404, 409],
      response: { status: 201, description: 'The token, with its secret shown this once', schema: CreatedTokenSchema },
      handler: async ({ params, query, body }) => {
        const user = await getEntity(db, refOf('user', query.namespace, params.name));
        const { token, row } = await tokens.create(user.id, body.name, { expiresInDays: body.expiresInDays, ...tokenScopes(body, undefined) });
        return { ...tokenView(row, user.ref), token };
      },
    }),

    // ---- role bindings ----
    defineRoute({
      method: 'GET', url: '/api/v1/role-bindings', operationId: 'listRoleBindings', summary: 'Role bindings (admins); with user, that user\'s effective bindings', tag: 'access',
      permission: { name: 'user.manage' },
      query: RoleBindingQuerySchema, errors: [403], response: { status: 200, description: 'Bindings', schema: RoleBindingListSchema },
      handler: async ({ query }) => {
        if (query.user) {
          const ref = subjectRef(query.user.includes(':') ? query.user : `user:${query.user}`);
          if (!ref?.startsWith('user:')) throw validationError(`${query.user} is not a user`, [{ path: 'query.user', message: 'must be a user name or ref' }]);
          return { items: await access.effective(ref) };
        }
        return { items: await access.list(query) };
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/role-bindings/:id', operationId: 'getRoleBinding', summary: 'One role binding (admins)', tag: 'access',
      permission: { name: 'user.manage' },
      params: Id, errors: [403, 404], response: { status: 200, description: 'The binding', schema: RoleBindingSchema },
      handler: async ({ params }) => access.get(params.id),
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/role-bindings', operationId: 'createRoleBinding', summary: 'Bind a user, or every member of a team, to a role for a team (or all) and some environment types (admins)', tag: 'access',
      description: 'E.g. {"subject": "user:alice", "role": "deployer", "team": "payments", "environmentTypes": ["production"]}: Alice may deploy, release and run actions in production environments of the applications of team payments.',
      permission: { name: 'user.manage' },
      body: RoleBindingCreateSchema, errors: [403, 409], response: { status: 201, description: 'The binding', schema: RoleBindingSchema },
      handler: async ({ body, principal, reply }) => {
        const b = await access.create(body, principal.userRef);
        reply.header('location', `/api/v1/role-bindings/${b.id}`);
        return b;
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/role-bindings/:id', operationId: 'deleteRoleBinding', summary: 'Remove a role binding (admins)', tag: 'access',
      permission: { name: 'user.manage' },
      params: Id, errors: [403, 404], response: { status: 200, description: 'The removed binding', schema: RoleBindingSchema },
      handler: ({ params }) => access.remove(params.id),
    }),
  ];
}
