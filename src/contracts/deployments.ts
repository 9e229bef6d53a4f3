import { z } from 'zod';

/** Builds, environment config, deployments, releases and logs: the contracts of the deployments API. */

const Id = z.uuid();
const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name: letters, digits and "_", not starting with a digit');
/** A deployment or build named by its id or its number. */
export const SelectorSchema = z.union([Id, z.coerce.number().int().min(1)]);

export const BuildCreateSchema = z
  .strictObject({
    path: z.string().min(1).max(4096).optional().describe('a source folder on the server\'s machine'),
    git: z.strictObject({ url: z.string().min(1).max(2048), ref: z.string().min(1).max(255).default('main') }).optional().describe('a git repository and a branch, tag or commit'),
  })
  .refine((b) => (b.path === undefined) !== (b.git === undefined), { message: 'give exactly one source: path or git', path: ['path'] });

export const ArtifactRegisterSchema = z.strictObject({
  image: z
    .string()
    .max(1024)
    .regex(/^[a-z0-9][a-z0-9._\-/:]*@sha256:[a-f0-9]{64}$/, 'must be an image reference pinned by digest, e.g. registry.example.com/app@sha256:<64 hex>')
    .describe('an image built by CI, pinned by digest'),
  processes: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.string().min(1).max(4096)).optional().describe('process types and their commands; defaults to the image\'s own entrypoint as web'),
});

export const BuildSchema = z
  .object({
    id: Id,
    number: z.number().int(),
    application: z.string(),
    status: z.enum(['building', 'succeeded', 'failed']),
    origin: z.enum(['build', 'registered']),
    source: z.record(z.string(), z.unknown()),
    sourceDigest: z.string().nullable(),
    artifact: z.object({ kind: z.enum(['local', 'image']), digest: z.string(), image: z.string().nullable() }).nullable(),
    processes: z.record(z.string(), z.string()),
    release: z.string().nullable(),
    detected: z.array(z.string()),
    reused: z.boolean().describe('the artifact of an earlier build of the same source was reused'),
    error: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Build' });
export type Build = z.infer<typeof BuildSchema>;

export const ConfigUpdateSchema = z.strictObject({
  set: z.record(EnvVarName, z.string().max(65_536)).optional().describe('variables to set'),
  secrets: z.record(EnvVarName, z.string().max(65_536)).optional().describe('secrets to set (encrypted at rest, always shown masked)'),
  unset: z.array(EnvVarName).max(500).optional().describe('variables or secrets to remove'),
});
export type ConfigUpdate = z.infer<typeof ConfigUpdateSchema>;

export const ConfigSchema = z
  .object({
    environment: z.string(),
    version: z.number().int().describe('0 until the first change'),
    variables: z.record(z.string(), z.string()),
    secrets: z.record(z.string(), z.string()).describe('names of the secrets, values masked'),
    layers: z.array(z.object({ source: z.string(), variables: z.record(z.string(), z.string()) })).describe('what the environment\'s processes get, lowest first: template workload, add-on outputs, environment config'),
    change: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.string().nullable(),
  })
  .meta({ id: 'EnvironmentConfig' });
export type Config = z.infer<typeof ConfigSchema>;

export const ChangeSchema = z.object({
  name: z.string(),
  change: z.enum(['added', 'removed', 'changed']),
  secret: z.boolean(),
  from: z.string().nullable().describe('masked for secrets'),
  to: z.string().nullable().describe('masked for secrets'),
});
export type Change = z.infer<typeof ChangeSchema>;

export const ConfigHistorySchema = z.object({
  items: z.array(z.object({ version: z.number().int(), change: z.string(), createdBy: z.string(), createdAt: z.string(), changes: z.array(ChangeSchema) })),
});

export const ProcessViewSchema = z.object({
  type: z.string(),
  replica: z.number().int(),
  port: z.number().int().nullable(),
  state: z.string().describe('starting, running, backoff (crashed, restarting), stopping, stopped'),
  pid: z.number().int().nullable(),
  restarts: z.number().int(),
  lastExit: z.object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: z.string() }).nullable(),
});

/** Runtime targets (src/targets): where a deployment runs. */
export const RUNTIMES = ['local', 'kubernetes', 'gitops'] as const;
export const RuntimeSchema = z.enum(RUNTIMES);

export const TargetObjectStatusSchema = z.object({
  object: z.string().describe('e.g. "Deployment shop-production/shop-4", or a file of the GitOps repository'),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().nullable(),
  state: z
    .enum(['applied', 'pruned', 'skipped', 'failed', 'committed', 'omitted', 'rendered', 'ready', 'progressing', 'missing'])
    .describe('applied (server-side apply accepted it), pruned, skipped (not Pave\'s: left alone), failed, committed (GitOps), omitted (a Secret kept out of the repository), rendered (not on the target yet); live: ready, progressing, missing'),
  detail: z.string().optional(),
});
export type TargetObjectStatus = z.infer<typeof TargetObjectStatusSchema>;

export const DeploymentTargetSchema = z.object({
  runtime: RuntimeSchema,
  cluster: z.string().nullable().describe("the cluster's name (team profile environments.<type>.cluster.name)"),
  location: z.string().describe('the API server, the GitOps repository, or this machine'),
  namespace: z.string().nullable().optional(),
  branch: z.string().nullable().optional(),
  commit: z.string().nullable().optional().describe('GitOps: the commit that released it'),
});

