/**
 * The audit log (admins): pages of events, newest first, with filters; verifying the hash chain; and
 * exporting the matching events as JSON lines. Types come from src/contracts/audit.ts.
 *
 * The export needs the session's token, which a plain link cannot send: it is fetched and handed to
 * the browser as a file.
 */
import { useMemo } from 'react';
import type { AuditEvent, AuditPage, AuditVerification } from '../../../src/contracts/audit.ts';
import { createSender, type ApiError } from './client.ts';
import { useSession } from './session.tsx';

export type { AuditEvent, AuditPage, AuditVerification };

/** Filters as the page keeps them (strings; empty means no filter). */
export interface AuditFilters {
  actor?: string;
  targetPrefix?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

export const AUDIT_FILTER_KEYS = ['actor', 'targetPrefix', 'action', 'outcome', 'since', 'until'] as const;

interface Options {
  token: string | null;
  onUnauthorized?: (e: ApiError) => void;
  baseUrl?: string;
}

/** A local date-time (an <input type="datetime-local"> value) as the ISO instant the server takes. */
export function toInstant(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function query(f: AuditFilters): Record<string, string | undefined> {
  return { actor: f.actor || undefined, targetPrefix: f.targetPrefix || undefined, action: f.action || undefined, outcome: f.outcome || undefined, since: toInstant(f.since), until: toInstant(f.until) };
}

export function createAuditClient({ token, onUnauthorized, baseUrl = '' }: Options) {
  const send = createSender({ token, onUnauthorized, baseUrl });
  return {
    /** One page of matching events, newest first; pass the previous page's nextCursor for older ones. */
    list: async (f: AuditFilters, cursor: string | null, signal?: AbortSignal): Promise<AuditPage> =>
      (await send('/api/v1/audit', { query: { ...query(f), limit: 50, cursor: cursor ?? undefined }, signal })).json() as Promise<AuditPage>,
    verify: async (): Promise<AuditVerification> => (await send('/api/v1/audit/verify')).json() as Promise<AuditVerification>,
    /** Every matching event as JSON lines (oldest first), with the file name the server suggests. */
    export: async (f: AuditFilters): Promise<{ blob: Blob; filename: string }> => {
      const res = await send('/api/v1/audit/export', { query: query(f), accept: 'application/x-ndjson, application/problem+json' });
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'pave-audit.jsonl';
      return { blob: await res.blob(), filename: name };
    },
  };
}

export type AuditClient = ReturnType<typeof createAuditClient>;

export function useAuditApi(): AuditClient {
  const { token, signOut } = useSession();
  return useMemo(() => createAuditClient({ token, onUnauthorized: signOut }), [token, signOut]);
}

/** Hands a blob to the browser as a download. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
