import path from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { loadPlatformFolder, loadPlatformFromGit, PlatformGitError, type PlatformFileError } from './loader.ts';
import { publish } from './store.ts';

/**
 * Loads the platform (golden paths as code) from a folder or a git repository and publishes what is
 * valid. A bad file is reported with its path, line and reason; the good ones still load.
 */
export type PlatformSource = { kind: 'folder'; path: string } | { kind: 'git'; url: string; ref: string; subdir?: string };

/** `./platform`, `/srv/platform`, or `git+<url>#<ref>[:<subdir>]` (e.g. git+https://git.example.com/platform.git#main). */
export function parsePlatformSource(spec: string): PlatformSource {
  if (!spec.startsWith('git+')) return { kind: 'folder', path: path.resolve(spec) };
  const m = /^git\+(.+?)(?:#([^:]+))?(?::(.+))?$/.exec(spec);
  if (!m) throw new Error(`cannot read the platform source ${spec}: use a folder path or git+<url>#<ref>`);
  return { kind: 'git', url: m[1]!, ref: m[2] ?? 'main', ...(m[3] ? { subdir: m[3] } : {}) };
}

export const describeSource = (s: PlatformSource) => (s.kind === 'folder' ? s.path : `git+${s.url}#${s.ref}${s.subdir ? `:${s.subdir}` : ''}`);

export interface SyncReport {
  id: number;
  source: string;
  revision: string | null;
  loaded: number;
  published: { kind: string; name: string; version: string }[];
  unchanged: number;
  retired: { kind: string; name: string }[];
  errors: PlatformFileError[];
  startedAt: string;
  finishedAt: string;
}

export class PlatformSync {
  private readonly db: Db;
  private readonly opts: { source: PlatformSource; cacheDir: string; drivers: readonly string[]; log: Logger };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SyncReport> | undefined;
  private readonly listeners: ((report: SyncReport) => Promise<void> | void)[] = [];

  constructor(db: Db, opts: { source: PlatformSource; cacheDir: string; drivers: readonly string[]; log: Logger }) {
    this.db = db;
    this.opts = opts;
  }

  get source(): PlatformSource {
    return this.opts.source;
  }

  /** Called after every sync, before sync() resolves (e.g. to compile the policies now in force). */
  onSynced(listener: (report: SyncReport) => Promise<void> | void): void {
    this.listeners.push(listener);
  }

  /** One sync; concurrent calls share the run in progress. */
  sync(): Promise<SyncReport> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<SyncReport> {
    const { source, drivers, log } = this.opts;
    const label = describeSource(source);
    const startedAt = new Date();
    const row = await this.db.insertInto('platform_syncs').values({ source: label, errors: '[]' }).returning('id').executeTakeFirstOrThrow();
    let revision: string | null = null;
    let result;
    try {
      if (source.kind === 'folder') {
        result = await loadPlatformFolder(source.path, { drivers });
      } else {
        const git = await loadPlatformFromGit(source.url, source.ref, { cacheDir: this.opts.cacheDir, drivers, ...(source.subdir ? { subdir: source.subdir } : {}) });
        revision = git.commit;
        result = git;
      }
    } catch (err) {
      const message = err instanceof PlatformGitError || err instanceof Error ? err.message : String(err);
      result = { objects: [], errors: [{ file: label, document: 0, line: null, path: null, message }] };
    }
    const errors = [...result.errors];
    const outcome = result.objects.length || !errors.length
      ? await publish(this.db, result.objects, label, { retireMissing: errors.length === 0 })
      : { published: [], unchanged: 0, retired: [], problems: [] };
    errors.push(...outcome.problems.map((p) => ({ file: p.file, document: p.document, line: null, path: 'metadata.version', message: p.message })));
    const finishedAt = new Date();
    await this.db
      .updateTable('platform_syncs')
      .set({ revision, finished_at: finishedAt, loaded: result.objects.length, published: outcome.published.length, errors: JSON.stringify(errors) })
      .where('id', '=', row.id)
      .execute();
    const report: SyncReport = {
      id: row.id,
      source: label,
      revision,
      loaded: result.objects.length,
      published: outcome.published,
      unchanged: outcome.unchanged,
      retired: outcome.retired,
      errors,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
    };
    log.info({ source: label, loaded: report.loaded, published: report.published.length, errors: errors.length }, 'platform synced');
    for (const listener of this.listeners) {
      try {
        await listener(report);
      } catch (err) {
        log.error({ err }, 'a platform sync listener failed');
      }
    }
    return report;
  }

  /** Syncs every `intervalMs` until stop(); a failing sync is logged and retried at the next tick. */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.sync().catch((err: unknown) => this.opts.log.error({ err }, 'platform sync failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async lastSync(): Promise<{ source: string; revision: string | null; finishedAt: string | null; loaded: number; published: number; errors: PlatformFileError[] } | undefined> {
    const r = await this.db.selectFrom('platform_syncs').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!r) return undefined;
    return { source: r.source, revision: r.revision, finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null, loaded: r.loaded, published: r.published, errors: r.errors as PlatformFileError[] };
  }
}
