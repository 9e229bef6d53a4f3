import { valid as validSemver, validRange } from 'semver';
import { z } from 'zod';
import { NameSchema } from '../contracts/common.ts';
import { POLICY_EVENTS } from '../contracts/policies.ts';
import { compileExpression, compileMessage } from '../policies/cel.ts';
import { findPlaceholders, isContextKey, CONTEXT_KEYS, type PathSegment } from './placeholders.ts';

/**
 * The files of a platform (golden paths as code): `apiVersion: pave.dev/v1`, a `kind`, `metadata` and a
 * `spec`, one object per YAML document. Unknown fields are errors (a typo is reported, not ignored),
 * except inside the parts kept opaque for later stages (actions, runtime, build, workload, params).
 */

export const API_VERSION = 'pave.dev/v1';
export const PLATFORM_KINDS = ['Template', 'AddOn', 'ResourceType', 'ResourceDefinition', 'TeamProfile', 'Policy'] as const;
export type PlatformKind = (typeof PLATFORM_KINDS)[number];
/** Kinds whose metadata.version is required (semver); the others may carry one. */
export const VERSIONED_KINDS: readonly PlatformKind[] = ['Template', 'AddOn'];

export const ENVIRONMENT_TYPES = ['development', 'staging', 'production', 'preview'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];
export const RUNTIMES = ['local', 'kubernetes', 'gitops'] as const;

// ---- building blocks -----------------------------------------------------------------------------

const SEMVER_MESSAGE = 'must be a semantic version such as 1.0.0';
export const SemverSchema = z.string({ error: SEMVER_MESSAGE }).refine((v) => validSemver(v) === v, SEMVER_MESSAGE);
export const SemverRangeSchema = z
  .string({ error: 'must be a semver range such as ^1.0.0, ~1.2 or 1.x' })
  .refine((v) => validRange(v) !== null, 'must be a semver range such as ^1.0.0, ~1.2 or 1.x');

