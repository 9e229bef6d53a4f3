import { z } from 'zod';
import { NameSchema, NamespaceSchema } from './common.ts';
import { EnvironmentTypeSchema } from './golden.ts';

/**
 * Day-2 fleet lifecycle: which applications run which version of each template and add-on (the
 * fleet view), pins (an application opting out of upgrades, with a reason its owners see), upgrade
 * plans (per application: the diff of inputs, workload, add-ons, resources and actions; those that
 * cannot be upgraded automatically, with the reason) and upgrades (a plan applied in waves: a canary
 * wave, then waves of a set size and concurrency; stopped by failures beyond a budget; paused,
 * resumed, cancelled; progress as events).
 */

export const PATTERN_KINDS = ['template', 'addon'] as const;
export const PatternKindSchema = z.enum(PATTERN_KINDS).describe('template or addon');
export type PatternKind = z.infer<typeof PatternKindSchema>;

const Version = z.string().min(1).max(100);
const Iso = z.string().describe('ISO 8601 time');

// ---- pins -----------------------------------------------------------------------------------------

export const PinSchema = z
  .object({
    application: z.string().describe('application ref, e.g. application:default/shop'),
    kind: PatternKindSchema,
    name: z.string().describe('the template or add-on'),
    version: z.string().describe('the version the application is held at (the one it used when pinned)'),
    reason: z.string(),
    createdBy: z.string(),
    createdAt: Iso,
  })
  .meta({ id: 'FleetPin' });
export type Pin = z.infer<typeof PinSchema>;

export const PinCreateSchema = z.strictObject({
  kind: PatternKindSchema.default('template'),
  name: NameSchema.describe('the template or add-on to hold at its current version'),
  reason: z.string().trim().min(1, 'say why, so that the platform team knows').max(1000),
});
export type PinCreate = z.input<typeof PinCreateSchema>;

export const PinListSchema = z.object({ items: z.array(PinSchema) });

export const PinPathSchema = z.strictObject({
  name: NameSchema,
  kind: PatternKindSchema,
  pattern: NameSchema,
});

// ---- the fleet view -------------------------------------------------------------------------------

export const FleetVersionSchema = z.object({
  version: z.string(),
  published: z.boolean().describe('the version is still current in the platform source (not retired)'),
  latest: z.boolean(),
  applications: z.number().int(),
  environments: z.number().int().describe('environments of the applications on this version'),
  pinned: z.number().int().describe('applications on this version that are pinned'),
});

export const FleetPatternSchema = z
  .object({
    kind: PatternKindSchema,
    name: z.string(),
    title: z.string().nullable(),
    latest: z.string().nullable().describe('the newest published version'),
    applications: z.number().int(),
    environments: z.number().int(),
    behind: z.number().int().describe('applications on an older version than the latest'),
    behindEnvironments: z.number().int(),
    versions: z.array(FleetVersionSchema).describe('newest first: every published version, and any retired one still in use'),
    pins: z.array(PinSchema),
  })
  .meta({ id: 'FleetPattern' });
export type FleetPattern = z.infer<typeof FleetPatternSchema>;

export const FleetViewSchema = z.object({ items: z.array(FleetPatternSchema) }).meta({ id: 'FleetView' });
export type FleetView = z.infer<typeof FleetViewSchema>;

export const FleetQuerySchema = z.strictObject({
  kind: PatternKindSchema.optional(),
  name: NameSchema.optional(),
});

/** Which applications: every field narrows (AND); lists are alternatives (OR). */
export const FleetSelectorSchema = z.strictObject({
  applications: z.array(z.string().min(1).max(300)).max(10_000).optional().describe('application names (default namespace) or refs'),
  versions: z.array(z.string().min(1).max(100)).max(50).optional().describe('current versions to upgrade from: exact versions or semver ranges (e.g. 1.x)'),
  teams: z.array(z.string().min(1).max(300)).max(100).optional().describe('owning teams (names or refs)'),
  environmentTypes: z.array(EnvironmentTypeSchema).max(4).optional().describe('applications with at least one environment of these types'),
  labels: z.record(z.string().min(1).max(317), z.string().max(63)).optional().describe('catalog labels the application must have, all of them'),
});
export type FleetSelector = z.infer<typeof FleetSelectorSchema>;

