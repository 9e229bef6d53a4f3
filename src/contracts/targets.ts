import { z } from 'zod';
import { NamespaceSchema } from './common.ts';
import { SelectorSchema } from './deployments.ts';

/** Runtime targets: what Pave renders for Kubernetes and commits for GitOps (`pave render`). */

export const TARGET_RUNTIMES = ['kubernetes', 'gitops'] as const;
const DnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an RFC 1123 label').max(63);
const Host = z.string().max(253).regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lower-case host name');

export const RenderQuerySchema = z.strictObject({
  namespace: NamespaceSchema.default('default').describe('catalog namespace of the application'),
  runtime: z.enum(TARGET_RUNTIMES).optional().describe("kubernetes or gitops; default: the environment's runtime (its own, the application's, the team profile's) when it is one of them, else kubernetes"),
  format: z.enum(['json', 'yaml']).default('json').describe('json: the objects with warnings and placeholders; yaml: the objects as multi-document YAML (notes as comments)'),
  deployment: SelectorSchema.optional().describe("render what an existing deployment ran (its build and snapshot); default: what deploying now would run"),
  build: SelectorSchema.optional().describe('render this build (default: the newest successful one)'),
  k8sNamespace: DnsLabel.optional().describe('an existing Kubernetes namespace to use (default: Pave creates <app>-<env>)'),
  route: z.enum(['httproute', 'ingress']).optional().describe("how released environments are routed: a Gateway API HTTPRoute or an Ingress (default: the cluster's setting, else httproute)"),
  host: Host.optional().describe("the environment's host (default <app>-<env>.<domain>)"),
  domain: Host.optional(),
  gateway: z.string().regex(/^([a-z0-9-]+\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be <name> or <namespace>/<name>').optional().describe('the Gateway an HTTPRoute attaches to (default pave)'),
  ingressClass: DnsLabel.optional(),
  cluster: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63).optional().describe("the cluster's folder in the GitOps layout (default: the profile's region, else default)"),
  reveal: z.enum(['true', 'false']).default('false').describe('secret values in clear (needs secret.read; audited as secret.read); masked otherwise'),
});
export type RenderQuery = z.infer<typeof RenderQuerySchema>;

export const RenderedObjectSchema = z.object({
  phase: z.enum(['namespace', 'workload', 'release']).describe('namespace first, then what runs, then what switches traffic (applied once the workload is ready)'),
  object: z.record(z.string(), z.unknown()).describe('a Kubernetes object, validated against the Kubernetes schemas'),
});

export const RenderViewSchema = z
  .object({
    application: z.string(),
    environment: z.string(),
    runtime: z.enum(TARGET_RUNTIMES),
    namespace: z.string().describe('the Kubernetes namespace'),
    deployment: z.object({ id: z.string(), number: z.number().int(), existing: z.boolean().describe('false: what the next deployment would be') }),
    build: z.object({ number: z.number().int(), image: z.string().nullable() }).nullable(),
    objects: z.array(RenderedObjectSchema),
    warnings: z.array(z.string()).describe('where the rendering differs from what the workload says'),
    placeholders: z.array(z.string()).describe('values not known yet (an image not built, outputs not provisioned): such a rendering is for review, never applied'),
    errors: z.array(z.string()).describe('what Kubernetes cannot express or would refuse'),
    masked: z.boolean().describe('secret values are shown masked'),
    gitops: z
      .object({
        cluster: z.string(),
        folder: z.string(),
        files: z.array(z.object({ path: z.string(), content: z.string() })),
        omitted: z.array(z.string()).describe('Secrets left out of the repository'),
      })
      .nullable()
      .describe('for runtime gitops: the files as they would be committed'),
  })
  .meta({ id: 'RenderView' });
export type RenderView = z.infer<typeof RenderViewSchema>;

/** PUT …/environments/:env/runtime: where the environment's next deployments go. */
export const RuntimeUpdateSchema = z.strictObject({
  runtime: z
    .enum(['local', 'kubernetes', 'gitops'])
    .nullable()
    .describe("local, kubernetes or gitops; null: the application's runtime, else the team profile's. Takes effect with the next deployment: what runs keeps running until it is replaced"),
});
export type RuntimeUpdate = z.infer<typeof RuntimeUpdateSchema>;
