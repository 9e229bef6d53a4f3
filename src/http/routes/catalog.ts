import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  ApplicationCreateRequestSchema,
  ApplicationUpdateSchema,
  EntityListQuerySchema,
  EntityPageSchema,
  EntityPathSchema,
  EntitySchema,
  ExportQuerySchema,
  ImportRequestSchema,
  ImportResultSchema,
  NamePathSchema,
  NamespaceQuerySchema,
  TeamCreateSchema,
  TeamUpdateSchema,
  UserCreateSchema,
  UserUpdateSchema,
  type Entity,
  type EntityKind,
} from '../../contracts/catalog.ts';
import type { Page } from '../../contracts/common.ts';
import { toYamlDocuments } from '../../catalog/export.ts';
import { refOf } from '../../catalog/model.ts';
import { allEntities, entityView } from '../../catalog/repository.ts';
import type { CatalogService } from '../../catalog/service.ts';
import { ifMatch, setEtag } from '../etag.ts';
import { notFound } from '../../errors.ts';
import { applicationOf, defineRoute, type PermissionRule, type RawInput, type Route } from '../route.ts';
import { teamRef } from '../../access/rbac.ts';
import { ENVIRONMENT_TYPES } from '../../contracts/golden.ts';

const IF_MATCH = { name: 'If-Match', required: true, description: 'the ETag (version) last read; a stale one gets 412' };
const IF_MATCH_OPTIONAL = { ...IF_MATCH, required: false };
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/**
 * A page of entities whose JSON the database built (CatalogService.listJson), sent as it is: the same
 * body and content type as returning the page object, without parsing and serialising every entity.
 */
async function pageJson(reply: FastifyReply, body: Promise<Buffer>): Promise<Page<Entity>> {
  reply.type('application/json; charset=utf-8');
  return (await body) as unknown as Page<Entity>;
}

/** How applications made from golden paths are created and deleted (through their resources). */
export interface ApplicationHooks {
  create(body: Record<string, unknown>): Promise<Entity | undefined>;
  delete(ref: string, expectedVersion: number | undefined): Promise<boolean>;
}

const READ: PermissionRule = { name: 'catalog.read' };

/** The owning team a request's body names (`owner`: a team name or ref, in the body's namespace). */
const ownerOf = (i: RawInput): string => {
  const b = (i.body ?? {}) as { owner?: unknown; namespace?: unknown };
  const ns = typeof b.namespace === 'string' ? b.namespace : 'default';
  const owner = typeof b.owner === 'string' ? b.owner : '';
  return (owner.includes('/') || owner.includes(':') ? teamRef(owner) : teamRef(`team:${ns}/${owner}`)) ?? owner;
};
const bodyEnvironments = (i: RawInput): { name?: unknown; type?: unknown }[] => {
  const envs = (i.body as { environments?: unknown } | undefined)?.environments;
  return Array.isArray(envs) ? (envs as { name?: unknown; type?: unknown }[]) : [];
};

/**
 * Who may change what: teams and imports are catalog.write (platform engineers, admins), users are
 * user.manage (admins); applications are their team's: creating one needs application.create for the
 * team it names as owner (and environment.write in the types of the environments it asks for),
 * changing one application.write for its team (and application.create for a new owner), deleting one
 * also environment.write in every environment type it has.
 */
