import { z } from 'zod';
import { NameSchema } from '../../contracts/common.ts';
import { PatternListSchema, PlatformStatusSchema, TeamProfileViewSchema, PatternSummarySchema, PlatformObjectListSchema, PlatformSecretListSchema, SecretNameSchema, SecretSetSchema, SyncReportSchema } from '../../contracts/golden.ts';
import { notFound } from '../../errors.ts';
import { refOf } from '../../catalog/model.ts';
import type { PlatformSecrets } from '../../platform/secrets.ts';
import { listCurrent } from '../../platform/store.ts';
import { describeSource, type PlatformSync } from '../../platform/sync.ts';
import { getPattern, listPatterns } from '../../platform/views.ts';
import { resolveProfile } from '../../platform/profiles.ts';
import type { Db } from '../../store/db.ts';
import { defineRoute, type Route } from '../route.ts';

export function platformRoutes(db: Db, sync: PlatformSync, secrets: PlatformSecrets): Route[] {
  const patternRoutes = (kind: 'Template' | 'AddOn', plural: string) => [
    defineRoute({
      method: 'GET', url: `/api/v1/platform/${plural}`, operationId: `list${kind}s`, summary: `Published ${plural} (the gallery)`, tag: 'platform',
      permission: { name: 'platform.read' },
      response: { status: 200, description: plural, schema: PatternListSchema },
      handler: async () => ({ items: await listPatterns(db, kind) }),
    }),
    defineRoute({
      method: 'GET', url: `/api/v1/platform/${plural}/:name`, operationId: `get${kind}`, summary: `One ${kind === 'AddOn' ? 'add-on' : 'template'}: inputs as form fields, readme, versions`, tag: 'platform',
      permission: { name: 'platform.read' },
      params: z.strictObject({ name: NameSchema }), query: z.strictObject({ version: z.string().max(100).optional() }), errors: [404],
      response: { status: 200, description: kind, schema: PatternSummarySchema },
      handler: async ({ params, query }) => {
        const p = await getPattern(db, kind, params.name, query.version);
        if (!p) throw notFound(`${kind === 'AddOn' ? 'add-on' : 'template'} ${params.name}${query.version ? ` ${query.version}` : ''}`);
        return p;
      },
    }),
  ];
  return [
    defineRoute({
      method: 'POST', url: '/api/v1/platform/sync', operationId: 'syncPlatform', summary: 'Load the platform from its folder or git repository now', tag: 'platform',
      permission: { name: 'platform.write' },
      description: 'Bad files are reported with path, line and reason; the good ones load. A published version never changes.',
      errors: [403], response: { status: 200, description: 'What was loaded, published and rejected', schema: SyncReportSchema },
      handler: () => {
        return sync.sync();
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/platform/status', operationId: 'platformStatus', summary: 'Where the platform comes from and how its last sync went', tag: 'platform',
      permission: { name: 'platform.read' },
      response: { status: 200, description: 'Status', schema: PlatformStatusSchema },
      handler: async () => ({ source: describeSource(sync.source), lastSync: (await sync.lastSync()) ?? null }),
    }),
    ...patternRoutes('Template', 'templates'),
    ...patternRoutes('AddOn', 'addons'),
    defineRoute({
      method: 'GET', url: '/api/v1/platform/objects', operationId: 'listPlatformObjects', summary: 'Current resource types, resource definitions or team profiles', tag: 'platform',
      permission: { name: 'platform.read' },
      query: z.strictObject({ kind: z.enum(['ResourceType', 'ResourceDefinition', 'TeamProfile']) }),
      response: { status: 200, description: 'Objects (secret inputs appear only as references)', schema: PlatformObjectListSchema },
      handler: async ({ query }) => ({
        items: (await listCurrent(db, query.kind)).map((o) => ({ kind: o.kind, name: o.name, version: o.version, source: o.source, createdAt: o.createdAt, spec: o.object.spec as Record<string, unknown>, metadata: o.object.metadata as Record<string, unknown> })),
      }),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/teams/:name/profile', operationId: 'getTeamProfile', summary: "A team's defaults per environment type (its profile over the default one)", tag: 'teams',
      permission: { name: 'platform.read' },
      params: z.strictObject({ name: NameSchema }),
      response: { status: 200, description: 'The resolved profile', schema: TeamProfileViewSchema },
      errors: [404],
      handler: async ({ params }) => {
        if (!(await db.selectFrom('entities').select('id').where('ref', '=', refOf('team', 'default', params.name)).executeTakeFirst())) throw notFound(`team ${params.name}`);
        return resolveProfile(db, params.name);
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/platform/secrets', operationId: 'listPlatformSecrets', summary: 'Names of platform secrets (never their values)', tag: 'platform',
      permission: { name: 'platform.write' },
      errors: [403], response: { status: 200, description: 'Secret names', schema: PlatformSecretListSchema },
      handler: async () => {
        return { items: await secrets.list() };
      },
    }),
    defineRoute({
      method: 'PUT', url: '/api/v1/platform/secrets/:name', operationId: 'setPlatformSecret', summary: 'Set a platform secret (stored encrypted)', tag: 'platform',
      permission: { name: 'platform.write' },
      params: z.strictObject({ name: SecretNameSchema }), body: SecretSetSchema, errors: [403], response: { status: 204, description: 'Stored' },
      handler: async ({ principal, params, body }) => {
        await secrets.set(params.name, body.value, principal.userRef);
        return undefined;
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/platform/secrets/:name', operationId: 'deletePlatformSecret', summary: 'Delete a platform secret', tag: 'platform',
      permission: { name: 'platform.write' },
      params: z.strictObject({ name: SecretNameSchema }), errors: [403, 404], response: { status: 204, description: 'Deleted' },
      handler: async ({ params }) => {
        await secrets.delete(params.name);
        return undefined;
      },
    }),
  ];
}
