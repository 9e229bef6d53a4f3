import type { Logger } from 'pino';
import { PROBLEM_BASE } from '../contracts/common.ts';
import { PaveError } from '../errors.ts';
import { recordJobRun, recordJobTakeover } from '../metrics/instruments.ts';
import type { JobNotifier } from './notify.ts';
import type { JobQueue } from './queue.ts';
import { RetryLater, type AnyJobHandler, type Job, type JobContext, type JobError } from './types.ts';

/**
 * The per-server loop: claims jobs of the kinds this server has handlers for (up to `concurrency` at
 * once), runs them, renews their leases every third of the lease, and records how each ended. Woken by
 * notifications, and polls every `pollMs` besides (which bounds how soon a job whose server died is
 * noticed: a takeover happens within lease + poll interval of the dead server's last heartbeat).
 */
export interface WorkerOptions {
  queue: JobQueue;
  notifier: JobNotifier;
  log: Logger;
  serverId: string;
  leaseSeconds: number;
  pollMs: number;
  concurrency: number;
  handlers: ReadonlyMap<string, AnyJobHandler>;
  /** Runs a handler in the context of the job (e.g. as the caller who asked for it). */
  around?: ((job: Job, run: () => Promise<unknown>) => Promise<unknown>) | undefined;
  /** Called at every heartbeat (the server registry's beat). */
  onBeat?: (() => Promise<void>) | undefined;
}

/** Days an ended job (and its events) is kept. */
export const JOB_RETENTION_DAYS = 30;

interface Running {
  job: Job;
  attempt: number;
  abort: AbortController;
  done: Promise<void>;
  /** Taken over by another server (lease lost), or given back at stop: this server records no outcome. */
  gone: 'lost' | 'released' | null;
  /** Its end is being recorded: a heartbeat that no longer finds it running does not call it lost. */
  finishing: boolean;
  /** Work bound to this server (adoptWith): it holds no slot of the concurrency. */
  tracked: boolean;
}

/** Why a handler's signal aborted. */
export class JobLostError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'JobLostError';
  }
}

/** A handler's failure as the job records it: a PaveError's problem fields, or a generic 500 (with the message for admins). */
export function toJobError(err: unknown): JobError {
  if (err instanceof PaveError) return { status: err.status, type: err.type, title: err.title, detail: err.message, ...(err.errors ? { errors: err.errors } : {}) };
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RetryLater) return { status: 409, type: `${PROBLEM_BASE}conflict`, title: 'Conflict', detail: message };
  return { status: 500, type: `${PROBLEM_BASE}internal`, title: 'Internal error', detail: 'an unexpected error occurred', message };
}

export class JobWorker {
  private readonly o: WorkerOptions;
  private readonly running = new Map<string, Running>();
  private started = false;
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private prunedAt = 0;

  constructor(o: WorkerOptions) {
    this.o = o;
  }

  get serverId(): string {
    return this.o.serverId;
  }

  /** Whether this server would run one more job now (it is started, not stopping, below its concurrency). */
  hasCapacity(): boolean {
    return this.started && !this.stopping && this.busy() < this.o.concurrency && this.o.handlers.size > 0;
  }

  /** Slots in use: the jobs running here, but for tracked work. */
  private busy(): number {
    let n = 0;
    for (const r of this.running.values()) if (!r.tracked) n++;
    return n;
  }