const WRITES: Record<'team' | 'user' | 'application', { create: PermissionRule[]; update: PermissionRule[]; delete: PermissionRule[] }> = {
  team: { create: [{ name: 'catalog.write' }], update: [{ name: 'catalog.write' }], delete: [{ name: 'catalog.write' }] },
  user: { create: [{ name: 'user.manage' }], update: [{ name: 'user.manage' }], delete: [{ name: 'user.manage' }] },
  application: {
    create: [
      { name: 'application.create', scope: (i) => ({ kind: 'team', team: ownerOf(i) }) },
      ...ENVIRONMENT_TYPES.map((type): PermissionRule => ({
        name: 'environment.write',
        // a golden-path application without environments gets one development environment
        when: (i) => bodyEnvironments(i).some((e) => e.type === type) || (type === 'development' && typeof (i.body as { template?: unknown } | undefined)?.template === 'string' && (i.body as { environments?: unknown }).environments === undefined),
        scope: (i) => ({ kind: 'team', team: ownerOf(i), environmentType: type }),
      })),
    ],
    update: [
      { name: 'application.write', scope: 'application' },
      { name: 'application.create', when: (i) => typeof (i.body as { owner?: unknown } | undefined)?.owner === 'string', scope: (i) => ({ kind: 'team', team: ownerOf({ ...i, body: { ...(i.body as object), namespace: i.query.namespace } }) }) },
    ],
    delete: [
      { name: 'application.write', scope: 'application' },
      { name: 'environment.write', scope: (i) => ({ kind: 'application', application: applicationOf(i), environment: '*' }) },
    ],
  },
};

