import { z } from 'zod';
import { NameSchema, NamespaceSchema } from './common.ts';

/** Policies (guardrails as code): what the API shows of them, and the dry run of a request against them. */

/** The requests a policy may guard. */
export const POLICY_EVENTS = ['application.create', 'addon.attach', 'resource.provision', 'deployment.create', 'release', 'action.run'] as const;
export type PolicyEvent = (typeof POLICY_EVENTS)[number];
export const PolicyEventSchema = z.enum(POLICY_EVENTS, { error: `must be one of ${POLICY_EVENTS.join(', ')}` });

/** The problem type of a request a policy refused (403). */
export const POLICY_DENIED = 'policy-denied';

export const PolicyViewSchema = z
  .object({
    name: z.string(),
    revision: z.string().describe('r1, r2, …: a new revision whenever the policy changes'),
    title: z.string().nullable(),
    description: z.string().nullable(),
    on: z.array(PolicyEventSchema),
    environmentTypes: z.array(z.string()).nullable().describe('the environment types it applies to; null: all'),
    deny: z.string().describe('CEL expression, true when the request must be refused'),
    message: z.string().describe('the reason given when it denies; ${…} parts are CEL expressions'),
    params: z.record(z.string(), z.unknown()).describe('constants the expression reads as params.<name>'),
    onError: z.enum(['deny', 'allow']).describe('what an evaluation error means'),
    source: z.string().describe('where it was loaded from: <platform source>:<file>'),
    createdAt: z.string(),
  })
  .meta({ id: 'Policy' });
export type PolicyView = z.infer<typeof PolicyViewSchema>;

const PolicyFileErrorSchema = z.object({ file: z.string(), document: z.number().int(), line: z.number().int().nullable(), path: z.string().nullable(), message: z.string() });

export const PolicyListSchema = z.object({
  items: z.array(PolicyViewSchema),
  errors: z.array(PolicyFileErrorSchema).describe('policies the last platform sync could not load (e.g. a CEL expression that does not compile), with file and line; they are not in force'),
});

export const PolicyTestRequestSchema = z
  .strictObject({
    event: PolicyEventSchema,
    application: NameSchema.optional().describe('an existing application: its team, template, inputs and environments fill the request'),
    namespace: NamespaceSchema.default('default'),
    environment: z.string().min(1).max(63).optional().describe("one of the application's environments (by name); without it, each of them is evaluated"),
    request: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('request fields, over those taken from the application: application, environment, environments, addon, addons, resource, deployment, release, action, actor (the caller by default)'),
    team: z
      .strictObject({ applications: z.number().int().min(0).optional(), resources: z.record(z.string(), z.number().int().min(0)).optional() })
      .optional()
      .describe("counts to assume instead of the team's real ones"),
    now: z.iso.datetime({ offset: true }).optional().describe('the time to evaluate at (default: now)'),
  })
  .meta({ id: 'PolicyTestRequest' });
export type PolicyTestRequest = z.input<typeof PolicyTestRequestSchema>;

export const PolicyDecisionSchema = z
  .object({
    policy: z.string(),
    revision: z.string(),
    event: PolicyEventSchema,
    environment: z.string().nullable().describe('the environment this decision is about'),
    subject: z.string().nullable().describe('what in the request it is about: an add-on instance, a resource'),
    applies: z.boolean(),
    denied: z.boolean(),
    why: z.string().describe('why it does not apply, or what its expression gave'),
    message: z.string().nullable().describe('the reason, when it denies'),
    error: z.string().nullable().describe('the evaluation error, if any (the policy\'s onError says whether it denies)'),
  })
  .meta({ id: 'PolicyDecision' });
export type PolicyDecision = z.infer<typeof PolicyDecisionSchema>;

export const PolicyTestResultSchema = z
  .object({
    event: PolicyEventSchema,
    allowed: z.boolean(),
    decisions: z.array(PolicyDecisionSchema).describe('every policy, for each environment (and subject) the request concerns'),
    contexts: z.array(z.record(z.string(), z.unknown())).describe('what the expressions saw: request, team and now, per evaluation'),
  })
  .meta({ id: 'PolicyTestResult' });
export type PolicyTestResult = z.infer<typeof PolicyTestResultSchema>;