/** Score's rules: resource names are RFC 1123 labels; types and classes letters, digits and "-". */
export const RESOURCE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
export const RESOURCE_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$/;
export const RESOURCE_ID_PATTERN = /^[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)*$/;
export const INPUT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const DRIVER_ID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SECRET_NAME_PATTERN = /^[a-z0-9]+([-_.][a-z0-9]+)*$/;
/** Score's resource limit formats. */
export const MEMORY_PATTERN = /^(0\.\d+|[1-9]\d*(\.\d+)?)(K|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
export const CPU_PATTERN = /^\d+(?:m|\.\d+)?$/;

const ResourceNameSchema = z.string().regex(RESOURCE_NAME_PATTERN, 'must be 2-63 lowercase letters, digits and "-", not starting or ending with "-"');
const ResourceTypeNameSchema = z.string().regex(RESOURCE_TYPE_PATTERN, 'must be 2-63 letters, digits and "-", not starting or ending with "-"');
const ResourceIdSchema = z.string().max(63).regex(RESOURCE_ID_PATTERN, 'must be lowercase labels of letters, digits and "-" separated by "."');
const InputNameSchema = z.string().regex(INPUT_NAME_PATTERN, 'must be letters, digits and "_", not starting with a digit');
const EnvVarSchema = z.string().regex(ENV_VAR_PATTERN, 'must be an environment variable name: letters, digits and "_", not starting with a digit');

export const MetadataSchema = z.strictObject({
  name: NameSchema,
  version: SemverSchema.optional(),
  title: z.string().max(200).optional(),
  description: z.string().max(10_000).optional(),
  tags: z.array(z.string().min(1).max(63)).max(100).optional(),
});
const versionedMetadata = (kind: string) =>
  MetadataSchema.extend({
    version: z
      .string({ error: (iss) => (iss.input === undefined ? `is required: a ${kind} is versioned, set metadata.version to a semantic version such as 1.0.0` : SEMVER_MESSAGE) })
      .refine((v) => validSemver(v) === v, SEMVER_MESSAGE),
  });

/**
 * One input of a template or add-on: a JSON Schema (draft-07) property. `user_editable: false` marks a
 * value only the platform team sets. Everything JSON Schema allows is kept; the loader compiles the
 * whole schema with ajv.
 */
export const InputPropertySchema = z.looseObject({
  type: z.union([z.string(), z.array(z.string())]).optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  user_editable: z.boolean({ error: 'must be true or false' }).optional(),
});
export type InputProperty = z.infer<typeof InputPropertySchema>;

/** The typed inputs of a template or add-on: a JSON Schema object with `properties` and `required`. */
export const InputsSchemaSchema = z.looseObject({
  type: z.literal('object', { error: 'must be "object": inputs are a JSON Schema object with properties' }),
  properties: z.record(InputNameSchema, InputPropertySchema).default({}),
  required: z.array(z.string()).optional(),
  additionalProperties: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
});
export type InputsSchema = z.infer<typeof InputsSchemaSchema>;
const EMPTY_INPUTS = () => ({ type: 'object' as const, properties: {} });

/** The opaque JSON Schema of a resource type's params. */
const ParamsSchemaSchema = z.looseObject({ type: z.literal('object', { error: 'must be "object"' }) });

/** Light structural check of a Score workload; full Score validation happens elsewhere. */
export const WorkloadSchema = z.looseObject({
  apiVersion: z.literal('score.dev/v1b1', { error: 'must be "score.dev/v1b1": the workload is a Score workload' }),
  metadata: z.record(z.string(), z.unknown()).optional(),
  containers: z.record(z.string(), z.unknown(), { error: 'must be an object of named containers' }),
  service: z.record(z.string(), z.unknown()).optional(),
  resources: z.record(z.string(), z.unknown()).optional(),
});
export type Workload = z.infer<typeof WorkloadSchema>;

const OpaqueObject = z.record(z.string(), z.unknown(), { error: 'must be an object' });
/** What an action runs: exactly one of a driver operation, an HTTP request, a declared command, or a lifecycle step. */
export const LIFECYCLE_STEPS = ['build', 'deploy', 'release', 'promote', 'rollback', 'restart', 'scale'] as const;
const ActionRunSchema = z
  .strictObject({
    operation: z.strictObject({
      resource: z.string().regex(RESOURCE_NAME_PATTERN, 'must name a resource of the workload (templates) or of the add-on (add-ons)'),
      name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be an operation id such as purge-cache'),
      args: z.record(z.string(), z.unknown()).optional(),
    }).optional(),
    http: z.strictObject({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
      url: z.string().min(1).max(4096),
      headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), z.string().max(8192)).optional(),
      body: z.unknown().optional(),
    }).optional(),
    command: z.string().min(1).max(4096).describe('run with the application\'s released build and environment; the platform team writes it, developers only pass parameters').optional(),
    lifecycle: z.strictObject({ step: z.enum(LIFECYCLE_STEPS), args: z.record(z.string(), z.unknown()).optional() }).optional(),
  })
  .refine((r) => [r.operation, r.http, r.command, r.lifecycle].filter((x) => x !== undefined).length === 1, 'must have exactly one of operation, http, command, lifecycle');

export const ActionSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase letters, digits and "-", e.g. purge-cache'),
  title: z.string().min(1).max(200),
  description: z.string().max(10_000).optional(),
  parameters: InputsSchemaSchema.default(EMPTY_INPUTS),
  environments: z.array(z.enum(ENVIRONMENT_TYPES, { error: `must be one of ${ENVIRONMENT_TYPES.join(', ')}` })).min(1).default([...ENVIRONMENT_TYPES]).describe('the environment types where it may run'),
  role: z.enum(['developer', 'admin'], { error: 'must be developer (members of the owning team, and admins) or admin' }).default('developer'),
  confirm: z.enum(['production', 'always', 'never']).default('production').describe('when a typed confirmation is asked for'),
  timeout: z.string().regex(/^[1-9][0-9]{0,5}(s|m|h)$/, 'must be a duration such as 30s, 5m or 1h').default('5m'),
  run: ActionRunSchema,
});
export type Action = z.infer<typeof ActionSchema>;