export const FleetApplicationsQuerySchema = z.strictObject({
  kind: PatternKindSchema.default('template'),
  name: NameSchema.optional().describe('the template or add-on; default all'),
  version: z.string().max(100).optional().describe('exact version or semver range'),
  team: z.string().max(300).optional(),
  environmentType: EnvironmentTypeSchema.optional(),
  label: z.union([z.string(), z.array(z.string())]).optional().describe('key=value, repeatable'),
  behind: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

export const FleetApplicationSchema = z
  .object({
    application: z.string(),
    name: z.string(),
    namespace: z.string(),
    team: z.string().nullable(),
    kind: PatternKindSchema,
    pattern: z.string().describe('the template, or the add-on'),
    instance: z.string().nullable().describe('add-ons: the instance name in the application'),
    version: z.string(),
    latest: z.string().nullable(),
    behind: z.boolean(),
    environments: z.array(z.object({ name: z.string(), type: z.string() })),
    pin: PinSchema.nullable(),
    upgrading: z.string().nullable().describe('id of the upgrade working on it now'),
  })
  .meta({ id: 'FleetApplication' });
export type FleetApplication = z.infer<typeof FleetApplicationSchema>;
export const FleetApplicationListSchema = z.object({ items: z.array(FleetApplicationSchema), truncated: z.boolean() });

// ---- plans ----------------------------------------------------------------------------------------

export const FleetPlanCreateSchema = z.strictObject({
  kind: PatternKindSchema.default('template'),
  name: NameSchema.describe('the template or add-on to upgrade to'),
  version: Version.optional().describe('target version; default: the latest published'),
  selector: FleetSelectorSchema.default({}),
  inputs: z.record(z.string(), z.unknown()).optional().describe('values for inputs the target version adds (given to every selected application that lacks them)'),
});
export type FleetPlanCreate = z.input<typeof FleetPlanCreateSchema>;

export const INPUT_CHANGES = ['added', 'removed', 'changed'] as const;
export const InputChangeSchema = z.object({
  name: z.string(),
  change: z.enum(INPUT_CHANGES),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
  required: z.boolean(),
  default: z.unknown().optional().describe('the target version\'s default, when it has one'),
  why: z.string().describe('e.g. "new input, its default", "set by the platform team", "no longer an input"'),
});

export const ValueChangeSchema = z.object({
  path: z.string().describe('e.g. containers.web.variables.GREETING, resources.data'),
  change: z.enum(['added', 'removed', 'changed']),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});

export const AddonChangeSchema = z.object({
  instance: z.string(),
  addon: z.string(),
  change: z.enum(['added', 'upgraded', 'kept']).describe('kept: no longer declared by the template, left attached'),
  from: z.string().nullable(),
  to: z.string().nullable(),
});

export const RESOURCE_ACTIONS = ['create', 'update', 'replace', 'delete'] as const;
export const ResourceChangeSchema = z.object({
  environment: z.string(),
  resource: z.string(),
  type: z.string(),
  action: z.enum(RESOURCE_ACTIONS),
  changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  reason: z.string().nullable(),
});

export const FleetPlanApplicationSchema = z
  .object({
    application: z.string(),
    name: z.string(),
    namespace: z.string(),
    team: z.string().nullable(),
    instances: z.array(z.string()).describe('add-on plans: the instances upgraded'),
    from: z.string(),
    to: z.string(),
    environments: z.array(z.object({ name: z.string(), type: z.string(), released: z.boolean().describe('something is released there, so it is redeployed') })),
    customWorkload: z.boolean().describe('the application brings its own workload, so template workload changes do not reach it'),
    inputs: z.array(InputChangeSchema),
    workload: z.array(ValueChangeSchema).describe('the resolved workload and the variables add-ons inject'),
    addons: z.array(AddonChangeSchema),
    resources: z.array(ResourceChangeSchema),
    actions: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) }),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'FleetPlanApplication' });
export type FleetPlanApplication = z.infer<typeof FleetPlanApplicationSchema>;

export const EXCLUSION_CODES = ['pinned', 'required-input', 'invalid-input', 'policy-denied', 'conflict', 'upgrading', 'invalid'] as const;
export const ExclusionSchema = z.object({
  application: z.string(),
  name: z.string(),
  team: z.string().nullable(),
  from: z.string(),
  code: z.enum(EXCLUSION_CODES),
  reason: z.string().describe('e.g. "pinned: waiting for the Q3 freeze", "new required input region has no default"'),
});
export type Exclusion = z.infer<typeof ExclusionSchema>;

