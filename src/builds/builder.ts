/**
 * The builder: source in, immutable content-addressed artifact out.
 *
 * Layout under `dir`:
 *   work/build-XXXX/       a build's scratch folder (removed when the build ends)
 *   artifacts/<hex>/       an artifact's tree, named by its digest (sha256:<hex>)
 *   artifacts/<hex>.json   its metadata (Artifact without dir), written once
 *   index/<key>            build key (source digest + recipe) → artifact digest, for reuse
 *
 * A build fetches the source, digests it, reuses the artifact of an earlier build of the same source
 * and recipe, or installs dependencies, runs the build command, digests the result and moves it into
 * place with one rename. Nothing is written to artifacts/ or index/ by a failed build.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { digestTree } from './digest.ts';
import { checkRecipe, detect, type BuildPlan } from './detect.ts';
import { describeExit, runShell } from './exec.ts';
import { checkProcesses } from './procfile.ts';
import { BuildError, extractArchive, fetchSource, type FetchContext } from './source.ts';
import type { Artifact, BuildLogLine, BuildRecipe, BuildResult, BuildSource } from './types.ts';

export { treeDigest } from './digest.ts';
export { parseProcfile } from './procfile.ts';
export { BuildError } from './source.ts';

/** Part of every build key: a change of how builds are made invalidates earlier reuse. */
const BUILDER_VERSION = 'pave-builder-v1';
const STALE_WORK_MS = 24 * 60 * 60 * 1000;
const DIGEST = /^sha256:([0-9a-f]{64})$/;

export interface BuilderOptions {
  /** The builds area (`<dataDir>/builds`): artifacts, work folders, the reuse index. */
  dir: string;
  log?: Logger | undefined;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/** A command as shown in an error message: its first line, at most 80 characters. */
function label(command: string): string {
  const first = command.trim().split('\n')[0] ?? '';
  return first.length > 80 ? `${first.slice(0, 77)}...` : first;
}

/** The key of a build: its source digest and its recipe (processes sorted by name). */
export function buildKey(sourceDigest: string, recipe: BuildRecipe): string {
  const processes = recipe.processes
    ? Object.fromEntries(Object.keys(recipe.processes).sort().map((k) => [k, (recipe.processes as Record<string, string>)[k]]))
    : null;
  const json = JSON.stringify({ command: recipe.command ?? null, processes });
  return createHash('sha256').update(`${BUILDER_VERSION}\n${sourceDigest}\n${json}`).digest('hex');
}

/** The environment of install and build commands: nothing of Pave's own (which holds its credentials). */
function commandEnv(nodeEnv: string | null): Record<string, string> {
  const env: Record<string, string> = {
    CI: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    NO_UPDATE_NOTIFIER: '1',
  };
  const binDir = path.dirname(process.execPath);
  const PATH = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  env.PATH = PATH.split(path.delimiter).includes(binDir) ? PATH : `${PATH}${path.delimiter}${binDir}`;
  for (const k of ['HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  if (nodeEnv !== null) env.NODE_ENV = nodeEnv;
  return env;
}

export class Builder {
  readonly dir: string;
  readonly #log: Logger | undefined;
  #swept = false;

  constructor(opts: BuilderOptions) {
    this.dir = path.resolve(opts.dir);
    this.#log = opts.log;
  }

  get #artifacts(): string {
    return path.join(this.dir, 'artifacts');
  }
  get #index(): string {
    return path.join(this.dir, 'index');
  }
  get #work(): string {
    return path.join(this.dir, 'work');
  }

