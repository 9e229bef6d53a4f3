import { z } from 'zod';
import { isAdmin } from '../../access/principal.ts';
import { tokenView, type TokenService } from '../../access/tokens.ts';
import { CreatedTokenSchema, MeSchema, TokenCreateSchema, TokenListSchema, TokenSchema } from '../../contracts/access.ts';
import { NamePathSchema, NamespaceQuerySchema } from '../../contracts/catalog.ts';
import { refOf } from '../../catalog/model.ts';
import { getEntity, relationsOf } from '../../catalog/repository.ts';
import type { Db } from '../../store/db.ts';
import { forbidden } from '../../errors.ts';
import { defineRoute, type Route } from '../route.ts';

export function accessRoutes(db: Db, tokens: TokenService): Route[] {
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/me', operationId: 'getMe', summary: 'The signed-in user, their roles and teams', tag: 'access',
      response: { status: 200, description: 'The caller', schema: MeSchema },
      handler: async ({ principal: p }) => {
        const [user, relations] = await Promise.all([getEntity(db, p.userRef), relationsOf(db, p.userRef)]);
        const profile = ((user.spec as { profile?: { email?: string } }).profile ?? {}) as { email?: string };
        return {
          user: { ref: user.ref, name: user.name, title: user.title, email: profile.email ?? null },
          roles: p.roles,
          teams: relations.filter((r) => r.type === 'memberOf').map((r) => r.targetRef),
          token: { id: p.tokenId, name: p.tokenName, expiresAt: p.tokenExpiresAt?.toISOString() ?? null },
        };
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/tokens', operationId: 'listTokens', summary: "List the caller's API tokens (never their secrets)", tag: 'access',
      response: { status: 200, description: 'Tokens', schema: TokenListSchema },
      handler: async ({ principal: p }) => ({ items: (await tokens.list(p.userId)).map((t) => tokenView(t, p.userRef)) }),
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/tokens', operationId: 'createToken', summary: 'Create an API token for the caller', tag: 'access',
      body: TokenCreateSchema, errors: [409], response: { status: 201, description: 'The token, with its secret shown this once', schema: CreatedTokenSchema },
      handler: async ({ principal: p, body }) => {
        const { token, row } = await tokens.create(p.userId, body.name, { expiresInDays: body.expiresInDays });
        return { ...tokenView(row, p.userRef), token };
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/tokens/:id', operationId: 'revokeToken', summary: 'Revoke an API token (admins may revoke anyone\'s)', tag: 'access',
      params: z.strictObject({ id: z.string().uuid() }), errors: [404], response: { status: 200, description: 'The revoked token', schema: TokenSchema },
      handler: async ({ principal: p, params }) => {
        const row = await tokens.revoke(p.userId, params.id, isAdmin(p));
        // an admin may revoke another user's token: name that user, not the caller
        const owner = row.user_id === p.userId ? p.userRef : (await db.selectFrom('entities').select('ref').where('id', '=', row.user_id).executeTakeFirstOrThrow()).ref;
        return tokenView(row, owner);
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/users/:name/tokens', operationId: 'createUserToken', summary: 'Issue an API token to a user (admin)', tag: 'access',
      params: NamePathSchema, query: NamespaceQuerySchema, body: TokenCreateSchema, errors: [403, 404, 409],
      response: { status: 201, description: 'The token, with its secret shown this once', schema: CreatedTokenSchema },
      handler: async ({ principal: p, params, query, body }) => {
        if (!isAdmin(p)) throw forbidden('only admins may issue tokens to other users');
        const user = await getEntity(db, refOf('user', query.namespace, params.name));
        const { token, row } = await tokens.create(user.id, body.name, { expiresInDays: body.expiresInDays });
        return { ...tokenView(row, user.ref), token };
      },
    }),
  ];
}
