import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { PROBLEM_BASE } from '../contracts/common.ts';
import { conflict, notFound, PaveError } from '../errors.ts';
import { clearJobQueueProbe, setJobQueueProbe, type JobQueueSample } from '../metrics/instruments.ts';
import type { Db } from '../store/db.ts';
import { DEFAULT_JOB_SETTINGS, type JobSettings } from './config.ts';
import { JobNotifier } from './notify.ts';
import { ActiveJobConflict, JobQueue, type JobFilter } from './queue.ts';
import { ServerRegistry } from './servers.ts';
import { FINAL_JOB_STATES, type AnyJobHandler, type Job, type JobActor, type JobEvent, type JobHandler, type JobKind } from './types.ts';
import { JobWorker } from './worker.ts';

/**
 * Background work that any Pave server may run: the queue, this server's worker, its entry in the
 * server registry, and following a job's events from the store wherever it runs. Domain modules
 * register a handler per job kind (`register`); callers submit jobs by kind and follow or await them.
 *
 * A job submitted through this server runs here when this server has a free slot (claimed at birth,
 * so the server that took the request does the work, as before); otherwise it waits in the queue for
 * any server. Either way, if the server running it dies, another takes it over once its lease runs
 * out and runs the handler again from the start.
 */
export interface JobServiceOptions {
  db: Db;
  /** The store's URL, for the LISTEN connection (none: poll only). */
  url?: string | undefined;
  log: Logger;
  settings?: Partial<JobSettings> | undefined;
  /** Runs a handler in the context of its job (e.g. as the caller who asked for it). */
  around?: ((job: Job, run: () => Promise<unknown>) => Promise<unknown>) | undefined;
}

export interface SubmitOptions {
  createdBy: string;
  actor?: JobActor | null | undefined;
  /** At most one queued or running job per key: a second submit is a 409 naming the first. */
  key?: string | null | undefined;
  /** Run it here if this server has a free slot (default true); false: leave it to whichever server claims it first. */
  here?: boolean | undefined;
}

/** Followers look at the store at least this often even without a notification. */
const FOLLOW_POLL_MS = 500;

export class JobService {
  readonly queue: JobQueue;
  readonly servers: ServerRegistry;
  readonly settings: JobSettings;
  readonly serverId = randomUUID();
  private readonly notifier: JobNotifier;
  private readonly handlers = new Map<string, AnyJobHandler>();
  private readonly log: Logger;
  private readonly around: JobServiceOptions['around'];
  private worker: JobWorker | undefined;
  private starting: Promise<void> | undefined;
  private probe: (() => Promise<JobQueueSample[]>) | undefined;
  private identity: { id: string; host: string; pid: number; version: string; url: string | null } | undefined;

  constructor(o: JobServiceOptions) {
    this.settings = { ...DEFAULT_JOB_SETTINGS, ...o.settings };
    this.queue = new JobQueue(o.db);
    this.servers = new ServerRegistry(o.db, { livenessSeconds: this.settings.leaseSeconds, ha: this.settings.ha });
    this.notifier = new JobNotifier({ url: o.url, log: o.log });
    this.log = o.log;
    this.around = o.around;
  }

  /** Adds the handler of a job kind (before start). */
  register<P, R>(handler: JobHandler<P, R>): void {
    if (this.handlers.has(handler.kind)) throw new Error(`a handler for ${handler.kind} jobs is already registered`);
    this.handlers.set(handler.kind, handler as AnyJobHandler);
  }

  kinds(): string[] {
    return [...this.handlers.keys()].sort();
  }

  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Registers this server, listens for notifications and starts the worker (once; later calls wait for the first). */
  start(o: { version: string; url?: string | null | undefined }): Promise<void> {
    this.starting ??= this.startOnce(o).catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async startOnce(o: { version: string; url?: string | null | undefined }): Promise<void> {
    this.identity = { id: this.serverId, host: os.hostname(), pid: process.pid, version: o.version, url: o.url ?? null };
    await this.servers.register(this.identity);
    this.notifier.start();
    const identity = this.identity;
    this.worker = new JobWorker({
      queue: this.queue, notifier: this.notifier, log: this.log.child({ module: 'jobs' }), serverId: this.serverId,
      leaseSeconds: this.settings.leaseSeconds, pollMs: Math.round(this.settings.pollSeconds * 1000), concurrency: this.settings.concurrency,
      handlers: this.handlers, around: this.around, onBeat: () => this.servers.beat(identity),
    });
    this.worker.start();
    this.probe = async () => {
      const rows: JobQueueSample[] = await this.queue.depth();
      // every kind this server runs is reported, at 0 when none waits
      for (const kind of this.handlers.keys()) {
        for (const state of ['queued', 'running'] as const) if (!rows.some((r) => r.kind === kind && r.state === state)) rows.push({ kind, state, count: 0, oldestSeconds: null });
      }
      return rows;
    };
    setJobQueueProbe(this.probe);
    this.log.info({ server: this.serverId, kinds: this.kinds(), leaseSeconds: this.settings.leaseSeconds }, 'job worker started');
  }

  /**
   * Stops claiming jobs, lets the running ones finish (up to the stop timeout), gives the rest back to
   * the queue, and leaves the registry. Idempotent.
   */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.starting = undefined;
    await worker.stop({ waitMs: this.settings.stopTimeoutSeconds * 1000, releaseDelaySeconds: Math.min(5, this.settings.leaseSeconds) });
    await this.notifier.stop();
    if (this.probe) clearJobQueueProbe(this.probe);
    if (this.identity) await this.servers.unregister(this.identity.id).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not leave the server registry'));
  }

