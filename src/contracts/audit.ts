import { z } from 'zod';

/**
 * The audit log's contracts: events (append-only, hash-chained), the query of list and export, and
 * what verifying the chain found. No route changes or deletes an event.
 */
export const AuditEventSchema = z
  .object({
    id: z.number().int(),
    at: z.string().describe('when it was recorded (ISO 8601)'),
    actor: z.string().describe('the user ref of the caller, e.g. user:default/alice'),
    action: z.string().describe('the operation (operationId, e.g. createTeam), secret.read, or action.run'),
    target: z.string().describe('what it was done to, e.g. team:default/web or application:default/shop/environments/production/deployments'),
    outcome: z.string().describe('succeeded, failed or denied (action runs: started, denied, then how the run ended)'),
    requestId: z.string().nullable().describe('the x-request-id of the request'),
    details: z.record(z.string(), z.unknown()).describe('status, method, path, bodyDigest (sha256 of the request body; never the body), problem title'),
    prevHash: z.string().describe('the hash of the event before (64 zeros for the first)'),
    hash: z.string().describe('sha256 over this event and prevHash'),
  })
  .meta({ id: 'AuditEvent' });
export type AuditEvent = z.infer<typeof AuditEventSchema>;

const Instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** Filters of list and export, AND-ed. */
export const AuditFilterSchema = z.strictObject({
  actor: z.string().max(300).optional().describe('a user ref (user:default/alice), or a user name in the default namespace'),
  target: z.string().max(1000).optional().describe('exactly this target'),
  targetPrefix: z.string().max(1000).optional().describe('targets starting with this, e.g. application:default/shop/'),
  action: z.string().max(200).optional().describe('e.g. createTeam, secret.read, action.run'),
  outcome: z.string().max(50).optional().describe('e.g. succeeded, failed, denied'),
  requestId: z.string().max(200).optional().describe('events of one request (its x-request-id)'),
  since: Instant.optional().describe('events at or after this time (ISO 8601)'),
  until: Instant.optional().describe('events before this time (ISO 8601)'),
});
export type AuditFilter = z.infer<typeof AuditFilterSchema>;

export const AuditListQuerySchema = AuditFilterSchema.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('page size, 1 to 1000'),
  cursor: z.string().regex(/^[0-9]{1,18}$/, 'must be a nextCursor from a previous page').optional().describe("nextCursor of the previous page"),
});
export type AuditListQuery = z.input<typeof AuditListQuerySchema>;

export const AuditPageSchema = z.object({
  items: z.array(AuditEventSchema),
  nextCursor: z.string().nullable().describe('pass as cursor to fetch older events; null on the last page'),
});
export type AuditPage = z.infer<typeof AuditPageSchema>;

export const AuditVerificationSchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().describe('events found intact (before the break, when there is one)'),
    brokenAt: z.number().int().nullable().describe('the id of the first event where the chain does not hold'),
    reason: z.enum(['edited', 'unlinked']).optional().describe('edited: the event does not match its hash; unlinked: it does not link to the event before it (one was deleted, inserted or moved)'),
  })
  .meta({ id: 'AuditVerification' });
export type AuditVerification = z.infer<typeof AuditVerificationSchema>;