export const FleetPlanSchema = z
  .object({
    id: z.uuid(),
    kind: PatternKindSchema,
    name: z.string(),
    version: z.string().describe('the target version'),
    selector: FleetSelectorSchema,
    applications: z.array(FleetPlanApplicationSchema).describe('what will be upgraded, in the order of the plan (by name)'),
    excluded: z.array(ExclusionSchema).describe('selected, but left out, with the reason'),
    upToDate: z.number().int().describe('selected applications already on the target version'),
    createdBy: z.string(),
    createdAt: Iso,
    upgrade: z.string().nullable().describe('the upgrade started from this plan'),
  })
  .meta({ id: 'FleetPlan' });
export type FleetPlan = z.infer<typeof FleetPlanSchema>;

export const FleetPlanPathSchema = z.strictObject({ id: z.uuid() });

// ---- upgrades -------------------------------------------------------------------------------------

export const DEFAULT_ENVIRONMENT_ORDER = ['development', 'preview', 'staging', 'production'] as const;

export const UpgradeCreateSchema = z.strictObject({
  plan: z.uuid().describe('the reviewed plan to apply'),
  canarySize: z.number().int().min(0).max(1000).default(1).describe('applications in the first (canary) wave; 0: no canary wave'),
  waveSize: z.number().int().min(1).max(10_000).default(10).describe('applications per wave after the canary'),
  concurrency: z.number().int().min(1).max(32).default(2).describe('applications upgraded at once within a wave'),
  failureBudget: z.number().int().min(0).max(10_000).default(0).describe('failed applications tolerated; one more stops the rollout (a failure in the canary wave always stops it)'),
  environmentOrder: z
    .array(EnvironmentTypeSchema)
    .min(1)
    .max(4)
    .refine((l) => new Set(l).size === l.length, 'must not repeat a type')
    .default([...DEFAULT_ENVIRONMENT_ORDER])
    .describe('applications whose most critical environment comes earlier go in earlier waves, and each application\'s environments are redeployed in this order; types not listed come last'),
  healthTimeoutSeconds: z.number().int().min(1).max(600).optional().describe('health check time of each redeployment (default: the server\'s)'),
});
export type UpgradeCreate = z.input<typeof UpgradeCreateSchema>;
export type UpgradeOptions = z.output<typeof UpgradeCreateSchema>;

export const UPGRADE_STATUSES = ['running', 'pausing', 'paused', 'cancelling', 'succeeded', 'completed', 'failed', 'cancelled'] as const;
export const UpgradeStatusSchema = z
  .enum(UPGRADE_STATUSES)
  .describe('pausing/cancelling: waiting for the applications in flight; completed: finished, with failures within the budget; failed: stopped by a failure beyond the budget');
export type UpgradeStatus = z.infer<typeof UpgradeStatusSchema>;
export const FINAL_UPGRADE_STATUSES: readonly UpgradeStatus[] = ['succeeded', 'completed', 'failed', 'cancelled'];

export const UPGRADE_APP_STATES = ['pending', 'upgrading', 'reverting', 'upgraded', 'failed', 'skipped', 'cancelled'] as const;
export const UpgradeAppStateSchema = z
  .enum(UPGRADE_APP_STATES)
  .describe('failed: the upgrade of this application failed and it was put back on its previous version; skipped: no longer applicable at its turn; cancelled: not started (stopped or cancelled)');
export type UpgradeAppState = z.infer<typeof UpgradeAppStateSchema>;

export const UpgradeEnvironmentSchema = z.object({
  name: z.string(),
  type: z.string(),
  state: z.enum(['pending', 'converging', 'deploying', 'done', 'failed', 'reverted']),
  deployment: z.number().int().nullable().describe('the deployment made by the upgrade'),
  previousDeployment: z.number().int().nullable().describe('what was released before (it keeps serving if the upgrade fails)'),
  message: z.string().nullable(),
});

