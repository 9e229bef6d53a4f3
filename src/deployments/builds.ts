import { EventEmitter } from 'node:events';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Builder } from '../builds/builder.ts';
import type { BuildLogLine, BuildSource } from '../builds/types.ts';
import type { Build, LogLine } from '../contracts/deployments.ts';
import { conflict, notFound } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { BuildRow } from '../store/schema.ts';

/**
 * Builds of applications: each build is a row (numbered per application) and a log file; the
 * artifact it made is addressed by digest and shared by every build of the same source. CI can
 * register an artifact instead (an image pinned by digest, or an archive). Invariant: a failed build
 * leaves no artifact and changes nothing that runs.
 */
export interface BuildTarget {
  entityId: string;
  ref: string;
  /** The template's build settings (command, processes), if any. */
  recipe: { command?: string | undefined; processes?: Record<string, string> | undefined };
}

export class BuildService {
  private readonly db: Db;
  private readonly builder: Builder;
  private readonly logDir: string;
  private readonly log: Logger;
  /** Builds in progress: their lines so far (replayed to followers) and the live ones. */
  private readonly live = new Map<string, { emitter: EventEmitter; lines: BuildLogLine[] }>();
  private readonly running = new Set<Promise<unknown>>();
  constructor(o: { db: Db; builder: Builder; dataDir: string; log: Logger }) {
    this.db = o.db;
    this.builder = o.builder;
    this.logDir = path.join(o.dataDir, 'build-logs');
    this.log = o.log;
  }