const Actions = z
  .array(ActionSchema, { error: 'must be a list of actions' })
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((a, i) => {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', message: `action id ${a.id} is used twice`, path: [i, 'id'] });
      seen.add(a.id);
      checkRefs(a.run, [i, 'run'], ctx, (ref, raw) => {
        if (ref[0] === 'params') return ref.length === 2 && a.parameters.properties[ref[1]!] ? null : `${raw}: the action declares no parameter ${ref[1] ?? ''}`;
        if (ref[0] === 'resources') return ref.length === 3 ? null : `${raw} must name a resource and an output, e.g. \${resources.db.host}`;
        if (ref[0] === 'app' || ref[0] === 'env') return ref.length === 2 ? null : `${raw}: use \${app.name}, \${env.name}, \${env.type} or \${env.url}`;
        return `${raw}: an action may use \${params.*}, \${resources.*}, \${app.*} and \${env.*} placeholders`;
      });
    });
  });

// ---- placeholder checks ----------------------------------------------------------------------------

type Ctx = z.core.$RefinementCtx;

/**
 * Checks the `${...}` references in `value`: `allow(ref)` returns an error message or null.
 * Reports at `base + path` of the string holding the reference.
 */
function checkRefs(value: unknown, base: PathSegment[], ctx: Ctx, allow: (ref: string[], raw: string) => string | null): void {
  const found = findPlaceholders(value);
  if (!Array.isArray(found)) {
    ctx.addIssue({ code: 'custom', path: [...base, ...found.path], message: found.error });
    return;
  }
  for (const f of found) {
    const message = allow(f.ref, f.raw);
    if (message) ctx.addIssue({ code: 'custom', path: [...base, ...f.path], message });
  }
}

function inputRef(inputs: InputsSchema, ref: string[], raw: string): string | null {
  const name = ref[1];
  const known = Object.keys(inputs.properties);
  if (!name) return `${raw} must name an input, e.g. \${inputs.${known[0] ?? 'size'}}`;
  if (!Object.hasOwn(inputs.properties, name)) return `${raw} refers to an input that spec.inputs does not declare (${known.length ? `declared: ${known.join(', ')}` : 'no inputs are declared'})`;
  return null;
}

// ---- kinds ---------------------------------------------------------------------------------------

export const AddOnRefSchema = z
  .strictObject({
    addon: NameSchema,
    version: SemverRangeSchema,
    name: ResourceNameSchema.optional().describe('instance name; defaults to the add-on name'),
    inputs: z.record(z.string(), z.unknown()).optional(),
  })
  .transform((v) => ({ ...v, name: v.name ?? v.addon }));

export const TemplateSpecSchema = z
  .strictObject({
    inputs: InputsSchemaSchema.default(EMPTY_INPUTS),
    workload: WorkloadSchema,
    addons: z.array(AddOnRefSchema).default([]),
    actions: Actions.optional(),
    readme: z.string().max(200_000).optional(),
    runtime: OpaqueObject.optional(),
    build: OpaqueObject.optional(),
  })
  .superRefine((spec, ctx) => {
    checkRefs(spec.workload, ['workload'], ctx, (ref, raw) => {
      if (ref[0] === 'inputs') return inputRef(spec.inputs, ref, raw);
      if (ref[0] === 'resources' || ref[0] === 'metadata') return null;
      return `${raw}: a workload may use \${inputs.*}, \${resources.*} and \${metadata.*} placeholders`;
    });
    const seen = new Map<string, number>();
    spec.addons.forEach((a, i) => {
      const first = seen.get(a.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['addons', i, 'name'], message: `add-on instance name "${a.name}" is already used by addons[${first}]; give one of them another name` });
      else seen.set(a.name, i);
      if (a.inputs) checkRefs(a.inputs, ['addons', i, 'inputs'], ctx, (ref, raw) => (ref[0] === 'inputs' ? inputRef(spec.inputs, ref, raw) : `${raw}: add-on inputs in a template may only use \${inputs.*}`));
    });
    checkRequired(spec.inputs, ctx);
  });

export const AddOnResourceSchema = z.strictObject({
  type: ResourceTypeNameSchema,
  class: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  id: ResourceIdSchema.optional().describe('a shared resource id: resources with the same type, class and id are one resource'),
});