export const UpgradeApplicationSchema = z.object({
  application: z.string(),
  wave: z.number().int().describe('0 is the canary wave when there is one'),
  state: UpgradeAppStateSchema,
  from: z.string(),
  to: z.string(),
  environments: z.array(UpgradeEnvironmentSchema),
  error: z.string().nullable(),
  attempts: z.number().int(),
  startedAt: Iso.nullable(),
  finishedAt: Iso.nullable(),
  durationMs: z.number().int().nullable(),
});
export type UpgradeApplication = z.infer<typeof UpgradeApplicationSchema>;

export const UpgradeWaveSchema = z.object({
  index: z.number().int(),
  canary: z.boolean(),
  status: z.enum(['pending', 'running', 'done', 'stopped']),
  applications: z.array(z.string()),
});

export const UpgradeCountsSchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  running: z.number().int(),
  upgraded: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  cancelled: z.number().int(),
});

export const UpgradeSchema = z
  .object({
    id: z.uuid(),
    plan: z.uuid(),
    kind: PatternKindSchema,
    name: z.string(),
    version: z.string(),
    status: UpgradeStatusSchema,
    options: z.object({
      canarySize: z.number().int(), waveSize: z.number().int(), concurrency: z.number().int(), failureBudget: z.number().int(),
      environmentOrder: z.array(z.string()), healthTimeoutSeconds: z.number().int().nullable(),
    }),
    currentWave: z.number().int().nullable(),
    waves: z.array(UpgradeWaveSchema),
    applications: z.array(UpgradeApplicationSchema),
    counts: UpgradeCountsSchema,
    error: z.string().nullable().describe('why it stopped'),
    createdBy: z.string(),
    createdAt: Iso,
    startedAt: Iso.nullable(),
    finishedAt: Iso.nullable(),
    updatedAt: Iso,
  })
  .meta({ id: 'FleetUpgrade' });
export type Upgrade = z.infer<typeof UpgradeSchema>;

export const UpgradeSummarySchema = UpgradeSchema.omit({ waves: true, applications: true }).meta({ id: 'FleetUpgradeSummary' });
export type UpgradeSummary = z.infer<typeof UpgradeSummarySchema>;
export const UpgradeListSchema = z.object({ items: z.array(UpgradeSummarySchema) });
export const UpgradeListQuerySchema = z.strictObject({
  status: UpgradeStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const UpgradePathSchema = z.strictObject({ id: z.uuid() });

export const UPGRADE_EVENT_TYPES = [
  'upgrade.started', 'upgrade.paused', 'upgrade.resumed', 'upgrade.cancelled', 'upgrade.interrupted', 'upgrade.finished',
  'wave.started', 'wave.finished',
  'application.started', 'application.step', 'application.upgraded', 'application.failed', 'application.reverted', 'application.skipped',
] as const;
export const UpgradeEventSchema = z
  .object({
    seq: z.number().int().describe('increasing; poll with ?after=<seq>'),
    at: Iso,
    type: z.enum(UPGRADE_EVENT_TYPES),
    wave: z.number().int().nullable(),
    application: z.string().nullable(),
    environment: z.string().nullable(),
    message: z.string(),
  })
  .meta({ id: 'FleetUpgradeEvent' });
export type UpgradeEvent = z.infer<typeof UpgradeEventSchema>;
export const UpgradeEventListSchema = z.object({ items: z.array(UpgradeEventSchema), status: UpgradeStatusSchema });

export const UpgradeEventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0).describe('events after this seq'),
  follow: z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1').describe('NDJSON: keep streaming until the upgrade ends, then a {"result": upgrade} line'),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

// ---- an application's upgrade history -------------------------------------------------------------

export const ApplicationUpgradeSchema = z
  .object({
    upgrade: z.uuid(),
    kind: PatternKindSchema,
    name: z.string(),
    from: z.string(),
    to: z.string(),
    state: UpgradeAppStateSchema,
    upgradeStatus: UpgradeStatusSchema,
    error: z.string().nullable(),
    environments: z.array(UpgradeEnvironmentSchema),
    createdBy: z.string(),
    startedAt: Iso.nullable(),
    finishedAt: Iso.nullable(),
  })
  .meta({ id: 'ApplicationUpgrade' });
export type ApplicationUpgrade = z.infer<typeof ApplicationUpgradeSchema>;
export const ApplicationUpgradeListSchema = z.object({ items: z.array(ApplicationUpgradeSchema), pins: z.array(PinSchema) });

export const AppNsQuerySchema = z.strictObject({ namespace: NamespaceSchema.default('default') });
