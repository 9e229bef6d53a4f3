import { Readable } from 'node:stream';
import type { AuditFilter, AuditLog } from '../../audit/log.ts';
import { AuditFilterSchema, AuditListQuerySchema, AuditPageSchema, AuditVerificationSchema, type AuditFilter as AuditFilterQuery } from '../../contracts/audit.ts';
import { NDJSON } from '../ndjson.ts';
import { defineRoute, type Route } from '../route.ts';

/** `alice` → `user:default/alice`: the actor as the log records it; a ref stays as it is. */
const actorRef = (a: string) => (a.includes(':') ? a : `user:default/${a}`).toLowerCase();

function filterOf(q: AuditFilterQuery): AuditFilter {
  return {
    actor: q.actor ? actorRef(q.actor) : undefined, target: q.target, targetPrefix: q.targetPrefix, action: q.action, outcome: q.outcome, requestId: q.requestId,
    since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined,
  };
}

/**
 * The audit log, for those with audit.read (admins, platform engineers): query (keyset pages, newest first), export (JSON lines, oldest first),
 * and verification of the hash chain. Read-only: no route changes or deletes an event.
 */
export function auditRoutes(audit: AuditLog): Route[] {
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/audit', operationId: 'listAuditEvents', summary: 'Audit events, newest first (audit.read)', tag: 'audit',
      permission: { name: 'audit.read' },
      description: 'Filters are AND-ed; since is inclusive, until exclusive. Paginate with nextCursor (older events).',
      query: AuditListQuerySchema, errors: [403], response: { status: 200, description: 'A page of events', schema: AuditPageSchema },
      handler: ({ query }) => {
        return audit.list({ ...filterOf(query), limit: query.limit, before: query.cursor ? Number(query.cursor) : undefined });
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/audit/export', operationId: 'exportAuditEvents', summary: 'Every matching audit event as JSON lines, oldest first (audit.read)', tag: 'audit',
      permission: { name: 'audit.read' },
      description: 'The same filters as the list, without paging: one AuditEvent per line, in chain order, so that an export of the whole log can be verified offline (each prevHash is the hash of the line before).',
      query: AuditFilterSchema, errors: [403], response: { status: 200, description: 'One JSON event per line', contentType: NDJSON },
      handler: ({ query, reply }) => {
        const events = audit.stream(filterOf(query));
        reply.type(NDJSON);
        reply.header('cache-control', 'no-store');
        reply.header('content-disposition', `attachment; filename="pave-audit-${new Date().toISOString().slice(0, 10)}.jsonl"`);
        return Readable.from((async function* () {
          for await (const e of events) yield `${JSON.stringify(e)}\n`;
        })()) as never;
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/audit/verify', operationId: 'verifyAuditLog', summary: 'Recompute the audit log\'s hash chain (audit.read)', tag: 'audit',
      permission: { name: 'audit.read' },
      errors: [403], response: { status: 200, description: 'Whether the chain holds, and where it breaks', schema: AuditVerificationSchema },
      handler: () => {
        return audit.verify();
      },
    }),
  ];
}
