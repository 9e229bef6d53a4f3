import type { z } from 'zod';
import type { ActionRun, ActionView, RunOutputLineSchema, RunRequestSchema } from '../contracts/actions.ts';
import type { AuditEvent, AuditFilter, AuditPage, AuditVerification } from '../contracts/audit.ts';
import type { Problem } from '../contracts/common.ts';
import { ApiError, PaveClient } from './client.ts';
import type { Connection } from './config.ts';
import { ndjson, type AppRef, type Environment } from './golden-client.ts';

/**
 * The golden-actions half of the API, typed: the actions an application offers, starting runs,
 * following their output, cancelling them, and the audit log. A run is started without waiting, so
 * its id is known at once (to follow its output, and to cancel it on Ctrl-C); its output is then
 * followed as NDJSON (`GET /runs/:id/output?follow=true`) until it ends.
 */

export type { ActionRun, ActionView, AuditEvent, AuditPage, AuditVerification, Environment };
export type RunRequest = z.input<typeof RunRequestSchema>;
export type RunOutputLine = z.infer<typeof RunOutputLineSchema>;
/** Filters of the audit log (AND-ed), a page size, and the nextCursor of the page before. */
export type AuditQuery = AuditFilter & { limit?: number | undefined; cursor?: string | undefined };

/** Statuses a run does not leave. */
export const FINAL_STATUSES: readonly ActionRun['status'][] = ['succeeded', 'failed', 'cancelled', 'timed-out'];
export const isFinal = (r: ActionRun) => FINAL_STATUSES.includes(r.status);

const NDJSON = 'application/x-ndjson';
/** Following output has no end the client knows of (a queued run waits for the one before it). */
const FOREVER_MS = 2 ** 31 - 1;
/** Cancelling waits until the run stopped (a command gets SIGTERM, then SIGKILL 2 s later). */
const CANCEL_TIMEOUT_MS = 60_000;

const enc = encodeURIComponent;

export class ActionsClient {
  readonly api: PaveClient;

  constructor(conn: Connection) {
    this.api = new PaveClient(conn.url, conn.token);
  }

  // ---- actions --------------------------------------------------------------------------------

  /** The actions an application offers; with an environment, `allowedHere` says whether each may run there. */
  actions(app: AppRef, env?: string): Promise<{ items: ActionView[] }> {
    return this.api.json('GET', `${base(app)}/actions`, { query: { namespace: app.namespace, environment: env } });
  }

  /** The environments of an application, with their types (which decide where confirmation is asked for). */
  environments(app: AppRef): Promise<{ items: Environment[] }> {
    return this.api.json('GET', `${base(app)}/environments`, { query: { namespace: app.namespace } });
  }

  /**
   * Starts a run; the answer is queued or running (or, with wait, ended). Refusals come back as
   * ApiError before anything runs: 400 (parameters, field paths `body.params.*`), 403 (environment
   * type or role), 404, 428 (confirmation: send `confirm` with the environment's name).
   */
  start(app: AppRef, env: string, action: string, req: RunRequest, opts: { wait?: boolean } = {}): Promise<ActionRun> {
    return this.api.json('POST', `${base(app)}/environments/${enc(env)}/actions/${enc(action)}/runs`, {
      query: { namespace: app.namespace, wait: opts.wait ? 'true' : undefined },
      body: req,
      timeoutMs: opts.wait ? FOREVER_MS : undefined,
    });
  }

  // ---- runs -----------------------------------------------------------------------------------

  /** Runs of an application (or of one environment), newest first. */
  runs(app: AppRef, env?: string): Promise<{ items: ActionRun[] }> {
    return this.api.json('GET', `${base(app)}/runs`, { query: { namespace: app.namespace, environment: env } });
  }

  run(id: string): Promise<ActionRun> {
    return this.api.json('GET', `/api/v1/runs/${enc(id)}`);
  }

  /** Cancels a queued or running run; answers with the run once it stopped. 409 when it already ended. */
  cancel(id: string): Promise<ActionRun> {
    return this.api.json('POST', `/api/v1/runs/${enc(id)}/cancel`, { timeoutMs: CANCEL_TIMEOUT_MS });
  }

  /**
   * The output of a run so far; with follow, the lines still to come too, until the run ends or
   * `signal` aborts (then it returns quietly). An `{"error": problem}` line is thrown.
   */
  async output(id: string, opts: { follow?: boolean; signal?: AbortSignal }, onLine: (l: RunOutputLine) => void): Promise<void> {
    if (opts.signal?.aborted) return;
    const res = await this.api.send('GET', `/api/v1/runs/${enc(id)}/output`, {
      query: { follow: opts.follow ? 'true' : undefined },
      headers: { accept: `${NDJSON}, application/problem+json` },
      timeoutMs: opts.follow ? FOREVER_MS : undefined,
    });
    if (!res.body) return;
    for await (const msg of ndjson(untilAborted(res.body, opts.signal))) {
      const m = msg as RunOutputLine & { error?: Partial<Problem> };
      if (m.error) throw new ApiError(m.error.status ?? 500, res.url, m.error);
      onLine(m);
    }
  }

  // ---- audit ----------------------------------------------------------------------------------

  /** A page of audit events, newest first (admins); `nextCursor` fetches the older ones. */
  audit(q: AuditQuery = {}): Promise<AuditPage> {
    return this.api.json('GET', '/api/v1/audit', { query: { ...q } });
  }

  /** Recomputes the audit log's hash chain on the server (admins). */
  verifyAudit(): Promise<AuditVerification> {
    return this.api.json('GET', '/api/v1/audit/verify', { timeoutMs: 10 * 60_000 });
  }
}

/** The body's chunks until it ends or `signal` aborts; aborting cancels the body (and so the connection). */
async function* untilAborted(body: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    reader.releaseLock();
  }
}

const base = (app: AppRef) => `/api/v1/applications/${enc(app.name)}`;