  private async insert(target: BuildTarget, values: { origin: 'build' | 'registered'; source: Record<string, unknown>; by: string }): Promise<BuildRow> {
    return this.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`builds:${target.entityId}`}))`.execute(tx);
      const last = await tx.selectFrom('builds').select(sql<number>`coalesce(max(number), 0)`.as('n')).where('entity_id', '=', target.entityId).executeTakeFirstOrThrow();
      return tx
        .insertInto('builds')
        .values({ entity_id: target.entityId, number: Number(last.n) + 1, status: 'building', origin: values.origin, source: JSON.stringify(values.source), created_by: values.by })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /** Starts a build; `done` settles when it finished (it never rejects: a failure is a failed build). */
  async start(target: BuildTarget, source: BuildSource, shownSource: Record<string, unknown>, by: string, cleanup?: () => Promise<void>): Promise<{ build: BuildRow; done: Promise<BuildRow> }> {
    const build = await this.insert(target, { origin: 'build', source: shownSource, by });
    await mkdir(this.logDir, { recursive: true });
    const file = path.join(this.logDir, `${build.id}.log`);
    const emitter = new EventEmitter();
    const lines: BuildLogLine[] = [];
    this.live.set(build.id, { emitter, lines });
    let pending: Promise<void> = Promise.resolve();
    const onLog = (l: BuildLogLine) => {
      pending = pending.then(() => appendFile(file, `${JSON.stringify(l)}\n`)).catch(() => undefined);
      lines.push(l);
      emitter.emit('line', l);
    };
    const done = (async () => {
      const res = await this.builder.build(source, target.recipe, onLog).catch((err: unknown) => ({ ok: false as const, error: (err as Error).message, sourceDigest: null, durationMs: 0 }));
      await pending;
      await cleanup?.().catch(() => undefined);
      const row = res.ok
        ? await this.db.updateTable('builds').set({
            status: 'succeeded', source_digest: res.sourceDigest, artifact_kind: 'local', artifact_digest: res.artifact.digest, processes: JSON.stringify(res.artifact.processes),
            release_command: res.artifact.release, detected: res.artifact.detected, reused: res.reused, finished_at: new Date(), commit_time: res.commit?.time ?? null,
          }).where('id', '=', build.id).returningAll().executeTakeFirstOrThrow()
        : await this.db.updateTable('builds').set({ status: 'failed', source_digest: res.sourceDigest, error: res.error, finished_at: new Date() }).where('id', '=', build.id).returningAll().executeTakeFirstOrThrow();
      this.live.delete(build.id);
      emitter.emit('end', row);
      this.log.info({ build: build.id, application: target.ref, status: row.status, reused: row.reused }, 'build finished');
      return row;
    })();
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return { build, done };
  }

  /** CI hand-off: an image pinned by digest (runs on container runtimes) or an archive already built. */
  async registerImage(target: BuildTarget, image: string, processes: Record<string, string> | undefined, by: string): Promise<BuildRow> {
    const build = await this.insert(target, { origin: 'registered', source: { image }, by });
    return this.db.updateTable('builds').set({
      status: 'succeeded', artifact_kind: 'image', image, artifact_digest: image.slice(image.indexOf('@') + 1), processes: JSON.stringify(processes ?? {}), finished_at: new Date(),
    }).where('id', '=', build.id).returningAll().executeTakeFirstOrThrow();
  }

  async registerArchive(target: BuildTarget, file: string, processes: Record<string, string> | undefined, by: string): Promise<BuildRow> {
    const artifact = await this.builder.registerArchive(file, processes ? { processes } : undefined).catch((err: unknown) => {
      throw conflict(`the archive was not registered: ${(err as Error).message}`);
    });
    const build = await this.insert(target, { origin: 'registered', source: { archive: artifact.digest }, by });
    return this.db.updateTable('builds').set({
      status: 'succeeded', artifact_kind: 'local', artifact_digest: artifact.digest, processes: JSON.stringify(artifact.processes), release_command: artifact.release,
      detected: artifact.detected, finished_at: new Date(),
    }).where('id', '=', build.id).returningAll().executeTakeFirstOrThrow();
  }

  async get(entityId: string, selector: string | number): Promise<BuildRow> {
    let q = this.db.selectFrom('builds').selectAll().where('entity_id', '=', entityId);
    q = typeof selector === 'number' ? q.where('number', '=', selector) : q.where('id', '=', selector);
    const row = await q.executeTakeFirst();
    if (!row) throw notFound(`build ${selector}`);
    return row;
  }

  /** The newest successful build, for deploys that name none. */
  async latest(entityId: string): Promise<BuildRow> {
    const row = await this.db.selectFrom('builds').selectAll().where('entity_id', '=', entityId).where('status', '=', 'succeeded').where('artifact_kind', '=', 'local').orderBy('number', 'desc').limit(1).executeTakeFirst();
    if (!row) throw conflict('the application has no successful build the local runtime can run yet: run "pave build" first');
    return row;
  }

  async list(entityId: string, limit = 50): Promise<BuildRow[]> {
    return this.db.selectFrom('builds').selectAll().where('entity_id', '=', entityId).orderBy('number', 'desc').limit(limit).execute();
  }

  /** Kept log lines of a build; when following a build in progress, also the lines still to come, until it ends or `signal` aborts. */
  async logs(build: BuildRow, onLine: (l: LogLine) => void, opts: { follow: boolean; signal?: AbortSignal | undefined }): Promise<void> {
    const live = this.live.get(build.id);
    if (live) {
      // replay and subscribe in one synchronous step: no line falls between them
      for (const l of live.lines) onLine({ ...l, build: build.id });
      if (!opts.follow) return;
      await new Promise<void>((resolve) => {
        const line = (l: BuildLogLine) => onLine({ ...l, build: build.id });
        const end = () => {
          live.emitter.off('line', line);
          live.emitter.off('end', end);
          resolve();
        };
        live.emitter.on('line', line);
        live.emitter.once('end', end);
        opts.signal?.addEventListener('abort', end, { once: true });
      });
      return;
    }
    // finished: the log file is complete (it is written before the build is marked done)
    const text = await readFile(path.join(this.logDir, `${build.id}.log`), 'utf8').catch(() => '');
    for (const raw of text.split('\n')) if (raw) onLine({ ...(JSON.parse(raw) as BuildLogLine), build: build.id });
  }

  /** Builds that were running when the server stopped are failed: their work folder is gone with the process. */
  async failInterrupted(): Promise<number> {
    const res = await this.db.updateTable('builds').set({ status: 'failed', error: 'the server stopped during this build; build again', finished_at: new Date() }).where('status', '=', 'building').executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

export function buildView(row: BuildRow, application: string): Build {
  return {
    id: row.id, number: row.number, application, status: row.status, origin: row.origin, source: row.source, sourceDigest: row.source_digest,
    artifact: row.artifact_kind && row.artifact_digest ? { kind: row.artifact_kind, digest: row.artifact_digest, image: row.image } : null,
    processes: row.processes, release: row.release_command, detected: row.detected, reused: row.reused, error: row.error, createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(), finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}