export const AddOnSpecSchema = z
  .strictObject({
    inputs: InputsSchemaSchema.default(EMPTY_INPUTS),
    resources: z.record(ResourceNameSchema, AddOnResourceSchema).default({}),
    outputs: z.record(EnvVarSchema, z.string({ error: 'must be a string (a template such as "${resources.db.host}")' })).default({}),
    actions: Actions.optional(),
  })
  .superRefine((spec, ctx) => {
    const names = Object.keys(spec.resources);
    const resourceRef = (ref: string[], raw: string, self: string | null): string | null => {
      const [, name, output] = ref;
      if (!name || !output || ref.length !== 3) return `${raw} must name a resource and an output, e.g. \${resources.${names[0] ?? 'db'}.host}`;
      if (name === self) return `${raw}: a resource cannot use its own outputs`;
      if (!names.includes(name)) return `${raw} refers to a resource that spec.resources does not declare (${names.length ? `declared: ${names.join(', ')}` : 'none are declared'})`;
      return null;
    };
    for (const [name, res] of Object.entries(spec.resources)) {
      if (res.class !== undefined) {
        checkRefs(res.class, ['resources', name, 'class'], ctx, (ref, raw) => (ref[0] === 'inputs' ? inputRef(spec.inputs, ref, raw) : `${raw}: a class may only use \${inputs.*}`));
        if (!res.class.includes('${') && !RESOURCE_TYPE_PATTERN.test(res.class))
          ctx.addIssue({ code: 'custom', path: ['resources', name, 'class'], message: 'must be 2-63 letters, digits and "-", or an ${inputs.*} placeholder' });
      }
      if (res.params)
        checkRefs(res.params, ['resources', name, 'params'], ctx, (ref, raw) => {
          if (ref[0] === 'inputs') return inputRef(spec.inputs, ref, raw);
          if (ref[0] === 'resources') return resourceRef(ref, raw, name);
          return `${raw}: params may use \${inputs.*} and \${resources.<name>.<output>}`;
        });
    }
    checkRefs(spec.outputs, ['outputs'], ctx, (ref, raw) => {
      if (ref[0] === 'inputs') return inputRef(spec.inputs, ref, raw);
      if (ref[0] === 'resources') return resourceRef(ref, raw, null);
      return `${raw}: outputs may use \${inputs.*} and \${resources.<name>.<output>}`;
    });
    checkRequired(spec.inputs, ctx);
  });

function checkRequired(inputs: InputsSchema, ctx: Ctx): void {
  (inputs.required ?? []).forEach((name, i) => {
    if (!Object.hasOwn(inputs.properties, name)) ctx.addIssue({ code: 'custom', path: ['inputs', 'required', i], message: `"${name}" is required but not declared in inputs.properties` });
  });
}

export const OUTPUT_TYPES = ['string', 'integer', 'number', 'boolean', 'object'] as const;
export const ResourceOutputSchema = z.strictObject({
  type: z.enum(OUTPUT_TYPES, { error: `must be one of ${OUTPUT_TYPES.join(', ')}` }),
  secret: z.boolean().optional(),
  description: z.string().optional(),
});
export type ResourceOutput = z.infer<typeof ResourceOutputSchema>;

export const ResourceTypeSpecSchema = z.strictObject({
  description: z.string().optional(),
  params: ParamsSchemaSchema.optional(),
  outputs: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" and "-"'), ResourceOutputSchema).default({}),
  /** Outputs not listed are allowed too (e.g. `environment`, whose keys are whatever the workload asks). */
  openOutputs: z.boolean().default(false),
});

export const CriterionSchema = z.strictObject({
  environmentType: z.enum(ENVIRONMENT_TYPES, { error: `must be one of ${ENVIRONMENT_TYPES.join(', ')}` }).optional(),
  environment: z.string().min(1).optional(),
  application: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  class: z.string().min(1).optional(),
  id: z.string().min(1).optional(),
});
export type Criterion = z.infer<typeof CriterionSchema>;

/** A platform secret stored encrypted in Pave (`pave platform secrets set NAME`). */
export const SecretRefSchema = z.strictObject({ secretRef: z.string().regex(SECRET_NAME_PATTERN, 'must be lowercase letters, digits and single "-", "_" or "." between them') });
export type SecretRef = z.infer<typeof SecretRefSchema>;
export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secretRef?: unknown }).secretRef === 'string';
}

