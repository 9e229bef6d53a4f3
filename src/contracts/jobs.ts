import { z } from 'zod';

/**
 * Jobs and servers: background work (provisioning an environment's resources, …) that any Pave server
 * of an installation may run, claimed by one at a time and taken over when its server dies; and the
 * registry of running servers.
 */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const JobStateSchema = z.enum(JOB_STATES);
export type JobStateName = z.infer<typeof JobStateSchema>;

export const JobErrorSchema = z
  .object({
    status: z.number().int(),
    type: z.string(),
    title: z.string(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
    message: z.string().optional().describe('the original message of an unexpected error (its detail stays generic)'),
  })
  .meta({ id: 'JobError' });

export const JobSchema = z
  .object({
    id: z.uuid(),
    kind: z.string().describe('what the job does, e.g. resources.apply'),
    subject: z.string().nullable().describe('what it is about, e.g. application:default/shop/development'),
    payload: z.unknown().describe('its input (never a secret)'),
    state: JobStateSchema,
    result: z.unknown().nullable().describe('what it returned, once succeeded'),
    error: JobErrorSchema.nullable().describe('why it failed'),
    attempts: z.number().int().describe('runs so far: 1, or more when it was taken over after its server stopped'),
    maxAttempts: z.number().int(),
    takeovers: z.number().int().describe('times another server took it over from a server that stopped renewing its lease'),
    server: z.string().nullable().describe('the id of the server running it (or that ran it last)'),
    serverHost: z.string().nullable().describe('that server\'s host and pid, while it is registered'),
    leaseExpiresAt: z.string().nullable().describe('while running: when another server may take it over unless its server renews the lease'),
    heartbeatAt: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().int().nullable(),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof JobSchema>;

export const JobEventSchema = z
  .object({
    id: z.number().int().describe('increases with every event of the installation'),
    at: z.string(),
    attempt: z.number().int(),
    server: z.string().nullable(),
    type: z.enum(['progress', 'queued', 'claimed', 'takeover', 'retry', 'succeeded', 'failed', 'released', 'lost']).describe(
      'progress: the handler\'s own event (data); claimed: a server started it; takeover: a server took it over (data.from: the server that stopped); retry: its handler asked to run it again later (data.reason); released: a stopping server gave it back; lost: a server found another had taken it over; succeeded, failed: the end',
    ),
    data: z.unknown(),
  })
  .meta({ id: 'JobEvent' });
export type JobEventView = z.infer<typeof JobEventSchema>;

export const JobDetailSchema = JobSchema.extend({ events: z.array(JobEventSchema) }).meta({ id: 'JobDetail' });
export type JobDetail = z.infer<typeof JobDetailSchema>;

export const JobListQuerySchema = z.strictObject({
  kind: z.string().regex(/^[a-z0-9]+([.-][a-z0-9]+)*$/, 'must be a job kind, e.g. resources.apply').max(100).optional(),
  state: JobStateSchema.optional(),
  subject: z.string().max(500).optional().describe('exactly this subject'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});
export type JobListQuery = z.input<typeof JobListQuerySchema>;

export const JobPageSchema = z.object({ items: z.array(JobSchema), nextCursor: z.string().nullable() }).meta({ id: 'JobPage' });
export type JobPage = z.infer<typeof JobPageSchema>;

export const ServerSchema = z
  .object({
    id: z.uuid(),
    host: z.string(),
    pid: z.number().int(),
    version: z.string(),
    url: z.string().nullable(),
    startedAt: z.string(),
    lastSeen: z.string().describe('its last heartbeat'),
    live: z.boolean().describe('its last heartbeat is younger than the job lease'),
    runningJobs: z.number().int(),
    self: z.boolean().describe('the server that answered this request'),
  })
  .meta({ id: 'Server' });
export type ServerView = z.infer<typeof ServerSchema>;

export const ServerListSchema = z
  .object({
    items: z.array(ServerSchema),
    multiServer: z.boolean().describe('more than one live server, or PAVE_HA=true: the local process runtime then refuses production deployments'),
    reason: z.string(),
    leaseSeconds: z.number(),
  })
  .meta({ id: 'ServerList' });
export type ServerList = z.infer<typeof ServerListSchema>;