  /** Jobs running here now. */
  runningJobs(): Job[] {
    return [...this.running.values()].map((r) => r.job);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    const every = Math.max(200, Math.floor((this.o.leaseSeconds * 1000) / 3));
    this.beatTimer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, every);
    this.beatTimer.unref();
    this.loopDone = this.loop();
  }

  /** Wakes the loop (a job became due here, or a slot freed up). */
  wake(): void {
    this.o.notifier.signal('q:');
  }

  /** Runs a job this server claimed when it was enqueued (see JobQueue.enqueue's claimFor). */
  adopt(job: Job): void {
    this.execute(job, null);
  }

  /**
   * Runs `work` as the run of a job this server claimed at birth (JobService.track): the job holds a
   * lease while the work goes on here, so that if this server dies, another finds the job abandoned.
   * Resolves or rejects as `work` does.
   */
  adoptWith<R>(job: Job, work: (ctx: JobContext) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => this.execute(job, null, { work: work as (ctx: JobContext) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Runs a job this server took over outside the loop (JobQueue.takeOver). */
  adoptTakenOver(job: Job, from: string): void {
    this.execute(job, from);
  }

  private async loop(): Promise<void> {
    const kinds = [...this.o.handlers.keys()];
    while (!this.stopping) {
      while (!this.stopping && this.busy() < this.o.concurrency) {
        let claimed;
        try {
          claimed = await this.o.queue.claim(this.o.serverId, kinds, this.o.leaseSeconds);
        } catch (err) {
          if (!this.stopping) this.o.log.warn({ err: (err as Error).message }, 'could not claim jobs; trying again');
          break;
        }
        if (!claimed || this.stopping) {
          // claimed while stopping: give it straight back
          if (claimed) await this.o.queue.release(claimed.job.id, claimed.job.attempts, this.o.serverId, 0).catch(() => undefined);
          break;
        }
        this.execute(claimed.job, claimed.takenOverFrom);
      }
      if (this.stopping) break;
      await this.o.notifier.wait('q', this.o.pollMs, undefined, true);
    }
  }

  private execute(job: Job, takenOverFrom: string | null, own?: { work: (ctx: JobContext) => Promise<unknown>; resolve: (v: unknown) => void; reject: (err: unknown) => void }): void {
    const handler = this.o.handlers.get(job.kind);
    const attempt = job.attempts;
    const abort = new AbortController();
    const log = this.o.log.child({ job: job.id, kind: job.kind, attempt });
    let writes: Promise<unknown> = Promise.resolve();
    const ctx: JobContext = {
      id: job.id, kind: job.kind, attempt, resumed: attempt > 1, serverId: this.o.serverId, signal: abort.signal,
      progress: (data) => {
        writes = writes
          .then(() => this.o.queue.progress(job.id, attempt, this.o.serverId, data))
          .then(() => this.o.notifier.signal(`e:${job.id}`))
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'a job progress event was not recorded'));
      },
    };
    const entry: Running = { job, attempt, abort, done: Promise.resolve(), gone: null, finishing: false, tracked: own !== undefined };
    this.running.set(job.id, entry);
    const fail = (error: JobError) => {
      entry.finishing = true;
      return this.o.queue.finish(job.id, attempt, this.o.serverId, { state: 'failed', error });
    };
    /** The job will not run again: its handler records that in the domain, then the job fails with the reason. */
    const abandon = async (error: JobError) => {
      if (handler?.interrupted) {
        try {
          await handler.interrupted(handler.parse(job.payload), error.detail);
        } catch (err) {
          log.error({ err }, 'recording an interrupted job failed');
        }
      }
      await fail(error);
      recordJobRun(job.kind, 'failed');
    };
    entry.done = (async () => {
      if (takenOverFrom) {
        recordJobTakeover(job.kind);
        log.warn({ from: takenOverFrom }, 'took over a job whose server stopped renewing its lease');
      }
      if (!handler) {
        await fail({ status: 500, type: `${PROBLEM_BASE}internal`, title: 'Internal error', detail: `no handler for jobs of kind ${job.kind} on this server` });
        recordJobRun(job.kind, 'failed');
        return;
      }
      if (takenOverFrom && handler.takeover === 'fail') {
        await abandon({ status: 500, type: `${PROBLEM_BASE}job-interrupted`, title: 'Interrupted', detail: `the server running it (${takenOverFrom}) stopped during it, and ${job.kind} jobs are not run twice` });
        return;
      }
      if (attempt > job.maxAttempts) {
        await abandon({ status: 500, type: `${PROBLEM_BASE}job-attempts`, title: 'Too many attempts', detail: `it was started ${job.maxAttempts} time${job.maxAttempts === 1 ? '' : 's'} and did not end; it is not run again` });
        return;
      }
      let end: { state: 'succeeded'; result: unknown } | { state: 'failed'; error: JobError };
      let later: RetryLater | undefined;
      try {
        let result: unknown;
        if (own) {
          result = await own.work(ctx).then(
            (v) => (own.resolve(v), v),
            (err: unknown) => {
              own.reject(err);
              throw err;
            },
          );
        } else {
          const payload = handler.parse(job.payload);
          const run = () => handler.run(payload, ctx);
          result = await (this.o.around ? this.o.around(job, run) : run());
        }
        end = { state: 'succeeded', result: own ? null : (result ?? null) };
      } catch (err) {
        if (err instanceof RetryLater && !own) later = err;
        end = { state: 'failed', error: toJobError(err) };
        if (!(err instanceof PaveError) && !(err instanceof RetryLater) && !entry.gone) log.error({ err }, 'job failed unexpectedly');
      }
      await writes;
      if (entry.gone) return; // another server has it now (or will): this run's outcome is not this server's to record
      entry.finishing = true;
      if (later && attempt < job.maxAttempts) {
        const delay = later.afterSeconds ?? this.o.leaseSeconds;
        const requeued = await this.o.queue.retry(job.id, attempt, this.o.serverId, delay, later.message);
        this.o.notifier.signal(`e:${job.id}`);
        recordJobRun(job.kind, requeued ? 'retried' : 'lost');
        log.info({ reason: later.message, delay }, 'job put back in the queue, to be retried');
        return;
      }
      const recorded = await this.o.queue.finish(job.id, attempt, this.o.serverId, end);
      this.o.notifier.signal(`e:${job.id}`);
      recordJobRun(job.kind, recorded ? end.state : 'lost');
      if (!recorded) log.warn('the job ended here after another server had taken it over; its outcome here is discarded');
    })()
      .catch((err: unknown) => log.error({ err }, 'job bookkeeping failed (its lease will run out and another server will take it over)'))
      .finally(() => {
        this.running.delete(job.id);
        this.wake();
      });
  }

  /** Renews the leases of the jobs running here; those another server took over are aborted here. */
  private async beat(): Promise<void> {
    const held = [...this.running.values()].filter((r) => !r.gone && !r.finishing);
    try {
      const still = await this.o.queue.heartbeat(this.o.serverId, held.map((r) => ({ id: r.job.id, attempt: r.attempt })), this.o.leaseSeconds);
      for (const r of held) {
        // a job whose end is being recorded is not running any more, but not lost either
        if (still.has(r.job.id) || r.gone || r.finishing || !this.running.has(r.job.id)) continue;
        r.gone = 'lost';
        r.abort.abort(new JobLostError('its lease ran out and another server took the job over'));
        recordJobRun(r.job.kind, 'lost');
        this.o.log.warn({ job: r.job.id, kind: r.job.kind }, 'lost a job: its lease ran out and another server took it over');
        await this.o.queue.lost(r.job.id, r.attempt, this.o.serverId).catch(() => undefined);
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not renew job leases');
    }
    await this.o.onBeat?.().catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'server heartbeat failed'));
    // ended jobs are kept for a while (their events tell what happened), then deleted: once an hour, by any server
    if (Date.now() - this.prunedAt > 3_600_000) {
      this.prunedAt = Date.now();
      await this.o.queue.prune(JOB_RETENTION_DAYS).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'could not delete old jobs'));
    }
  }

  /**
   * Stops claiming, lets the jobs running here finish for up to `waitMs` (their leases renewed), then
   * gives the rest back to the queue, due after `releaseDelaySeconds` (time for this process to exit
   * and drop its database sessions, and with them any lock a handler holds).
   */
  async stop(o: { waitMs: number; releaseDelaySeconds: number }): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.wake();
    await this.loopDone;
    const pending = [...this.running.values()];
    if (pending.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending.map((r) => r.done)), new Promise((r) => (timer = setTimeout(r, o.waitMs)))]);
      clearTimeout(timer);
    }
    for (const r of this.running.values()) {
      if (r.gone || r.finishing) continue;
      r.gone = 'released';
      r.abort.abort(new JobLostError('this server is stopping'));
      const released = await this.o.queue.release(r.job.id, r.attempt, this.o.serverId, o.releaseDelaySeconds).catch(() => false);
      if (released) {
        recordJobRun(r.job.kind, 'released');
        this.o.log.warn({ job: r.job.id, kind: r.job.kind }, 'stopping: a job still running here was given back to the queue; another server runs it again');
      }
    }
    if (this.beatTimer) clearInterval(this.beatTimer);
    await this.beating;
    this.started = false;
  }
}