export const ResourceDefinitionSpecSchema = z
  .strictObject({
    type: ResourceTypeNameSchema,
    driver: z.string().regex(DRIVER_ID_PATTERN, 'must be a driver id such as postgres or nats-stream'),
    criteria: z.array(CriterionSchema).default([]),
    inputs: z.record(z.string(), z.unknown()).default({}),
    description: z.string().optional(),
  })
  .superRefine((spec, ctx) => {
    for (const [key, v] of Object.entries(spec.inputs)) {
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'secretRef' in v) {
        const r = SecretRefSchema.safeParse(v);
        if (!r.success)
          for (const issue of r.error.issues)
            ctx.addIssue({
              code: 'custom',
              path: ['inputs', key, ...issue.path.map(String)],
              message: issue.code === 'unrecognized_keys' ? 'a secret reference is { secretRef: NAME } and nothing else' : issue.message,
            });
        continue;
      }
      checkRefs(v, ['inputs', key], ctx, (ref, raw) =>
        ref[0] === 'context' && (ref.length !== 2 || !isContextKey(ref[1])) ? `${raw}: use one of ${CONTEXT_KEYS.map((k) => `\${context.${k}}`).join(', ')}` : null,
      );
    }
  });

/**
 * Where an environment type's deployments go when its runtime is `kubernetes` or `gitops` (a team
 * profile's `environments.<type>.cluster`, as Humanitec picks a k8s-cluster per environment type):
 * the API server and credentials (platform secrets, never written here), an optional existing
 * namespace, how released environments are routed, and for GitOps the repository. Checked again, with
 * the secrets, when a deployment uses it.
 */
