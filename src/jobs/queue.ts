import { sql } from 'kysely';
import { PaveError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { JobEventRow, JobRow } from '../store/schema.ts';
import type { Job, JobActor, JobError, JobEvent, JobEventType, JobState } from './types.ts';

/**
 * The job queue in PostgreSQL: `jobs` rows claimed with `FOR UPDATE SKIP LOCKED`, each held by one
 * server under a lease that its heartbeat renews. A claim takes a queued job that is due, or a running
 * job whose lease ran out (its server died): that is the takeover. Every write of a running job is
 * fenced by (server, attempt), so a server that lost its lease (paused, cut off) can no longer record
 * progress or finish a job another server now runs. Times are the database's (`now()`), never a
 * server's clock.
 *
 * Invariants: a job is run by at most one server at a time (the claim is one UPDATE of a row locked
 * with SKIP LOCKED); at most one queued or running job per concurrency key (a unique partial index).
 */

/** The notification channel: `q:<kind>` (a job is due), `e:<id>` (a job has a new event or ended). */
export const CHANNEL = 'pave_jobs';

export interface EnqueueOptions {
  subject?: string | null | undefined;
  /** At most one queued or running job per key (e.g. `resources.apply:<environment id>`): a second is a 409. */
  key?: string | null | undefined;
  actor?: JobActor | null | undefined;
  createdBy: string;
  maxAttempts?: number | undefined;
  /** Not before this time (default now). */
  runAt?: Date | undefined;
  /** Claimed at birth by this server, which runs it at once (the server that took the request). */
  claimFor?: { serverId: string; leaseSeconds: number } | undefined;
}

export interface JobFilter {
  kind?: string | undefined;
  state?: JobState | undefined;
  subject?: string | undefined;
  createdBy?: string | undefined;
  /** Jobs listed after this one (the last job of the previous page), newest first. */
  after?: string | undefined;
  limit?: number | undefined;
}

/** A job as a worker claimed it: the job, and whether it was taken over (and from which server). */
export interface ClaimedJob {
  job: Job;
  takenOverFrom: string | null;
}

/** Another job with the same concurrency key is queued or running. */
export class ActiveJobConflict extends PaveError {
  readonly existing: Job;
  constructor(existing: Job) {
    super(409, 'conflict', 'Conflict', `${existing.subject ?? existing.kind} already has a ${existing.kind} job ${existing.state} (${existing.id}); wait for it to end, or follow it with "pave jobs follow ${existing.id}"`);
    this.existing = existing;
  }
}

export function jobView(r: JobRow): Job {
  return {
    id: r.id, kind: r.kind, subject: r.subject, payload: r.payload, actor: (r.actor as JobActor | null) ?? null, state: r.state, concurrencyKey: r.concurrency_key,
    result: r.result ?? null, error: (r.error as JobError | null) ?? null, attempts: r.attempts, maxAttempts: r.max_attempts, takeovers: r.takeovers,
    server: r.locked_by, leaseExpiresAt: r.lease_expires_at, heartbeatAt: r.heartbeat_at, runAt: r.run_at,
    createdBy: r.created_by, createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at,
  };
}

export function jobEventView(r: JobEventRow): JobEvent {
  return { id: Number(r.id), jobId: r.job_id, at: r.at, attempt: r.attempt, server: r.server_id, type: r.type as JobEventType, data: r.data ?? null };
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
const notifyEvent = (id: string) => sql`pg_notify(${CHANNEL}, ${`e:${id}`})`;

export class JobQueue {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Adds a job (queued, or claimed at once with `claimFor`); a 409 ActiveJobConflict when its key is taken. */
  async enqueue(kind: string, payload: unknown, o: EnqueueOptions): Promise<Job> {
    const [job] = await this.enqueueMany([{ kind, payload, ...o }]);
    return job!;
  }

  /** Adds several jobs in one transaction (e.g. a fleet upgrade's wave): all or none. */
  async enqueueMany(items: (EnqueueOptions & { kind: string; payload: unknown })[]): Promise<Job[]> {
    if (!items.length) return [];
    try {
      return await this.db.transaction().execute(async (tx) => {
        const rows: JobRow[] = [];
        for (const o of items) {
          const claim = o.claimFor;
          const row = await tx
            .insertInto('jobs')
            .values({
              kind: o.kind, subject: o.subject ?? null, payload: JSON.stringify(o.payload ?? null), concurrency_key: o.key ?? null, actor: o.actor ? JSON.stringify(o.actor) : null,
              max_attempts: o.maxAttempts ?? 5, created_by: o.createdBy, run_at: o.runAt ?? sql<Date>`now()`,
              ...(claim
                ? { state: 'running' as const, attempts: 1, locked_by: claim.serverId, lease_expires_at: sql<Date>`now() + make_interval(secs => ${claim.leaseSeconds})`, heartbeat_at: sql<Date>`now()`, started_at: sql<Date>`now()` }
                : { state: 'queued' as const }),
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await tx.insertInto('job_events').values({ job_id: row.id, attempt: row.attempts, server_id: claim?.serverId ?? null, type: claim ? 'claimed' : 'queued', data: null }).execute();
          if (!claim) await sql`SELECT pg_notify(${CHANNEL}, ${`q:${o.kind}`})`.execute(tx);
          rows.push(row);
        }
        return rows.map(jobView);
      });
    } catch (err) {
      if ((err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'jobs_active_key') {
        const keys = items.map((i) => i.key).filter((k): k is string => Boolean(k));
        const existing = await this.db.selectFrom('jobs').selectAll().where('concurrency_key', 'in', keys).where('state', 'in', ['queued', 'running']).executeTakeFirst();
        if (existing) throw new ActiveJobConflict(jobView(existing));
      }
      throw err;
    }
  }

  /**
   * Claims one job of these kinds for this server: a queued job that is due (oldest first), or a
   * running job whose lease ran out (a takeover). `FOR UPDATE SKIP LOCKED`: servers claiming at the
   * same time never get the same job and never wait for each other.
   */
  async claim(serverId: string, kinds: readonly string[], leaseSeconds: number): Promise<ClaimedJob | undefined> {
    if (!kinds.length) return undefined;
    const res = await sql<JobRow & { prev_state: JobState; prev_server: string | null }>`
      WITH picked AS (
        SELECT id, state AS prev_state, locked_by AS prev_server
        FROM jobs
        WHERE kind = ANY(${[...kinds]}::text[])
          AND ((state = 'queued' AND run_at <= now()) OR (state = 'running' AND lease_expires_at < now()))
        ORDER BY run_at, created_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE jobs j
        SET state = 'running', locked_by = ${serverId}, attempts = j.attempts + 1,
            takeovers = j.takeovers + CASE WHEN picked.prev_state = 'running' THEN 1 ELSE 0 END,
            lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), heartbeat_at = now(), started_at = coalesce(j.started_at, now())
        FROM picked
        WHERE j.id = picked.id
        RETURNING j.*, picked.prev_state, picked.prev_server
      ), logged AS (
        INSERT INTO job_events (job_id, attempt, server_id, type, data)
        SELECT id, attempts, ${serverId}, CASE WHEN prev_state = 'running' THEN 'takeover' ELSE 'claimed' END,
               CASE WHEN prev_state = 'running' THEN json_build_object('from', prev_server) END
        FROM claimed
      )
      SELECT * FROM claimed`.execute(this.db);
    const row = res.rows[0];
    if (!row) return undefined;
    await sql`SELECT ${notifyEvent(row.id)}`.execute(this.db);
    return { job: jobView(row), takenOverFrom: row.prev_state === 'running' ? (row.prev_server ?? 'unknown') : null };
  }

  /**
   * Takes over one running job whose server is gone: its lease ran out, or its server is one of
   * `deadServers` (known dead, e.g. a crashed server on this host). Undefined when another server
   * holds it (or took it first).
   */
  async takeOver(id: string, serverId: string, leaseSeconds: number, deadServers: readonly string[]): Promise<ClaimedJob | undefined> {
    const res = await sql<JobRow & { prev_server: string | null }>`
      WITH picked AS (
        SELECT id, locked_by AS prev_server FROM jobs
        WHERE id = ${id} AND state = 'running' AND (lease_expires_at < now() OR locked_by = ANY(${[...deadServers]}::uuid[]))
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE jobs j
        SET locked_by = ${serverId}, attempts = j.attempts + 1, takeovers = j.takeovers + 1,
            lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), heartbeat_at = now()
        FROM picked WHERE j.id = picked.id
        RETURNING j.*, picked.prev_server
      ), logged AS (
        INSERT INTO job_events (job_id, attempt, server_id, type, data)
        SELECT id, attempts, ${serverId}, 'takeover', json_build_object('from', prev_server) FROM claimed
      )
      SELECT * FROM claimed`.execute(this.db);
    const row = res.rows[0];
    if (!row) return undefined;
    await sql`SELECT ${notifyEvent(row.id)}`.execute(this.db);
    return { job: jobView(row), takenOverFrom: row.prev_server ?? 'unknown' };
  }

  /** Renews the leases of the jobs this server runs; returns the ids it still holds (a job missing was taken over). */
  async heartbeat(serverId: string, held: readonly { id: string; attempt: number }[], leaseSeconds: number): Promise<Set<string>> {
    if (!held.length) return new Set();
    const rows = await this.db
      .updateTable('jobs')
      .set({ lease_expires_at: sql<Date>`now() + make_interval(secs => ${leaseSeconds})`, heartbeat_at: sql<Date>`now()` })
      .where('locked_by', '=', serverId)
      .where('state', '=', 'running')
      .where('id', 'in', held.map((h) => h.id))
      .returning(['id', 'attempts'])
      .execute();
    const attempt = new Map(held.map((h) => [h.id, h.attempt]));
    return new Set(rows.filter((r) => attempt.get(r.id) === r.attempts).map((r) => r.id));
  }

  /**
   * Records a progress event of a job this server runs, fenced: nothing is written when the job is no
   * longer this server's (attempt). Returns the event's id, or null when fenced off.
   */
  async progress(id: string, attempt: number, serverId: string, data: unknown): Promise<number | null> {
    const res = await sql<{ id: number }>`
      WITH e AS (
        INSERT INTO job_events (job_id, attempt, server_id, type, data)
        SELECT ${id}, ${attempt}, ${serverId}, 'progress', ${json(data)}::json
        WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ${id} AND locked_by = ${serverId} AND attempts = ${attempt} AND state = 'running')
        RETURNING id
      )
      SELECT e.id, ${notifyEvent(id)} FROM e`.execute(this.db);
    return res.rows[0] ? Number(res.rows[0].id) : null;
  }

  /** Ends a job this server runs (fenced by server and attempt); false when it was no longer this server's. */
  async finish(id: string, attempt: number, serverId: string, end: { state: 'succeeded'; result: unknown } | { state: 'failed'; error: JobError }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const done = await tx
        .updateTable('jobs')
        .set({ state: end.state, result: end.state === 'succeeded' ? json(end.result) : null, error: end.state === 'failed' ? JSON.stringify(end.error) : null, finished_at: sql<Date>`now()`, lease_expires_at: null })
        .where('id', '=', id)
        .where('locked_by', '=', serverId)
        .where('attempts', '=', attempt)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (!Number(done.numUpdatedRows)) return false;
      await tx.insertInto('job_events').values({ job_id: id, attempt, server_id: serverId, type: end.state, data: end.state === 'failed' ? JSON.stringify({ detail: end.error.detail, status: end.error.status }) : null }).execute();
      await sql`SELECT ${notifyEvent(id)}`.execute(tx);
      return true;
    });
  }

  /** Fails a job whatever server holds it, e.g. when its attempts ran out (claimed by this server first). */
  async failClaimed(id: string, attempt: number, serverId: string, error: JobError): Promise<boolean> {
    return this.finish(id, attempt, serverId, { state: 'failed', error });
  }

  /** Gives a job this server runs back to the queue, due in `delaySeconds` (a server that stops). */
  async release(id: string, attempt: number, serverId: string, delaySeconds: number): Promise<boolean> {
    return this.requeue(id, attempt, serverId, delaySeconds, { type: 'released', data: { dueInSeconds: delaySeconds } });
  }

  /** Puts a job this server runs back in the queue after `delaySeconds`, with the reason (its handler asked to retry later). */
  async retry(id: string, attempt: number, serverId: string, delaySeconds: number, reason: string): Promise<boolean> {
    return this.requeue(id, attempt, serverId, delaySeconds, { type: 'retry', data: { reason, dueInSeconds: delaySeconds } });
  }

  /** Back to the queue, due in `delaySeconds`, with the event that says why; only by the server that holds this attempt. */
  private async requeue(id: string, attempt: number, serverId: string, delaySeconds: number, event: { type: 'released' | 'retry'; data: Record<string, unknown> }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const done = await tx
        .updateTable('jobs')
        .set({ state: 'queued', lease_expires_at: null, run_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})` })
        .where('id', '=', id)
        .where('locked_by', '=', serverId)
        .where('attempts', '=', attempt)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (!Number(done.numUpdatedRows)) return false;
      await tx.insertInto('job_events').values({ job_id: id, attempt, server_id: serverId, type: event.type, data: JSON.stringify(event.data) }).execute();
      await sql`SELECT ${notifyEvent(id)}`.execute(tx);
      return true;
    });
  }

  /** Records that this server lost a job it ran (its lease ran out and another server holds it now). */
  async lost(id: string, attempt: number, serverId: string): Promise<void> {
    await this.db.insertInto('job_events').values({ job_id: id, attempt, server_id: serverId, type: 'lost', data: null }).execute();
  }

  async get(id: string): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? jobView(row) : undefined;
  }

  /** The state of a job only (for followers). */
  async state(id: string): Promise<JobState | undefined> {
    const row = await this.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirst();
    return row?.state;
  }

  /** Jobs, newest first. */
  async list(f: JobFilter = {}): Promise<Job[]> {
    let q = this.db.selectFrom('jobs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit ?? 50);
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.state) q = q.where('state', '=', f.state);
    if (f.subject) q = q.where('subject', '=', f.subject);
    if (f.createdBy) q = q.where('created_by', '=', f.createdBy);
    // keyset on (created_at, id), compared in the database at its own precision
    if (f.after) q = q.where(sql<boolean>`(created_at, id) < (SELECT created_at, id FROM jobs WHERE id = ${f.after})`);
    return (await q.execute()).map(jobView);
  }

  /** A job's events after `afterId`, in order. */
  async events(id: string, afterId = 0, limit = 1000): Promise<JobEvent[]> {
    const rows = await this.db.selectFrom('job_events').selectAll().where('job_id', '=', id).where('id', '>', afterId).orderBy('id').limit(limit).execute();
    return rows.map(jobEventView);
  }

  /** Deletes jobs that ended more than `days` ago, with their events; returns how many. */
  async prune(days: number): Promise<number> {
    const res = await this.db
      .deleteFrom('jobs')
      .where('state', 'in', ['succeeded', 'failed', 'cancelled'])
      .where('finished_at', '<', sql<Date>`now() - make_interval(days => ${days})`)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Queued and running jobs by kind, with the age of the oldest due queued job (for the metrics). */
  async depth(): Promise<{ kind: string; state: 'queued' | 'running'; count: number; oldestSeconds: number | null }[]> {
    const res = await sql<{ kind: string; state: 'queued' | 'running'; count: number; oldest: number | null }>`
      SELECT kind, state, count(*)::int AS count,
             extract(epoch FROM now() - min(run_at) FILTER (WHERE state = 'queued' AND run_at <= now()))::float8 AS oldest
      FROM jobs WHERE state IN ('queued', 'running') GROUP BY kind, state`.execute(this.db);
    return res.rows.map((r) => ({ kind: r.kind, state: r.state, count: Number(r.count), oldestSeconds: r.oldest === null ? null : Number(r.oldest) }));
  }
}
