import { z } from 'zod';

/** Golden actions and their runs; the audit log's events. */

export const ActionViewSchema = z
  .object({
    key: z.string().describe('what to run it by: its id, or <add-on instance>:<id> when two sources offer the same id'),
    id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    parameters: z.record(z.string(), z.unknown()).describe('JSON Schema of the parameters'),
    environments: z.array(z.string()).describe('environment types where it may run'),
    role: z.enum(['developer', 'admin']),
    confirm: z.enum(['production', 'always', 'never']),
    timeoutSeconds: z.number().int(),
    kind: z.enum(['operation', 'http', 'command', 'lifecycle']),
    source: z.string(),
    addon: z.string().nullable(),
    allowedHere: z.boolean().nullable().describe('with ?environment=: whether it may run there'),
  })
  .meta({ id: 'Action' });
export type ActionView = z.infer<typeof ActionViewSchema>;

export const RunRequestSchema = z.strictObject({
  params: z.record(z.string(), z.unknown()).optional(),
  confirm: z.string().max(100).optional().describe('the environment\'s name, typed, where the action asks for confirmation (production by default)'),
});

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed-out'] as const;

export const ActionRunSchema = z
  .object({
    id: z.uuid(),
    application: z.string(),
    environment: z.string(),
    action: z.string(),
    title: z.string(),
    source: z.string(),
    kind: z.string(),
    params: z.record(z.string(), z.unknown()).describe('secret parameters masked'),
    status: z.enum(RUN_STATUSES),
    summary: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
    error: z.string().nullable(),
    output: z.array(z.string()).describe('output lines (timestamped) once the run ended; follow /output while it runs'),
    timeoutSeconds: z.number().int(),
    createdBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().int().nullable(),
  })
  .meta({ id: 'ActionRun' });
export type ActionRun = z.infer<typeof ActionRunSchema>;

export const RunOutputLineSchema = z.object({ ts: z.string(), line: z.string() });

/** Moved to the audit contracts; re-exported for the clients that import it from here. */
export { AuditEventSchema } from './audit.ts';
