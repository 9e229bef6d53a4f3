/**
 * What the jobs module offers the domain modules: a typed handler per job kind. The jobs module knows
 * nothing of the kinds; the composition root (src/services.ts) registers each module's handlers.
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const FINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** Who asked for a job (the caller of the request that enqueued it), so that its handler runs as them. */
export interface JobActor {
  user: string;
  roles: string[];
  requestId?: string | undefined;
  /** The caller's role bindings and memberships as they were when the job was enqueued. */
  grants?: { role: string; team: string; environmentTypes: '*' | string[] }[] | undefined;
}

/** What a handler gets besides its payload. */
export interface JobContext {
  readonly id: string;
  readonly kind: string;
  /** 1 for the first run; more when the job was taken over after its server stopped, or retried. */
  readonly attempt: number;
  /** Whether an earlier attempt started (and may have done part of the work): the handler converges from where it stopped. */
  readonly resumed: boolean;
  readonly serverId: string;
  /**
   * Aborted when this server no longer holds the job (its lease ran out and another server took it
   * over) or stops; a handler that can stop early should.
   */
  readonly signal: AbortSignal;
  /** Records a progress event (in order; written to the store, streamed by any server). Never throws. */
  progress(data: unknown): void;
}

/**
 * A job kind's name, typed with its payload and result, so that the module that enqueues a job and
 * the one that handles it agree on both: `export const APPLY = jobKind<ApplyPayload, ApplyResult>('resources.apply')`.
 */
export type JobKind<Payload, Result = unknown> = string & { readonly __job?: (p: Payload) => Result };
export const jobKind = <Payload, Result = unknown>(name: string): JobKind<Payload, Result> => name as JobKind<Payload, Result>;

/**
 * How one kind of job runs. Handlers must converge: a job taken over after its server died runs its
 * handler again from the start, with the same payload, on another server, and must end where a
 * single uninterrupted run would have. A payload holds no secrets (it is stored and shown to admins).
 */
export interface JobHandler<Payload, Result = unknown> {
  /** e.g. `resources.apply`; lower-case words with dots. */
  readonly kind: string;
  /** The payload as stored (it crossed a process boundary): validated, typed. Throwing fails the job. */
  parse(raw: unknown): Payload;
  run(payload: Payload, ctx: JobContext): Promise<Result>;
  /** What the job is about, for lists (e.g. `application:default/shop/development`). */
  subject?(payload: Payload): string | null;
  /**
   * When the server running a job dies: `rerun` (default) runs the handler again on another server;
   * `fail` fails the job with the reason instead (for work that must not run twice, e.g. a command).
   */
  takeover?: 'rerun' | 'fail';
  /** Most runs of one job (its first and its takeovers); default 5. */
  maxAttempts?: number;
  /**
   * Called, on the server that finds it, when a job will not run again: its server died and the kind
   * is not run twice (`takeover: 'fail'`), or its attempts ran out. For the domain's own record (e.g.
   * an action run marked failed with the reason).
   */
  interrupted?(payload: Payload, reason: string): Promise<void>;
}

/** Type-erased, for the registry (handler methods are bivariant in their payload). */
export type AnyJobHandler = JobHandler<unknown, unknown>;

/** A job's error as stored: what the client is told (problem fields), and the message for admins. */
export interface JobError {
  status: number;
  type: string;
  title: string;
  detail: string;
  errors?: { path: string; message: string; code?: string }[] | undefined;
  /** The original message when `detail` is generic (unexpected errors): shown to admins only. */
  message?: string | undefined;
}

export interface Job<Result = unknown> {
  id: string;
  kind: string;
  subject: string | null;
  payload: unknown;
  /** Who asked for it; its handler runs as them. */
  actor: JobActor | null;
  state: JobState;
  concurrencyKey: string | null;
  result: Result | null;
  error: JobError | null;
  attempts: number;
  maxAttempts: number;
  takeovers: number;
  server: string | null;
  leaseExpiresAt: Date | null;
  heartbeatAt: Date | null;
  runAt: Date;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export type JobEventType = 'progress' | 'queued' | 'claimed' | 'takeover' | 'retry' | 'succeeded' | 'failed' | 'released' | 'lost';

export interface JobEvent {
  id: number;
  jobId: string;
  at: Date;
  attempt: number;
  server: string | null;
  type: JobEventType;
  data: unknown;
}

/**
 * Thrown by a handler that cannot run now but will later (e.g. a job taken over while the stalled
 * server it was taken from still holds a lock): the job goes back to the queue, due after
 * `afterSeconds` (default: one lease), until its attempts run out.
 */
export class RetryLater extends Error {
  readonly afterSeconds: number | undefined;
  constructor(reason: string, afterSeconds?: number) {
    super(reason);
    this.name = 'RetryLater';
    this.afterSeconds = afterSeconds;
  }
}
