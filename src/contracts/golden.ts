import { z } from 'zod';
import { NameSchema } from './common.ts';

/** Golden patterns over the API: platform objects, applications made from templates, environments, resources. */
export const ENVIRONMENT_TYPES = ['development', 'staging', 'production', 'preview'] as const;
export const EnvironmentTypeSchema = z.enum(ENVIRONMENT_TYPES);
const ResourceNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/, 'must be 2-63 lowercase letters, digits and "-"');

export const AddOnRequestSchema = z.strictObject({
  addon: NameSchema.describe('add-on name, e.g. postgres'),
  name: ResourceNameSchema.optional().describe('instance name, unique in the application; defaults to the add-on name'),
  version: z.string().max(100).optional().describe('exact version or semver range; defaults to the latest'),
  inputs: z.record(z.string(), z.unknown()).optional(),
});

export const EnvironmentCreateSchema = z.strictObject({
  name: ResourceNameSchema,
  type: EnvironmentTypeSchema,
  ttlHours: z.number().int().min(1).max(24 * 90).optional().describe('previews: hours until it expires'),
  ttl: z.string().regex(/^[1-9][0-9]{0,6}(s|m|h|d)$/, 'must be a duration such as 90s, 30m, 24h or 7d').optional().describe('previews: time until it expires and is deleted with everything in it, e.g. 24h'),
  from: ResourceNameSchema.optional().describe('clone this environment: its config and its released build, with resources of its own'),
  provision: z.boolean().default(true).describe('provision its resources now (false: only record it, to review a plan before applying)'),
});