  async #ensureLayout(): Promise<void> {
    await Promise.all([this.#artifacts, this.#index, this.#work].map((d) => fs.mkdir(d, { recursive: true })));
    if (!this.#swept) {
      this.#swept = true;
      await this.#sweepWork();
    }
  }

  /** Removes work folders a crashed process left behind (older than a day), once per Builder. */
  async #sweepWork(): Promise<void> {
    const cutoff = Date.now() - STALE_WORK_MS;
    for (const name of await fs.readdir(this.#work).catch(() => [] as string[])) {
      const abs = path.join(this.#work, name);
      const st = await fs.stat(abs).catch(() => null);
      if (st && st.mtimeMs < cutoff) await fs.rm(abs, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Builds `source` with `recipe`; never throws for a failed build (ok: false with the reason). */
  async build(source: BuildSource, recipeIn: BuildRecipe, onLog: (l: BuildLogLine) => void, signal?: AbortSignal): Promise<BuildResult> {
    const started = performance.now();
    const recipe: BuildRecipe = recipeIn ?? {};
    const elapsed = () => Math.round(performance.now() - started);
    const emit = (stream: BuildLogLine['stream'], line: string) => {
      try {
        onLog({ ts: new Date().toISOString(), stream, line });
      } catch {
        // a broken log consumer does not break the build
      }
    };
    const system = (line: string) => emit('system', line);
    let commit: { sha: string; time: string } | null = null;
    const ctx: FetchContext = { system, output: emit, signal, commit: (c) => void (commit = c) };
    let sourceDigest: string | null = null;
    let container: string | null = null;
    try {
      const problems = checkRecipe(recipe);
      if (problems.length > 0) throw new BuildError(`invalid recipe: ${problems.join('; ')}`);
      signal?.throwIfAborted();
      await this.#ensureLayout();
      container = await fs.mkdtemp(path.join(this.#work, 'build-'));
      const root = await fetchSource(source, path.join(container, 'src'), ctx);
      signal?.throwIfAborted();

      const src = await digestTree(root);
      sourceDigest = src.digest;
      system(`source ${sourceDigest} (${src.files} files, ${formatSize(src.sizeBytes)})`);
      const key = buildKey(sourceDigest, recipe);
      const earlier = await this.#lookup(key);
      if (earlier) {
        system(`reusing artifact ${earlier.digest} built from the same source`);
        this.#log?.info({ artifact: earlier.digest, sourceDigest }, 'build reused an artifact');
        return { ok: true, artifact: earlier, sourceDigest, reused: true, durationMs: elapsed(), commit };
      }

      const plan = await detect(root, recipe, { prebuilt: false });
      system(`detected: ${plan.detected.join(', ')}`);
      if (plan.install) await this.#run(plan.install, root, null, ctx, emit);
      else if (plan.installNote) system(plan.installNote);
      if (plan.build) {
        const t = performance.now();
        await this.#run(plan.build, root, 'production', ctx, emit);
        system(`build succeeded in ${seconds(performance.now() - t)}`);
      }
      signal?.throwIfAborted();
      const artifact = await this.#store(root, plan, system);
      await this.#writeIndex(key, artifact.digest);
      system(`artifact ${artifact.digest} ready (${formatSize(artifact.sizeBytes)}) after ${seconds(elapsed())}`);
      this.#log?.info({ artifact: artifact.digest, sourceDigest, durationMs: elapsed() }, 'build succeeded');
      return { ok: true, artifact, sourceDigest, reused: false, durationMs: elapsed(), commit };
    } catch (e) {
      const error = signal?.aborted ? 'build cancelled' : e instanceof BuildError ? e.message : `build failed: ${(e as Error).message}`;
      system(error);
      if (e instanceof BuildError || signal?.aborted) this.#log?.info({ sourceDigest, error }, 'build failed');
      else this.#log?.error({ err: e, sourceDigest }, 'build failed unexpectedly');
      return { ok: false, error, sourceDigest, durationMs: elapsed() };
    } finally {
      if (container) await fs.rm(container, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Runs one install/build command; throws a BuildError naming it when it fails. */
  async #run(command: string, cwd: string, nodeEnv: string | null, ctx: FetchContext, emit: (s: BuildLogLine['stream'], l: string) => void): Promise<void> {
    ctx.system(`$ ${command}`);
    const r = await runShell(command, { cwd, env: commandEnv(nodeEnv), signal: ctx.signal, onLine: emit });
    if (r.aborted) throw new BuildError('build cancelled');
    if (r.code !== 0) throw new BuildError(`${label(command)} ${describeExit(r)}`);
  }

  /** The artifact an earlier successful build with this key made, if it is still there. */
  async #lookup(key: string): Promise<Artifact | null> {
    let digest: string;
    try {
      digest = (await fs.readFile(path.join(this.#index, key), 'utf8')).trim();
    } catch {
      return null;
    }
    return this.artifact(digest);
  }

  async #writeIndex(key: string, digest: string): Promise<void> {
    await writeAtomic(path.join(this.#index, key), digest + '\n');
  }

  /**
   * Digests the tree under `root` and moves it to artifacts/<hex> (or drops it when that artifact
   * exists already), writes the metadata once, and returns the stored artifact.
   */
  async #store(root: string, plan: BuildPlan, system: (l: string) => void): Promise<Artifact> {
    if (plan.procfile !== null) {
      system('writing the process types into the artifact\'s Procfile');
      await fs.writeFile(path.join(root, 'Procfile'), plan.procfile);
    }
    const summary = await digestTree(root);
    const hex = (DIGEST.exec(summary.digest) as RegExpExecArray)[1] as string;
    const target = path.join(this.#artifacts, hex);
    try {
      await fs.rename(root, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      system(`artifact ${summary.digest} exists already: keeping it`);
      await fs.rm(root, { recursive: true, force: true });
    }
    const existing = await this.artifact(summary.digest);
    if (existing) return existing;
    const meta: Omit<Artifact, 'dir'> = {
      digest: summary.digest,
      processes: plan.processes,
      release: plan.release,
      detected: plan.detected,
      sizeBytes: summary.sizeBytes,
      createdAt: new Date().toISOString(),
    };
    await writeAtomic(`${target}.json`, JSON.stringify(meta, null, 2) + '\n');
    return { ...meta, dir: target };
  }

  /** The artifact with this digest, or null when there is none (or the digest is malformed). */
  async artifact(digest: string): Promise<Artifact | null> {
    const m = DIGEST.exec(digest);
    if (!m) return null;
    const dir = path.join(this.#artifacts, m[1] as string);
    let meta: Omit<Artifact, 'dir'>;
    try {
      meta = JSON.parse(await fs.readFile(`${dir}.json`, 'utf8')) as Omit<Artifact, 'dir'>;
      const st = await fs.stat(dir);
      if (!st.isDirectory()) return null;
    } catch {
      return null;
    }
    return {
      digest: meta.digest,
      dir,
      processes: meta.processes,
      release: meta.release ?? null,
      detected: meta.detected ?? [],
      sizeBytes: meta.sizeBytes,
      createdAt: meta.createdAt,
    };
  }

  /**
   * Stores an already built .tar.gz (from CI) as an artifact: extracted safely, process types from
   * its Procfile, `opts.processes`, or package.json (start script, main); no install, no build.
   * Throws an Error saying what is wrong with a bad archive.
   */
  async registerArchive(file: string, opts: { processes?: Record<string, string> } = {}): Promise<Artifact> {
    if (opts.processes) {
      const problems = checkProcesses(opts.processes);
      if (problems.length > 0) throw new BuildError(`invalid processes: ${problems.join('; ')}`);
    }
    await this.#ensureLayout();
    const container = await fs.mkdtemp(path.join(this.#work, 'archive-'));
    const lines: string[] = [];
    const ctx: FetchContext = { system: (l) => lines.push(l), output: (_s, l) => lines.push(l) };
    try {
      const root = await extractArchive(file, path.join(container, 'src'), ctx);
      const plan = await detect(root, { processes: opts.processes }, { prebuilt: true });
      plan.detected.unshift('archive');
      const artifact = await this.#store(root, plan, (l) => lines.push(l));
      this.#log?.info({ artifact: artifact.digest, file }, 'archive registered');
      return artifact;
    } finally {
      await fs.rm(container, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Deletes an artifact (its metadata first, so it stops being found, then its tree and index entries). */
  async remove(digest: string): Promise<void> {
    const m = DIGEST.exec(digest);
    if (!m) return;
    const dir = path.join(this.#artifacts, m[1] as string);
    await fs.rm(`${dir}.json`, { force: true });
    await fs.rm(dir, { recursive: true, force: true });
    let keys: string[] = [];
    try {
      keys = await fs.readdir(this.#index);
    } catch {
      return;
    }
    for (const key of keys) {
      if (key.startsWith('.')) continue;
      const file = path.join(this.#index, key);
      const value = await fs.readFile(file, 'utf8').catch(() => '');
      if (value.trim() === digest) await fs.rm(file, { force: true });
    }
  }
}

/** Writes a file with a temporary name and renames it into place. */
async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}
