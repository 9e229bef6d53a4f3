/**
 * The golden actions of one application: what it offers (per environment, whether each may run
 * there), runs with their live output, cancellation, and the application's recent runs. Types come
 * from src/contracts/actions.ts.
 *
 * A run is started with a plain POST, which answers at once (queued or running) once the server has
 * checked the environment type, role, confirmation and parameters; its output is then followed as
 * NDJSON (`GET /runs/:id/output?follow=true`). The POST could stream the output itself, but that
 * stream names the run only in its last line, and a run must be known by id to be cancelled.
 */
import { useMemo } from 'react';
import type { ActionRun, ActionView } from '../../../src/contracts/actions.ts';
import { ApiError, createSender, isProblem } from './client.ts';
import { readNdjson } from './deployments.ts';
import { useSession } from './session.tsx';

export type { ActionRun, ActionView };
export interface RunOutputLine {
  ts: string;
  line: string;
}
export interface RunRequest {
  params?: Record<string, unknown>;
  /** The environment's name, typed, where the action asks for confirmation. */
  confirm?: string;
}

const NDJSON = 'application/x-ndjson';
const seg = encodeURIComponent;

interface Options {
  token: string | null;
  onUnauthorized?: (e: ApiError) => void;
  baseUrl?: string;
}

export function createActionsClient({ token, onUnauthorized, baseUrl = '' }: Options, namespace: string, application: string) {
  const base = `/api/v1/applications/${seg(application)}`;
  const send = createSender({ token, onUnauthorized, baseUrl });
  const json = async <T>(path: string, opts: Parameters<typeof send>[1] = {}): Promise<T> => (await send(path, opts)).json() as Promise<T>;
  // Runs are addressed by id alone: those routes take no namespace.
  const runPath = (id: string) => `/api/v1/runs/${seg(id)}`;

  return {
    /** The actions of the application; with an environment, `allowedHere` says whether each may run there. */
    list: (environment: string | null, signal?: AbortSignal) =>
      json<{ items: ActionView[] }>(`${base}/actions`, { query: { namespace, environment: environment ?? undefined }, signal }),
    /** Starts a run; 400 (parameters, with field paths), 403 (environment type or role) and 428 (confirmation) come back as ApiErrors. */
    start: (environment: string, action: string, body: RunRequest) =>
      json<ActionRun>(`${base}/environments/${seg(environment)}/actions/${seg(action)}/runs`, { method: 'POST', query: { namespace }, body }),
    /** The application's runs, newest first (all environments unless one is named). */
    runs: (environment: string | null, signal?: AbortSignal) => json<{ items: ActionRun[] }>(`${base}/runs`, { query: { namespace, environment: environment ?? undefined }, signal }),
    get: (id: string, signal?: AbortSignal) => json<ActionRun>(runPath(id), { signal }),
    cancel: (id: string) => json<ActionRun>(`${runPath(id)}/cancel`, { method: 'POST' }),
    /**
     * The run's output: the lines so far, then (following) each new one until the run ends or `signal`
     * aborts. Resolves when the server ends the stream.
     */
    output: async (id: string, follow: boolean, onLine: (l: RunOutputLine) => void, signal: AbortSignal): Promise<void> => {
      const res = await send(`${runPath(id)}/output`, { query: { follow: String(follow) }, accept: `${NDJSON}, application/problem+json`, signal });
      await readNdjson(res, (msg) => {
        if (typeof msg !== 'object' || msg === null) return;
        if ('error' in msg && isProblem(msg.error)) throw new ApiError(msg.error.status, msg.error.detail ?? msg.error.title, msg.error);
        if ('line' in msg && typeof msg.line === 'string') onLine({ ts: 'ts' in msg && typeof msg.ts === 'string' ? msg.ts : '', line: msg.line });
      });
    },
  };
}

export type ActionsClient = ReturnType<typeof createActionsClient>;

/** The actions client of one application, with the session's token; a 401 ends the session. */
export function useActionsApi(namespace: string, application: string): ActionsClient {
  const { token, signOut } = useSession();
  return useMemo(() => createActionsClient({ token, onUnauthorized: signOut }, namespace, application), [token, signOut, namespace, application]);
}