  /** Enqueues a job of a registered kind; it runs here at once when this server has a free slot. */
  async submit<P, R>(kind: JobKind<P, R>, payload: P, o: SubmitOptions): Promise<Job<R>> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler is registered for ${kind} jobs`);
    const worker = this.worker;
    const here = (o.here ?? true) && worker?.hasCapacity();
    let job: Job;
    try {
      job = await this.queue.enqueue(kind, payload, {
        subject: handler.subject?.(payload) ?? null, key: o.key, actor: o.actor, createdBy: o.createdBy, maxAttempts: handler.maxAttempts,
        ...(here && worker ? { claimFor: { serverId: this.serverId, leaseSeconds: this.settings.leaseSeconds } } : {}),
      });
    } catch (err) {
      const resumed = err instanceof ActiveJobConflict ? await this.resumeDead(err.existing, payload) : undefined;
      if (!resumed) throw err;
      return resumed as Job<R>;
    }
    if (here && worker) worker.adopt(job);
    else worker?.wake();
    return job as Job<R>;
  }

  /**
   * Runs `work` here, now, as a job of `kind` claimed at birth by this server (whatever its free
   * slots): for work bound to this server (it holds what it needs in memory, e.g. an action run's
   * secret parameters). The job's lease says the work is alive; if this server dies, the server that
   * finds the lease run out calls the handler's `interrupted` (register a handler with `takeover:
   * 'fail'`). Resolves or rejects as `work` does; when no worker runs here, `work` runs untracked.
   */
  async track<P, R>(kind: JobKind<P, unknown>, payload: P, o: SubmitOptions, work: (ctx: { id: string; signal: AbortSignal }) => Promise<R>): Promise<R> {
    const handler = this.handlers.get(kind);
    const worker = this.worker;
    if (!handler || !worker) return work({ id: '', signal: new AbortController().signal });
    let job: Job;
    try {
      job = await this.queue.enqueue(kind, payload, {
        subject: handler.subject?.(payload) ?? null, key: o.key, actor: o.actor, createdBy: o.createdBy, maxAttempts: handler.maxAttempts,
        claimFor: { serverId: this.serverId, leaseSeconds: this.settings.leaseSeconds },
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, kind }, 'could not record a job for work bound to this server; it runs untracked');
      return work({ id: '', signal: new AbortController().signal });
    }
    return worker.adoptWith(job, work);
  }

  /**
   * The same job (same kind and payload) is running on a server that is gone (lease run out, or a
   * crashed server of this host, e.g. this server before a restart): asking again takes it over here
   * at once, instead of refusing until the queue notices. A live server's job is left alone.
   */
  private async resumeDead(existing: Job, payload: unknown): Promise<Job | undefined> {
    const worker = this.worker;
    if (existing.state !== 'running' || !existing.server || !worker?.hasCapacity()) return undefined;
    if (!isDeepStrictEqual(existing.payload, JSON.parse(JSON.stringify(payload)))) return undefined;
    const dead = await this.servers.deadOnThisHost([existing.server], this.serverId);
    const claimed = await this.queue.takeOver(existing.id, this.serverId, this.settings.leaseSeconds, dead);
    if (!claimed) return undefined;
    worker.adoptTakenOver(claimed.job, claimed.takenOverFrom ?? 'unknown');
    return claimed.job;
  }

  async get(id: string): Promise<Job> {
    const job = await this.queue.get(id);
    if (!job) throw notFound(`job ${id}`);
    return job;
  }

  list(f: JobFilter): Promise<Job[]> {
    return this.queue.list(f);
  }

  events(id: string, afterId = 0): Promise<JobEvent[]> {
    return this.queue.events(id, afterId);
  }

  /**
   * Calls `onEvent` with each event of a job, from the store (whichever server runs it), as they come,
   * until the job ends; resolves with the ended job, or undefined when `signal` aborted first.
   */
  async follow(id: string, onEvent: (e: JobEvent) => void, o: { signal?: AbortSignal | undefined; afterId?: number | undefined } = {}): Promise<Job | undefined> {
    let after = o.afterId ?? 0;
    const drain = async () => {
      for (;;) {
        const batch = await this.queue.events(id, after, 500);
        for (const e of batch) {
          after = e.id;
          onEvent(e);
        }
        if (batch.length < 500) return;
      }
    };
    for (;;) {
      if (o.signal?.aborted) return undefined;
      await drain();
      const job = await this.queue.get(id);
      if (!job) throw notFound(`job ${id}`);
      if (FINAL_JOB_STATES.includes(job.state)) {
        await drain(); // events written before the end and not yet read
        return job;
      }
      await this.notifier.wait(`e:${id}`, Math.min(FOLLOW_POLL_MS, this.settings.pollSeconds * 1000), o.signal);
    }
  }

  /** Waits until a job ended; resolves with it (undefined when `signal` aborted first). */
  wait(id: string, signal?: AbortSignal): Promise<Job | undefined> {
    return this.follow(id, () => undefined, { signal, afterId: Number.MAX_SAFE_INTEGER });
  }

  /** The result of an ended job, or its failure as the PaveError the handler threw (a 500 stays generic). */
  static settle<R>(job: Job<R>): R {
    if (job.state === 'succeeded') return job.result as R;
    if (job.state === 'failed' && job.error) {
      const e = job.error;
      throw new PaveError(e.status, e.type.startsWith(PROBLEM_BASE) ? e.type.slice(PROBLEM_BASE.length) : e.type, e.title, e.detail, e.errors);
    }
    throw conflict(`job ${job.id} ${job.state === 'cancelled' ? 'was cancelled' : `is ${job.state}`}`);
  }

  /** Jobs running on this server now. */
  runningHere(): Job[] {
    return this.worker?.runningJobs() ?? [];
  }
}
