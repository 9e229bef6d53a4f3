/**
 * Jobs and servers (admins and platform engineers: audit.read): background work any Pave server of the installation may run, and the
 * registry of servers. Types come from src/contracts/jobs.ts.
 */
import { useMemo } from 'react';
import type { JobDetail, JobEventView, JobPage, JobStateName, JobView, ServerList, ServerView } from '../../../src/contracts/jobs.ts';
import { createSender, type ApiError } from './client.ts';
import { useSession } from './session.tsx';

export type { JobDetail, JobEventView, JobPage, JobStateName, JobView, ServerList, ServerView };

export const JOB_STATES: JobStateName[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
export const JOB_STATE_COLORS: Record<JobStateName, string> = { queued: 'gray', running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'gray' };
/** How often the page asks again while it is open. */
export const JOBS_POLL_MS = 2000;

export interface JobFilters {
  kind?: string;
  state?: string;
}

interface Options {
  token: string | null;
  onUnauthorized?: (e: ApiError) => void;
  baseUrl?: string;
}

export function createJobsClient({ token, onUnauthorized, baseUrl = '' }: Options) {
  const send = createSender({ token, onUnauthorized, baseUrl });
  return {
    list: async (f: JobFilters, signal?: AbortSignal): Promise<JobPage> =>
      (await send('/api/v1/jobs', { query: { kind: f.kind || undefined, state: f.state || undefined, limit: 100 }, signal })).json() as Promise<JobPage>,
    get: async (id: string, signal?: AbortSignal): Promise<JobDetail> => (await send(`/api/v1/jobs/${encodeURIComponent(id)}`, { signal })).json() as Promise<JobDetail>,
    servers: async (signal?: AbortSignal): Promise<ServerList> => (await send('/api/v1/servers', { signal })).json() as Promise<ServerList>,
  };
}

export type JobsClient = ReturnType<typeof createJobsClient>;

export function useJobsApi(): JobsClient {
  const { token, signOut } = useSession();
  return useMemo(() => createJobsClient({ token, onUnauthorized: signOut }), [token, signOut]);
}

/** One event in words: a resource's progress, a claim, a takeover (from which server), the end. */
export function jobEventText(e: JobEventView, hostOf: (id: string | null) => string): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'progress':
      if (typeof d.resource === 'string' && typeof d.phase === 'string') return `${d.resource} (${String(d.type)}): ${d.phase}${typeof d.detail === 'string' ? ` — ${d.detail}` : ''}`;
      return typeof d.message === 'string' ? d.message : JSON.stringify(e.data);
    case 'queued':
      return 'queued';
    case 'claimed':
      return `started on ${hostOf(e.server)}`;
    case 'takeover':
      return `taken over by ${hostOf(e.server)} from ${hostOf(typeof d.from === 'string' ? d.from : null)}, which stopped renewing its lease`;
    case 'retry':
      return `to be retried: ${typeof d.reason === 'string' ? d.reason : ''}`;
    case 'released':
      return `given back by ${hostOf(e.server)}, which was stopping`;
    case 'lost':
      return `${hostOf(e.server)} found that another server had taken it over`;
    case 'failed':
      return `failed: ${typeof d.detail === 'string' ? d.detail : ''}`;
    default:
      return e.type;
  }
}

/** `application:default/shop/development` → `shop/development`. */
export const subjectText = (s: string | null) => (s ? s.replace(/^application:default\//, '').replace(/^application:/, '') : '—');