function kindRoutes(svc: CatalogService, kind: 'team' | 'user' | 'application', plural: string, tag: string, create: z.ZodType, update: z.ZodType, hooks?: ApplicationHooks): Route[] {
  const base = `/api/v1/${plural}`;
  const title = kind[0]!.toUpperCase() + kind.slice(1);
  const ListQuery = EntityListQuerySchema.omit({ kind: true });
  return [
    defineRoute({
      method: 'GET', url: base, operationId: `list${title}s`, summary: `List ${plural}`, tag, permission: READ,
      query: ListQuery, response: { status: 200, description: `A page of ${plural}`, schema: EntityPageSchema },
      handler: ({ query, reply }) => pageJson(reply, svc.listJson({ ...query, kind })),
    }),
    defineRoute({
      method: 'POST', url: base, operationId: `create${title}`, summary: `Create a ${kind}`, tag, permission: WRITES[kind].create,
      body: create, errors: [409], response: { status: 201, description: `The created ${kind}`, schema: EntitySchema },
      handler: async ({ body, reply }) => {
        const e = (await hooks?.create(body as Record<string, unknown>)) ?? (await svc.create(kind, body as never));
        setEtag(reply, e.version);
        reply.header('location', `${base}/${e.name}?namespace=${e.namespace}`);
        return e;
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name`, operationId: `get${title}`, summary: `Get a ${kind} with its relations`, tag, permission: READ,
      params: NamePathSchema, query: NamespaceQuerySchema, errors: [404], response: { status: 200, description: `The ${kind}`, schema: EntitySchema },
      handler: async ({ params, query, reply }) => {
        const e = await svc.get(refOf(kind, query.namespace, params.name));
        if (e.kind !== kind) throw notFound(`${kind} ${params.name}`);
        setEtag(reply, e.version);
        return e;
      },
    }),
    defineRoute({
      method: 'PATCH', url: `${base}/:name`, operationId: `update${title}`, summary: `Change fields of a ${kind}`, tag, permission: WRITES[kind].update,
      description: 'Fields present in the body replace the stored ones. Requires If-Match with the version last read.',
      params: NamePathSchema, query: NamespaceQuerySchema, body: update, headers: [IF_MATCH], errors: [404, 412, 428],
      response: { status: 200, description: `The updated ${kind}`, schema: EntitySchema },
      handler: async ({ params, query, body, req, reply }) => {
        const version = ifMatch(req, true);
        const e = await svc.update(kind, refOf(kind, query.namespace, params.name), version, body as never);
        setEtag(reply, e.version);
        return e;
      },
    }),
    defineRoute({
      method: 'DELETE', url: `${base}/:name`, operationId: `delete${title}`, summary: `Delete a ${kind}`, tag, permission: WRITES[kind].delete,
      params: NamePathSchema, query: NamespaceQuerySchema, headers: [IF_MATCH_OPTIONAL], errors: [404, 409, 412],
      response: { status: 204, description: 'Deleted' },
      handler: async ({ params, query, req }) => {
        const ref = refOf(kind, query.namespace, params.name);
        if (!(await hooks?.delete(ref, ifMatch(req, false)))) await svc.delete(kind, ref, ifMatch(req, false));
        return undefined;
      },
    }),
  ];
}

export function catalogRoutes(svc: CatalogService, importBodyLimit: number, applications?: ApplicationHooks): Route[] {
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/entities', operationId: 'listEntities', summary: 'List and search catalog entities', tag: 'catalog', permission: READ,
      description: 'Filters are AND-ed; `q` is a full-text search over name, title, description and tags. Ordered by ref; paginate with nextCursor.',
      query: EntityListQuerySchema, response: { status: 200, description: 'A page of entities', schema: EntityPageSchema },
      handler: ({ query, reply }) => pageJson(reply, svc.listJson(query)),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/entities/:kind/:namespace/:name', operationId: 'getEntity', summary: 'Get any catalog entity with its relations', tag: 'catalog', permission: READ,
      params: EntityPathSchema, errors: [404], response: { status: 200, description: 'The entity', schema: EntitySchema },
      handler: async ({ params, reply }) => {
        const e = await svc.get(refOf(params.kind, params.namespace, params.name));
        setEtag(reply, e.version);
        return e;
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/entities/:kind/:namespace/:name', operationId: 'deleteEntity', summary: 'Delete any catalog entity', tag: 'catalog',
      // users are user.manage's, whichever route deletes them
      permission: [{ name: 'catalog.write' }, { name: 'user.manage', when: (i) => i.params.kind === 'user' }],
      params: EntityPathSchema, headers: [IF_MATCH_OPTIONAL], errors: [404, 409, 412], response: { status: 204, description: 'Deleted' },
      handler: async ({ params, req }) => {
        await svc.delete(params.kind as EntityKind, refOf(params.kind, params.namespace, params.name), ifMatch(req, false));
        return undefined;
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/catalog/import', operationId: 'importCatalog', summary: 'Import Backstage catalog-info.yaml descriptors', tag: 'catalog', permission: { name: 'catalog.write' },
      description:
        'Send JSON {files:[{location, content}]} or raw YAML (application/yaml, ?location=…). Invalid documents are reported with file, ' +
        'document index and reason and do not stop the rest; valid ones are written in one transaction. Unchanged entities are not written.',
      query: z.strictObject({ location: z.string().max(1000).optional(), dryRun: z.enum(['true', 'false']).optional() }),
      body: ImportRequestSchema, bodyMediaTypes: YAML_TYPES, bodyLimit: importBodyLimit, errors: [413, 415],
      bodyFrom: (req) => {
        const q = req.query as { location?: string; dryRun?: string };
        return typeof req.body === 'string' ? { files: [{ location: q.location ?? 'upload', content: req.body }], dryRun: q.dryRun === 'true' } : req.body;
      },
      response: { status: 200, description: 'What the import created, updated, left unchanged and rejected', schema: ImportResultSchema },
      handler: ({ body }) => svc.import(body),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/catalog/export', operationId: 'exportCatalog', summary: 'Export the catalog as Backstage catalog-info.yaml', tag: 'catalog', permission: READ,
      query: ExportQuerySchema, response: { status: 200, description: 'Multi-document YAML', contentType: 'application/yaml' },
      handler: ({ query, reply }) => {
        async function* docs() {
          let first = true;
          for await (const rows of allEntities(svc.db, query)) {
            if (rows.length === 0) continue;
            yield (first ? '' : '---\n') + toYamlDocuments(rows.map((r) => entityView(r)));
            first = false;
          }
        }
        reply.header('content-disposition', 'attachment; filename="catalog-info.yaml"');
        return Readable.from(docs());
      },
    }),
    ...kindRoutes(svc, 'team', 'teams', 'teams', TeamCreateSchema, TeamUpdateSchema),
    ...kindRoutes(svc, 'user', 'users', 'users', UserCreateSchema, UserUpdateSchema),
    ...kindRoutes(svc, 'application', 'applications', 'applications', ApplicationCreateRequestSchema, ApplicationUpdateSchema, applications),
  ];
}
