import { z } from 'zod';
import { NameSchema, NamespaceSchema, PageQuerySchema, pageOf } from './common.ts';
import { FromTemplateFields } from './golden.ts';

/** Catalog entity kinds, named as in PRODUCT.md. Backstage kinds map onto them on import and export. */
export const ENTITY_KINDS = ['team', 'user', 'application', 'system', 'domain', 'api', 'resource'] as const;
export const EntityKindSchema = z.enum(ENTITY_KINDS);
export type EntityKind = z.infer<typeof EntityKindSchema>;

/** Relation types and their inverses, as in Backstage's catalog model (plus parentOf/childOf). */
export const RELATION_PAIRS = {
  ownedBy: 'ownerOf',
  partOf: 'hasPart',
  dependsOn: 'dependencyOf',
  providesApi: 'apiProvidedBy',
  consumesApi: 'apiConsumedBy',
  memberOf: 'hasMember',
  childOf: 'parentOf',
} as const;
export const RELATION_TYPES = [...Object.keys(RELATION_PAIRS), ...Object.values(RELATION_PAIRS)] as [string, ...string[]];
export const RelationTypeSchema = z.enum(RELATION_TYPES as [keyof typeof RELATION_PAIRS, ...string[]]);

/** A full entity reference: `kind:namespace/name`, lower-case kind and namespace. */
export const EntityRefSchema = z.string().regex(/^[a-z]+:[a-z0-9-]+\/[a-zA-Z0-9._-]+$/, 'must be kind:namespace/name');

export const LinkSchema = z.strictObject({
  url: z.string().url(),
  title: z.string().max(200).optional(),
  icon: z.string().max(100).optional(),
  type: z.string().max(100).optional(),
});
export type Link = z.infer<typeof LinkSchema>;

export const TagSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$/, 'must be lowercase letters, digits, ":+#" and single "-" between them');
const Labels = z.record(z.string().max(316), z.string().max(63));
const Annotations = z.record(z.string().max(316), z.string().max(10_000));

export const RelationSchema = z.object({
  type: z.string(),
  targetRef: z.string(),
  resolved: z.boolean().describe('false when the target is not (yet) in the catalog'),
  target: z.object({ kind: z.string(), namespace: z.string(), name: z.string(), title: z.string().nullable() }).nullable(),
});
export type Relation = z.infer<typeof RelationSchema>;

export const EntitySchema = z
  .object({
    id: z.string().uuid(),
    ref: z.string(),
    kind: EntityKindSchema,
    namespace: z.string(),
    name: z.string(),
    title: z.string().nullable(),
    description: z.string().nullable(),
    type: z.string().nullable(),
    lifecycle: z.string().nullable(),
    owner: z.string().nullable().describe('entity ref of the owner'),
    system: z.string().nullable().describe('entity ref of the system the entity is part of'),
    tags: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
    links: z.array(LinkSchema),
    spec: z.record(z.string(), z.unknown()).describe('kind-specific fields, as in the Backstage descriptor'),
    source: z.string().describe('"api", or the location an import read it from'),
    version: z.number().int().describe('increases on every change; send it back as If-Match'),
    createdAt: z.string(),
    updatedAt: z.string(),
    relations: z.array(RelationSchema).optional(),
  })
  .meta({ id: 'Entity' });
export type Entity = z.infer<typeof EntitySchema>;
export const EntityPageSchema = pageOf(EntitySchema);

/** Filters shared by every catalog list. Several values of one filter are OR-ed; filters are AND-ed. */
export const EntityListQuerySchema = PageQuerySchema.extend({
  kind: z.union([EntityKindSchema, z.array(EntityKindSchema)]).optional(),
  namespace: NamespaceSchema.optional(),
  owner: z.string().max(300).optional().describe('owner name or ref, e.g. team-a or team:default/team-a'),
  system: z.string().max(300).optional(),
  type: z.string().max(100).optional(),
  lifecycle: z.string().max(100).optional(),
  tag: z.string().max(100).optional(),
  q: z.string().max(200).optional().describe('full-text search on name, title, description and tags (prefix match per word)'),
});
export type EntityListQuery = z.infer<typeof EntityListQuerySchema>;

const common = {
  namespace: NamespaceSchema.default('default'),
  title: z.string().max(200).optional(),
  description: z.string().max(4000).optional(),
  tags: z.array(TagSchema).max(50).optional(),
  labels: Labels.optional(),
  annotations: Annotations.optional(),
  links: z.array(LinkSchema).max(50).optional(),
};