/** Extra fields of POST /api/v1/applications that make the application from a template. */
export const FromTemplateFields = {
  template: NameSchema.optional().describe('make the application from this template; Pave then provisions and wires its resources'),
  templateVersion: z.string().max(100).optional(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  addons: z.array(AddOnRequestSchema).max(50).optional(),
  workload: z.record(z.string(), z.unknown()).optional().describe('a Score workload (score.dev/v1b1) replacing the template\'s'),
  environments: z.array(EnvironmentCreateSchema.omit({ ttlHours: true, ttl: true, from: true, provision: true })).max(20).optional().describe('defaults to one development environment'),
  runtime: z.enum(['local', 'kubernetes', 'gitops']).optional().describe("where the application's deployments run, over the team profile's runtime for each environment type"),
};

export const EnvironmentSchema = z.object({
  name: z.string(),
  type: z.string(),
  status: z.string(),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  clonedFrom: z.string().nullable(),
});

export const GoldenPathSchema = z
  .object({
    application: z.string(),
    template: z.object({ name: z.string(), version: z.string() }),
    inputs: z.record(z.string(), z.unknown()),
    addons: z.array(z.object({ name: z.string(), addon: z.string(), version: z.string(), inputs: z.record(z.string(), z.unknown()) })),
    workload: z.record(z.string(), z.unknown()),
    customWorkload: z.boolean(),
    environments: z.array(EnvironmentSchema),
  })
  .meta({ id: 'GoldenPath' });
export type GoldenPath = z.infer<typeof GoldenPathSchema>;

export const SECRET_MASK = '********';

export const ResourceSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    class: z.string(),
    id: z.string(),
    status: z.enum(['pending', 'provisioning', 'ready', 'failed', 'deleting', 'deleted']),
    origin: z.string(),
    params: z.record(z.string(), z.unknown()),
    dependsOn: z.array(z.string()),
    outputs: z.record(z.string(), z.unknown()).describe(`secret outputs are shown as ${SECRET_MASK} unless revealed`),
    secretOutputs: z.array(z.string()),
    definition: z.string().nullable(),
    definitionVersion: z.string().nullable(),
    driver: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Resource' });
export type Resource = z.infer<typeof ResourceSchema>;
export const ResourceListSchema = z.object({ items: z.array(ResourceSchema) });

export const PlanItemSchema = z.object({
  resource: z.string(),
  type: z.string(),
  class: z.string(),
  action: z.enum(['create', 'update', 'replace', 'retry', 'delete', 'noop']),
  definition: z.string().nullable(),
  definitionVersion: z.string().nullable(),
  driver: z.string().nullable(),
  changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  reason: z.string().nullable(),
  error: z.string().nullable(),
});
export const PlanSchema = z.object({ order: z.array(z.string()), items: z.array(PlanItemSchema), errors: z.array(z.string()) }).meta({ id: 'Plan' });
export type PlanView = z.infer<typeof PlanSchema>;

export const ResourceEventSchema = z.object({
  resource: z.string(),
  type: z.string(),
  phase: z.enum(['provisioning', 'ready', 'unchanged', 'failed', 'skipped', 'deleting', 'deleted']),
  detail: z.string().optional(),
  ms: z.number().optional(),
});
export type ResourceEventView = z.infer<typeof ResourceEventSchema>;
export const ApplyResultSchema = z
  .object({ ok: z.boolean(), events: z.array(ResourceEventSchema), failed: z.array(z.object({ resource: z.string(), error: z.string() })) })
  .meta({ id: 'ApplyResult' });
export type ApplyResultView = z.infer<typeof ApplyResultSchema>;

export const DriftSchema = z.object({
  items: z.array(
    z.object({
      application: z.string(),
      environment: z.string(),
      resource: z.string(),
      type: z.string(),
      status: z.enum(['in-sync', 'missing', 'changed', 'error']),
      detail: z.string().nullable(),
      differences: z.array(z.object({ field: z.string(), expected: z.unknown(), actual: z.unknown() })),
    }),
  ),
});
export type Drift = z.infer<typeof DriftSchema>;

// ---- platform ----------------------------------------------------------------------------------

export const InputFieldSchema = z.object({
  name: z.string(),
  type: z.string(),
  title: z.string(),
  description: z.string().optional(),
  enum: z.array(z.unknown()).optional(),
  default: z.unknown().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  pattern: z.string().optional(),
  format: z.string().optional(),
  required: z.boolean(),
  editable: z.boolean(),
});

export const PatternSummarySchema = z
  .object({
    kind: z.enum(['Template', 'AddOn']),
    name: z.string(),
    version: z.string().describe('latest current version'),
    versions: z.array(z.string()),
    title: z.string().nullable(),
    description: z.string().nullable(),
    tags: z.array(z.string()),
    inputs: z.record(z.string(), z.unknown()).describe('the JSON Schema of the inputs'),
    fields: z.array(InputFieldSchema).describe('the inputs as form fields'),
    readme: z.string().nullable(),
    addons: z.array(z.object({ addon: z.string(), name: z.string(), version: z.string() })),
    resources: z.array(z.object({ name: z.string(), type: z.string() })),
    outputs: z.array(z.string()).describe('environment variables an add-on injects'),
    applications: z.number().int().describe('applications using any version'),
  })
  .meta({ id: 'PatternSummary' });
export type PatternSummary = z.infer<typeof PatternSummarySchema>;
export const PatternListSchema = z.object({ items: z.array(PatternSummarySchema) });

export const PlatformObjectViewSchema = z.object({
  kind: z.string(),
  name: z.string(),
  version: z.string(),
  source: z.string(),
  createdAt: z.string(),
  spec: z.record(z.string(), z.unknown()).describe('secret inputs appear as {secretRef: NAME}, never their values'),
  metadata: z.record(z.string(), z.unknown()),
});
export const PlatformObjectListSchema = z.object({ items: z.array(PlatformObjectViewSchema) });

export const PlatformErrorSchema = z.object({ file: z.string(), document: z.number().int(), line: z.number().int().nullable(), path: z.string().nullable(), message: z.string(), kind: z.string().optional().describe('the kind of the object, when the document got that far (e.g. Policy)') });
export const SyncReportSchema = z
  .object({
    id: z.number().int(),
    source: z.string(),
    revision: z.string().nullable(),
    loaded: z.number().int(),
    published: z.array(z.object({ kind: z.string(), name: z.string(), version: z.string() })),
    unchanged: z.number().int(),
    retired: z.array(z.object({ kind: z.string(), name: z.string() })),
    errors: z.array(PlatformErrorSchema),
    startedAt: z.string(),
    finishedAt: z.string(),
  })
  .meta({ id: 'SyncReport' });
export type SyncReportView = z.infer<typeof SyncReportSchema>;

export const PlatformSecretSchema = z.object({ name: z.string(), updatedAt: z.string(), updatedBy: z.string() });
export const PlatformSecretListSchema = z.object({ items: z.array(PlatformSecretSchema) });
export const SecretNameSchema = z.string().regex(/^[a-z0-9]+([-_.][a-z0-9]+)*$/, 'must be lowercase letters, digits and single "-", "_" or "." between them').max(100);
export const SecretSetSchema = z.strictObject({ value: z.string().min(1).max(10_000) });

export const PlatformStatusSchema = z.object({
  source: z.string(),
  lastSync: z
    .object({ source: z.string(), revision: z.string().nullable(), finishedAt: z.string().nullable(), loaded: z.number(), published: z.number(), errors: z.array(PlatformErrorSchema) })
    .nullable(),
});
export type PlatformStatus = z.infer<typeof PlatformStatusSchema>;

export const TeamProfileViewSchema = z
  .object({
    team: z.string(),
    profiles: z.array(z.string()).describe('the profiles merged, default first'),
    defaultTemplate: z.string().nullable(),
    environments: z.record(z.string(), z.record(z.string(), z.unknown())).describe('per environment type: runtime, replicas, cpu, memory, port, healthPath, …'),
  })
  .meta({ id: 'TeamProfile' });
export type TeamProfileView = z.infer<typeof TeamProfileViewSchema>;

export const VariablesSchema = z
  .object({
    containers: z.record(z.string(), z.record(z.string(), z.string())).describe(`per container: its environment variables, resolved from resource outputs (secret ones shown as ${SECRET_MASK} unless revealed)`),
    secretVariables: z.array(z.object({ container: z.string(), name: z.string() })),
  })
  .meta({ id: 'Variables' });
export type Variables = z.infer<typeof VariablesSchema>;