const CredentialRefSchema = z.strictObject(
  { secretRef: z.string().regex(SECRET_NAME_PATTERN, 'must be lowercase letters, digits and single "-", "_" or "." between them') },
  { error: (iss) => (iss.code === 'invalid_type' ? 'must be { secretRef: NAME } naming a platform secret (pave platform secrets set NAME): credentials are never written in a profile' : undefined) },
);
const ClusterLabel = z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an RFC 1123 label: lowercase letters, digits and "-"');
export const ClusterSettingsSchema = z
  .strictObject({
    name: ClusterLabel.describe("the cluster's name: shown in status, and its folder clusters/<name>/ in a GitOps repository"),
    server: z.string().max(2048).regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, "must be the API server's URL, e.g. https://10.0.0.1:6443").optional(),
    ca: z.union([z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be a PEM certificate or { secretRef: NAME }' }), CredentialRefSchema]).optional().describe("the cluster's CA (PEM), with server"),
    token: CredentialRefSchema.optional().describe('a bearer token (a platform secret), with server'),
    kubeconfig: CredentialRefSchema.optional().describe('a kubeconfig (a platform secret): its server, CA, and token or client certificate'),
    context: z.string().min(1).max(253).optional().describe("the kubeconfig's context (default: its current-context)"),
    inCluster: z.boolean().optional().describe("Pave's own service account, when Pave runs in the cluster"),
    insecureSkipTlsVerify: z.boolean().optional(),
    namespace: ClusterLabel.optional().describe('an existing namespace every application of the environment type uses (default: Pave creates <app>-<env>)'),
    domain: z.string().max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lower-case domain').optional().describe('released environments are routed at <app>-<env>.<domain>'),
    route: z.enum(['httproute', 'ingress'], { error: 'must be httproute or ingress' }).optional(),
    gateway: z.string().regex(/^([a-z0-9-]+\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be <name> or <namespace>/<name>').optional(),
    ingressClass: ClusterLabel.optional(),
    rolloutTimeout: z.string().regex(/^[1-9][0-9]{0,4}(s|m)$/, 'must be a duration such as 90s or 5m').optional().describe('how long a rollout may take (default 5m)'),
    gitops: z
      .strictObject({
        remote: z.string().min(1).max(2048).optional().describe('the repository to clone and push to (any URL git understands, or a path)'),
        directory: z.string().startsWith('/', 'must be an absolute path').optional().describe("Pave's working clone (default: in its data directory)"),
        branch: z.string().regex(/^[A-Za-z0-9._/-]{1,200}$/, 'must be a branch name').optional(),
        secrets: z.enum(['omit', 'commit'], { error: 'must be omit or commit' }).optional(),
      })
      .refine((g) => g.remote !== undefined || g.directory !== undefined, { message: 'give remote (a repository to push to) or directory (a local repository)', path: ['remote'] })
      .optional()
      .describe('for runtime gitops: the repository the rendered objects are committed to'),
  })
  .superRefine((c, ctx) => {
    const ways = (['server', 'kubeconfig', 'inCluster'] as const).filter((k) => (k === 'inCluster' ? c.inCluster === true : c[k] !== undefined));
    if (ways.length > 1) ctx.addIssue({ code: 'custom', path: [ways[1]!], message: `give one way to reach the cluster: ${ways.join(' and ')} are both set` });
    for (const k of ['token', 'ca', 'insecureSkipTlsVerify'] as const) if (c[k] !== undefined && c.server === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} goes with server` });
    if (c.context !== undefined && c.kubeconfig === undefined) ctx.addIssue({ code: 'custom', path: ['context'], message: 'context goes with kubeconfig' });
  });
export type ClusterSettings = z.infer<typeof ClusterSettingsSchema>;

export const EnvironmentDefaultsSchema = z.strictObject({
  runtime: z.enum(RUNTIMES, { error: `must be one of ${RUNTIMES.join(', ')}` }).optional(),
  region: z.string().min(1).optional(),
  replicas: z.number().int().min(0).max(1000).optional(),
  cpu: z.string().regex(CPU_PATTERN, 'must be whole or fractional CPUs or milli-CPUs, e.g. 0.5 or 250m').optional(),
  memory: z.string().regex(MEMORY_PATTERN, 'must be bytes with an optional unit, e.g. 256Mi or 1Gi').optional(),
  port: z.number().int().min(1).max(65535).optional(),
  healthPath: z.string().startsWith('/', 'must start with "/"').optional(),
  registry: z.string().min(1).optional(),
  variables: z.record(z.string().regex(ENV_VAR_PATTERN, 'must be a variable name'), z.string()).optional(),
  cluster: ClusterSettingsSchema.optional().describe('for runtime kubernetes or gitops: the cluster (and GitOps repository) of this environment type'),
});
export type EnvironmentDefaults = z.infer<typeof EnvironmentDefaultsSchema>;

export const TeamProfileSpecSchema = z.strictObject({
  team: z.union([z.literal('*'), NameSchema], { error: 'must be a team name, or "*" for the default profile' }),
  defaultTemplate: NameSchema.optional(),
  environments: z.partialRecord(z.enum(ENVIRONMENT_TYPES, { error: `must be one of ${ENVIRONMENT_TYPES.join(', ')}` }), EnvironmentDefaultsSchema).default({}),
});

/**
 * A guardrail: a CEL expression over the request (`deny`, true when it must be refused) and the reason
 * given when it is. Both are compiled here, when the platform loads, so that a policy that does not
 * compile is reported with its file and line, and left out; the others still load.
 */
export const PolicySpecSchema = z
  .strictObject({
    on: z.array(z.enum(POLICY_EVENTS, { error: `must be one of ${POLICY_EVENTS.join(', ')}` }), { error: 'must be a list of events' }).min(1, 'must name at least one event'),
    environmentTypes: z.array(z.enum(ENVIRONMENT_TYPES, { error: `must be one of ${ENVIRONMENT_TYPES.join(', ')}` })).min(1).optional().describe('only requests about environments of these types; default: all'),
    params: z.record(InputNameSchema, z.unknown()).default({}).describe('constants the expressions read as params.<name>'),
    deny: z.string({ error: 'is required: a CEL expression that is true when the request must be refused' }).min(1).max(10_000),
    message: z.string({ error: 'is required: the reason given when the policy denies (it may use ${…} CEL expressions)' }).min(1).max(2000),
    onError: z.enum(['deny', 'allow'], { error: 'must be deny (an evaluation error refuses the request, the default) or allow' }).default('deny'),
  })
  .superRefine((spec, ctx) => {
    const scope = { events: [...new Set(spec.on)], params: spec.params };
    const rule = compileExpression(spec.deny, scope);
    if (!rule.ok) for (const m of rule.errors) ctx.addIssue({ code: 'custom', path: ['deny'], message: `CEL: ${m}` });
    const message = compileMessage(spec.message, scope);
    if (!message.ok) for (const m of message.errors) ctx.addIssue({ code: 'custom', path: ['message'], message: `CEL: ${m}` });
  });

// ---- objects -------------------------------------------------------------------------------------

const envelope = <K extends PlatformKind, M extends z.ZodType, S extends z.ZodType>(kind: K, metadata: M, spec: S) =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION, { error: `must be "${API_VERSION}"` }),
    kind: z.literal(kind),
    metadata,
    spec,
  });

export const TemplateSchema = envelope('Template', versionedMetadata('Template'), TemplateSpecSchema);
export const AddOnSchema = envelope('AddOn', versionedMetadata('AddOn'), AddOnSpecSchema);
export const ResourceTypeSchema = envelope('ResourceType', MetadataSchema, ResourceTypeSpecSchema);
export const ResourceDefinitionSchema = envelope('ResourceDefinition', MetadataSchema, ResourceDefinitionSpecSchema);
export const TeamProfileSchema = envelope('TeamProfile', MetadataSchema, TeamProfileSpecSchema);
export const PolicySchema = envelope('Policy', MetadataSchema, PolicySpecSchema);

export type Template = z.infer<typeof TemplateSchema>;
export type AddOn = z.infer<typeof AddOnSchema>;
export type ResourceType = z.infer<typeof ResourceTypeSchema>;
export type ResourceDefinition = z.infer<typeof ResourceDefinitionSchema>;
export type TeamProfile = z.infer<typeof TeamProfileSchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type AddOnRef = Template['spec']['addons'][number];
export type AddOnResource = z.infer<typeof AddOnResourceSchema>;

export const PLATFORM_SCHEMAS = {
  Template: TemplateSchema,
  AddOn: AddOnSchema,
  ResourceType: ResourceTypeSchema,
  ResourceDefinition: ResourceDefinitionSchema,
  TeamProfile: TeamProfileSchema,
  Policy: PolicySchema,
} as const;

export const PlatformObjectSchema = z.discriminatedUnion('kind', [TemplateSchema, AddOnSchema, ResourceTypeSchema, ResourceDefinitionSchema, TeamProfileSchema, PolicySchema]);
export type PlatformObject = z.infer<typeof PlatformObjectSchema>;
export type PlatformObjectOf<K extends PlatformKind> = Extract<PlatformObject, { kind: K }>;

export function isPlatformKind(kind: unknown): kind is PlatformKind {
  return (PLATFORM_KINDS as readonly unknown[]).includes(kind);
}

/** `Template node-service 1.0.0`, `ResourceType postgres`. */
export function describeObject(o: { kind: string; metadata: { name: string; version?: string | undefined } }): string {
  return `${o.kind} ${o.metadata.name}${o.metadata.version ? ` ${o.metadata.version}` : ''}`;
}

/**
 * The outputs (environment variables) of an add-on that carry a secret: those whose template uses a
 * secret output of one of its resources (e.g. DATABASE_URL with `${resources.db.password}`). Store and
 * show them as secrets.
 */
export function addOnSecretOutputs(addon: AddOn, types: readonly ResourceType[]): string[] {
  const byName = new Map(types.map((t) => [t.metadata.name, t]));
  const secret: string[] = [];
  for (const [name, template] of Object.entries(addon.spec.outputs)) {
    const found = findPlaceholders(template);
    if (!Array.isArray(found)) continue;
    const isSecret = found.some(({ ref }) => {
      if (ref[0] !== 'resources' || ref.length !== 3) return false;
      const type = byName.get(addon.spec.resources[ref[1] as string]?.type ?? '');
      return type?.spec.outputs[ref[2] as string]?.secret === true;
    });
    if (isSecret) secret.push(name);
  }
  return secret;
}