const Ref = z.string().min(1).max(300).describe('a name (default kind and namespace) or a ref kind:namespace/name');

export const TeamCreateSchema = z.strictObject({
  name: NameSchema,
  ...common,
  type: z.string().max(63).default('team').describe('team, department, organization, …'),
  parent: Ref.optional(),
  members: z.array(Ref).max(10_000).optional().describe('user names or refs'),
  email: z.string().email().optional(),
});
// Updates omit the create defaults: a field left out of a PATCH keeps its stored value.
export const TeamUpdateSchema = TeamCreateSchema.omit({ name: true, namespace: true }).extend({ type: z.string().max(63) }).partial().strict();

export const UserCreateSchema = z.strictObject({
  name: NameSchema,
  ...common,
  displayName: z.string().max(200).optional(),
  email: z.string().email().optional(),
  memberOf: z.array(Ref).max(1000).optional().describe('team names or refs'),
});
export const UserUpdateSchema = UserCreateSchema.omit({ name: true, namespace: true }).partial().strict();

export const LIFECYCLES = ['experimental', 'production', 'deprecated'] as const;
export const ApplicationCreateSchema = z.strictObject({
  name: NameSchema,
  ...common,
  owner: Ref.describe('owning team: a name or ref'),
  type: z.string().max(63).default('service'),
  lifecycle: z.string().max(63).default('experimental').describe('experimental, production, deprecated, …'),
  system: Ref.optional(),
  dependsOn: z.array(Ref).max(1000).optional(),
  providesApis: z.array(Ref).max(1000).optional(),
  consumesApis: z.array(Ref).max(1000).optional(),
});
/** POST /api/v1/applications: a catalog entry, or, with `template`, an application made from a golden path. */
export const ApplicationCreateRequestSchema = ApplicationCreateSchema.extend(FromTemplateFields).strict();
export const ApplicationUpdateSchema = ApplicationCreateSchema.omit({ name: true, namespace: true })
  .extend({ type: z.string().max(63), lifecycle: z.string().max(63) })
  .partial()
  .strict();

export type TeamCreate = z.input<typeof TeamCreateSchema>;
export type TeamUpdate = z.input<typeof TeamUpdateSchema>;
export type UserCreate = z.input<typeof UserCreateSchema>;
export type UserUpdate = z.input<typeof UserUpdateSchema>;
export type ApplicationCreate = z.input<typeof ApplicationCreateRequestSchema>;
export type ApplicationUpdate = z.input<typeof ApplicationUpdateSchema>;

/** Import: Backstage catalog-info.yaml documents, single or multi-document, with the place each came from. */
export const ImportRequestSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        location: z.string().min(1).max(1000).describe('where the file came from, e.g. its path; shown in errors and kept as the entity source'),
        content: z.string().max(64 * 1024 * 1024).describe('YAML text, one or more documents separated by ---'),
      }),
    )
    .min(1)
    .max(100_000),
  dryRun: z.boolean().default(false),
});
export type ImportRequest = z.input<typeof ImportRequestSchema>;

export const ImportErrorSchema = z.object({
  location: z.string(),
  document: z.number().int().describe('0-based index of the YAML document in the file'),
  ref: z.string().nullable(),
  message: z.string(),
  path: z.string().nullable().describe('field path inside the document, when known'),
});
export const ImportResultSchema = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int().describe('documents of kinds Pave does not keep, such as Location'),
    changed: z.array(z.object({ ref: z.string(), action: z.enum(['created', 'updated']) })).describe('first 1,000 changes'),
    errors: z.array(ImportErrorSchema),
    unresolved: z.array(z.object({ source: z.string(), type: z.string(), target: z.string() })).describe('first 1,000 relations whose target is not in the catalog'),
    unresolvedCount: z.number().int(),
    dryRun: z.boolean(),
  })
  .meta({ id: 'ImportResult' });
export type ImportResult = z.infer<typeof ImportResultSchema>;
export type ImportError = z.infer<typeof ImportErrorSchema>;

export const ExportQuerySchema = z.strictObject({
  kind: z.union([EntityKindSchema, z.array(EntityKindSchema)]).optional(),
  namespace: NamespaceSchema.optional(),
  owner: z.string().max(300).optional(),
});

export const EntityPathSchema = z.strictObject({ kind: EntityKindSchema, namespace: NamespaceSchema, name: NameSchema });
export const NamePathSchema = z.strictObject({ name: NameSchema });
export const NamespaceQuerySchema = z.strictObject({ namespace: NamespaceSchema.default('default') });