export const DeploymentSchema = z
  .object({
    id: Id,
    number: z.number().int(),
    application: z.string(),
    environment: z.string(),
    build: z.object({ id: Id, number: z.number().int(), digest: z.string().nullable() }),
    configVersion: z.number().int(),
    resourceVersions: z.record(z.string(), z.string()),
    status: z.enum(['starting', 'healthy', 'failed']).describe('health of the deployment when it was started'),
    running: z.enum(['running', 'warm', 'stopped']).describe('warm: still running after it was replaced, so that a rollback to it is instant'),
    released: z.boolean().describe('the environment\'s route points here'),
    releasePhase: z.enum(['succeeded', 'failed']).nullable(),
    error: z.string().nullable(),
    lastLogs: z.array(z.string()).describe('the last log lines, kept when the deployment failed'),
    processes: z.array(ProcessViewSchema),
    promotedFrom: z.string().nullable().describe('environment/number of the deployment whose build was promoted'),
    createdBy: z.string(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    runtime: RuntimeSchema.optional().describe('where it runs: local (processes behind Pave\'s router), kubernetes or gitops'),
    target: DeploymentTargetSchema.nullable().optional().describe('the cluster or repository it went to (null on the local runtime)'),
    objects: z.array(TargetObjectStatusSchema).optional().describe('Kubernetes and GitOps: each object as the last apply, commit or prune left it'),
  })
  .meta({ id: 'Deployment' });
export type Deployment = z.infer<typeof DeploymentSchema>;

export const DeployRequestSchema = z.strictObject({
  build: SelectorSchema.optional().describe('build id or number; defaults to the newest successful build'),
  release: z.boolean().default(false).describe('release it as soon as it is healthy'),
  timeoutSeconds: z.number().int().min(1).max(600).optional().describe('how long health checks may take (default 30 s)'),
});
export type DeployRequest = z.infer<typeof DeployRequestSchema>;

export const ReleaseRequestSchema = z.strictObject({ deployment: SelectorSchema.describe('deployment id or number') });
export const RollbackRequestSchema = z.strictObject({ to: SelectorSchema.optional().describe('deployment id or number; defaults to the one released before the current') });
export const PromoteRequestSchema = z.strictObject({
  from: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/),
  to: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/),
  release: z.boolean().default(false),
  timeoutSeconds: z.number().int().min(1).max(600).optional(),
});

export const ReleaseSchema = z.object({
  environment: z.string(),
  deployment: DeploymentSchema,
  previous: z.string().nullable().describe('id of the deployment released before'),
  kind: z.enum(['release', 'rollback', 'promote']),
  warm: z.boolean().describe('the deployment was still running, so the switch was instant'),
  durationMs: z.number().int(),
  url: z.string(),
});
export type Release = z.infer<typeof ReleaseSchema>;

export const ReleaseHistorySchema = z.object({
  items: z.array(z.object({ deployment: Id, number: z.number().int(), previous: z.string().nullable(), kind: z.string(), warm: z.boolean(), durationMs: z.number().int().nullable(), createdBy: z.string(), createdAt: z.string() })),
});

export const DeploymentDiffSchema = z
  .object({
    from: z.object({ id: Id, number: z.number().int(), environment: z.string() }),
    to: z.object({ id: Id, number: z.number().int(), environment: z.string() }),
    build: z.object({ changed: z.boolean(), from: z.string().nullable(), to: z.string().nullable() }),
    configVersion: z.object({ from: z.number().int(), to: z.number().int() }),
    variables: z.array(ChangeSchema.extend({ process: z.string() })),
    resources: z.array(z.object({ name: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
    processes: z.array(z.object({ type: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
  })
  .meta({ id: 'DeploymentDiff' });
export type DeploymentDiff = z.infer<typeof DeploymentDiffSchema>;

export const EnvironmentStatusSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    status: z.string().describe('empty (nothing released), running, degraded (a process is crashing), down, deleting, delete-failed'),
    url: z.string().nullable().describe('http://<app>-<env>.localhost:<port>'),
    pathUrl: z.string().nullable().describe('the same route for clients that cannot resolve *.localhost'),
    expiresAt: z.string().nullable(),
    clonedFrom: z.string().nullable(),
    released: DeploymentSchema.nullable(),
    deployments: z.array(DeploymentSchema).describe('deployments still running (warm or not yet released)'),
    runtime: RuntimeSchema.optional().describe("where the next deployment goes: the environment's runtime, else the application's, else the team profile's"),
    target: z
      .object({
        runtime: RuntimeSchema,
        source: z.enum(['environment', 'application', 'team profile', 'default']).describe('what chose the runtime'),
        cluster: z.string().nullable(),
        location: z.string().nullable().describe('the API server or GitOps repository (null on the local runtime)'),
        namespace: z.string().nullable(),
        problem: z.object({ path: z.string(), message: z.string() }).nullable().describe('why the cluster settings cannot serve this runtime (a deployment would be refused)'),
      })
      .optional(),
    objects: z.array(TargetObjectStatusSchema).optional().describe("Kubernetes and GitOps: the released deployment's objects as the cluster (or repository) reports them now"),
  })
  .meta({ id: 'EnvironmentStatus' });
export type EnvironmentStatus = z.infer<typeof EnvironmentStatusSchema>;

export const LogLineSchema = z.object({
  ts: z.string(),
  deployment: z.string().optional(),
  build: z.string().optional(),
  type: z.string().optional().describe('process type'),
  replica: z.number().int().optional(),
  stream: z.enum(['stdout', 'stderr', 'system']),
  line: z.string(),
});
export type LogLine = z.infer<typeof LogLineSchema>;

export const LogsQuerySchema = z.strictObject({
  namespace: z.string().default('default'),
  follow: z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1'),
  tail: z.coerce.number().int().min(0).max(10_000).default(100),
  deployment: SelectorSchema.optional(),
});
