import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { dnsLabel } from './kubernetes/names.ts';
import { toYaml, type KubeObject, type Phase, type RenderedObject } from './kubernetes/objects.ts';

/**
 * The GitOps target: instead of applying, Pave commits the rendered objects into a git repository that
 * Argo CD or Flux reconciles. Layout (a folder per cluster, environment and application, each with a
 * kustomization.yaml, and a kustomization.yaml at every level above listing the folders below, so a
 * tool can be pointed at a cluster's folder or at one application's):
 *
 *     clusters/<cluster>/kustomization.yaml
 *     clusters/<cluster>/<environment>/kustomization.yaml
 *     clusters/<cluster>/<environment>/<application>/kustomization.yaml
 *     clusters/<cluster>/<environment>/<application>/<kind>-<name>.yaml   (one object per file)
 *
 * One commit per deployment, its message naming the application, environment, build and author (and
 * trailers Pave-Application, Pave-Environment, Pave-Deployment, Pave-Build, Pave-Author that history
 * and rollback read back); nothing is committed when the content did not change. When a remote is set,
 * the commit is pushed (a rejected push is rebased on the remote and pushed again, never forced). A
 * rollback is a new commit that restores the folder as an earlier deployment's commit wrote it.
 *
 * Objects carry Argo CD sync waves (namespace -1, workload 0, release 1), so Argo CD switches the
 * Service and route only once the new Deployment is healthy. Secrets are not committed unless the
 * target says `secrets: 'commit'` (only for repositories as private as the cluster's Secrets): by
 * default they are left out and named in the result and the commit message, for the cluster to get
 * from elsewhere (Pave's apply, or an operator such as External Secrets or Sealed Secrets).
 */

export interface GitOpsTarget {
  /** The local clone: created on first use (cloned from `remote`, or a new repository). */
  dir: string;
  /** A remote to pull from and push to (any URL git understands, or a path to a bare repository). */
  remote?: string | undefined;
  /** Default main. */
  branch?: string | undefined;
  /** Default `omit`: Secret objects stay out of the repository. */
  secrets?: 'omit' | 'commit' | undefined;
  /** Who commits (the author is the person who deployed); default Pave <pave@localhost>. */
  committer?: { name: string; email: string } | undefined;
}

/** What a commit records. */
export interface GitOpsChange {
  /** The cluster's folder name, e.g. the profile's region. */
  cluster: string;
  /** `application:default/shop`; its folder is the name (prefixed with the namespace unless `default`). */
  application: string;
  environment: string;
  deployment: { id: string; number: number };
  /** The build, e.g. `7 (registry.example.com/shop@sha256:…)`. */
  build: string;
  /** The user who deployed, e.g. `user:default/alice`. */
  author: string;
  objects: RenderedObject[];
}

export interface GitOpsResult {
  /** The application's folder, relative to the repository. */
  folder: string;
  files: string[];
  /** The commit now at the head of the branch (the new one, or the unchanged head). */
  commit: string | null;
  /** Whether a commit was made (false when the content was already there). */
  changed: boolean;
  pushed: boolean;
  /** Secrets left out of the repository (`secrets: omit`). */
  omitted: string[];
}

export interface GitOpsHistoryEntry {
  commit: string;
  subject: string;
  author: string;
  date: string;
  deployment: string | null;
  kind: 'deploy' | 'rollback' | 'other';
}

export class GitError extends Error {}

const WAVES: Record<Phase, string> = { namespace: '-1', workload: '0', release: '1' };
const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';

const appFolder = (ref: string) => {
  const [, rest = ref] = ref.split(':');
  const [ns, name] = rest.includes('/') ? (rest.split('/') as [string, string]) : ['default', rest];
  return dnsLabel(ns === 'default' ? name : `${ns}-${name}`);
};

/** The application's folder in the layout. */
export function gitopsFolder(cluster: string, environment: string, application: string): string {
  return path.posix.join('clusters', dnsLabel(cluster), dnsLabel(environment), appFolder(application));
}

function kustomization(resources: string[]): string {
  return stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });
}

/** The files of an application's folder (pure): one object per file, and its kustomization.yaml. */
export function gitopsFiles(objects: readonly RenderedObject[], secrets: 'omit' | 'commit' = 'omit'): { files: { name: string; content: string }[]; omitted: string[] } {
  const files: { name: string; content: string }[] = [];
  const omitted: string[] = [];
  for (const { phase, object } of objects) {
    if (object.kind === 'Secret' && secrets === 'omit') {
      omitted.push(`${object.metadata.name} (keys: ${Object.keys((object.data as Record<string, string> | undefined) ?? {}).join(', ')})`);
      continue;
    }
    const o: KubeObject = { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [SYNC_WAVE]: WAVES[phase] } } };
    files.push({ name: `${object.kind.toLowerCase()}-${object.metadata.name}.yaml`, content: toYaml([o]) });
  }
  files.push({ name: 'kustomization.yaml', content: kustomization(files.map((f) => f.name)) });
  return { files, omitted };
}

function message(c: Omit<GitOpsChange, 'objects'>, kind: 'deploy' | 'rollback' | 'remove', omitted: string[], from?: string): string {
  const who = c.author.replace(/^user:(default\/)?/, '');
  const subject = kind === 'deploy'
    ? `Deploy ${c.application} to ${c.environment}: deployment ${c.deployment.number}, build ${c.build}, by ${who}`
    : kind === 'rollback'
      ? `Roll back ${c.application} in ${c.environment} to deployment ${c.deployment.number} (build ${c.build}), by ${who}`
      : `Remove ${c.application} from ${c.environment} (last deployment ${c.deployment.number}, build ${c.build}), by ${who}`;
  const body = [
    ...(from ? [`Restores the files of commit ${from}.`, ''] : []),
    ...(omitted.length ? ['Secrets not committed (the cluster must provide them):', ...omitted.map((s) => `- ${s}`), ''] : []),
    `Pave-Application: ${c.application}`,
    `Pave-Environment: ${c.environment}`,
    `Pave-Deployment: ${c.deployment.id}`,
    `Pave-Build: ${c.build}`,
    `Pave-Author: ${c.author}`,
    `Pave-Change: ${kind}`,
  ];
  return `${subject}\n\n${body.join('\n')}\n`;
}

export class GitOpsWriter {
  private readonly t: Required<Omit<GitOpsTarget, 'remote'>> & { remote: string | undefined };
  private queue: Promise<unknown> = Promise.resolve();
  constructor(target: GitOpsTarget) {
    this.t = { dir: target.dir, remote: target.remote, branch: target.branch ?? 'main', secrets: target.secrets ?? 'omit', committer: target.committer ?? { name: 'Pave', email: 'pave@localhost' } };
  }

  /** One change at a time per writer (git's index is not for sharing). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private git(args: string[], opts: { input?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile('git', args, {
        cwd: opts.cwd ?? this.t.dir, maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env },
      }, (err, stdout, stderr) => {
        if (err) reject(new GitError(`git ${args[0]} failed: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  private async remoteHasBranch(): Promise<boolean> {
    if (!this.t.remote) return false;
    return (await this.git(['ls-remote', '--heads', 'origin', this.t.branch])).trim() !== '';
  }

  /** The clone, up to date with the remote's branch. */
  private async prepare(): Promise<void> {
    if (!existsSync(path.join(this.t.dir, '.git'))) {
      await mkdir(path.dirname(this.t.dir), { recursive: true });
      if (this.t.remote) await this.git(['clone', '--quiet', this.t.remote, this.t.dir], { cwd: path.dirname(this.t.dir) });
      else await this.git(['init', '--quiet', this.t.dir], { cwd: path.dirname(this.t.dir) });
      const head = await this.git(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '');
      if (!head.trim()) await this.git(['symbolic-ref', 'HEAD', `refs/heads/${this.t.branch}`]);
      else await this.git(['checkout', '--quiet', '-B', this.t.branch, ...(this.t.remote && (await this.remoteHasBranch()) ? [`origin/${this.t.branch}`] : [])]);
    }
    if (await this.remoteHasBranch()) {
      await this.git(['fetch', '--quiet', 'origin', this.t.branch]);
      const head = (await this.git(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '')).trim();
      if (!head) await this.git(['reset', '--quiet', '--hard', `origin/${this.t.branch}`]);
      else await this.rebase();
    }
  }

  /** Replays local commits on the remote's branch; on a conflict the rebase is undone and the error thrown. */
  private async rebase(): Promise<void> {
    try {
      await this.git(['rebase', '--quiet', `origin/${this.t.branch}`], { env: this.identity(this.t.committer.name, this.t.committer.email) });
    } catch (err) {
      await this.git(['rebase', '--abort']).catch(() => undefined);
      throw err;
    }
  }

  private identity(author: string, email: string): Record<string, string> {
    return { GIT_AUTHOR_NAME: author, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: this.t.committer.name, GIT_COMMITTER_EMAIL: this.t.committer.email };
  }

  private async head(): Promise<string | null> {
    return (await this.git(['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '')).trim() || null;
  }

  /** Regenerates the kustomization.yaml of the environment and cluster folders above `folder`. */
  private async parents(folder: string): Promise<void> {
    for (let dir = path.posix.dirname(folder); dir !== 'clusters' && dir !== '.'; dir = path.posix.dirname(dir)) {
      const abs = path.join(this.t.dir, dir);
      if (!existsSync(abs)) continue;
      const subs = (await readdir(abs, { withFileTypes: true })).filter((e) => e.isDirectory() && existsSync(path.join(abs, e.name, 'kustomization.yaml'))).map((e) => e.name).sort();
      if (subs.length) await writeFile(path.join(abs, 'kustomization.yaml'), kustomization(subs));
      else await rm(abs, { recursive: true, force: true });
    }
  }

  /** Commits what is staged (if anything) and pushes; a rejected push is rebased and retried, never forced. */
  private async commitAndPush(scope: string, msg: string, author: string): Promise<{ commit: string | null; changed: boolean; pushed: boolean }> {
    await this.git(['add', '--all', '--', scope]);
    const changed = await this.git(['diff', '--cached', '--quiet']).then(() => false, () => true);
    const name = author.replace(/^user:(default\/)?/, '');
    if (changed) await this.git(['commit', '--quiet', '--no-verify', '-F', '-'], { input: msg, env: this.identity(name, `${dnsLabel(name)}@users.pave.invalid`) });
    let pushed = false;
    if (this.t.remote && (await this.head())) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.git(['push', '--quiet', 'origin', `HEAD:refs/heads/${this.t.branch}`]);
          pushed = true;
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          await this.git(['fetch', '--quiet', 'origin', this.t.branch]);
          await this.rebase();
        }
      }
    }
    return { commit: await this.head(), changed, pushed };
  }

  /**
   * Writes a deployment's objects into its application's folder: one commit (none if nothing changed),
   * pushed when there is a remote. `kind: 'rollback'` (an earlier deployment's recorded objects, when
   * no commit of it is found to restore) says so in the message.
   */
  write(change: GitOpsChange, kind: 'deploy' | 'rollback' = 'deploy'): Promise<GitOpsResult> {
    return this.serial(async () => {
      await this.prepare();
      const folder = gitopsFolder(change.cluster, change.environment, change.application);
      const { files, omitted } = gitopsFiles(change.objects, this.t.secrets);
      const abs = path.join(this.t.dir, folder);
      await rm(abs, { recursive: true, force: true });
      await mkdir(abs, { recursive: true });
      for (const f of files) await writeFile(path.join(abs, f.name), f.content);
      await this.parents(folder);
      const res = await this.commitAndPush('clusters', message(change, kind, omitted), change.author);
      return { folder, files: files.map((f) => f.name), omitted, ...res };
    });
  }

  /** A commit removing the application's folder (its environment is deleted, or moved to another target); pushed when there is a remote. */
  remove(change: Omit<GitOpsChange, 'objects'>): Promise<GitOpsResult> {
    return this.serial(async () => {
      await this.prepare();
      const folder = gitopsFolder(change.cluster, change.environment, change.application);
      await this.git(['rm', '-r', '--quiet', '--ignore-unmatch', '--', folder]).catch(() => undefined);
      await rm(path.join(this.t.dir, folder), { recursive: true, force: true });
      await this.parents(folder);
      const res = (await this.head()) ? await this.commitAndPush('clusters', message(change, 'remove', []), change.author) : { commit: null, changed: false, pushed: false };
      return { folder, files: [], omitted: [], ...res };
    });
  }

  /**
   * A new commit restoring the application's folder as the commit of an earlier deployment wrote it
   * (found by its Pave-Deployment trailer). `change` names that deployment and who rolls back; its
   * objects are not used.
   */
  rollback(change: Omit<GitOpsChange, 'objects'>): Promise<GitOpsResult & { restored: string }> {
    return this.serial(async () => {
      await this.prepare();
      const folder = gitopsFolder(change.cluster, change.environment, change.application);
      const from = (await this.history(folder, false)).find((h) => h.deployment === change.deployment.id && h.kind === 'deploy');
      if (!from) throw new GitError(`no commit of deployment ${change.deployment.id} in ${folder}`);
      await this.git(['rm', '-r', '--quiet', '--ignore-unmatch', '--', folder]);
      await rm(path.join(this.t.dir, folder), { recursive: true, force: true });
      await this.git(['checkout', from.commit, '--', folder]);
      await this.parents(folder);
      const files = (await readdir(path.join(this.t.dir, folder))).sort();
      const omitted = /Secrets not committed[^\n]*\n((?:- [^\n]*\n)*)/.exec(await this.git(['log', '-1', '--format=%B', from.commit]))?.[1]?.split('\n').filter(Boolean).map((l) => l.slice(2)) ?? [];
      const res = await this.commitAndPush('clusters', message(change, 'rollback', omitted, from.commit), change.author);
      return { folder, files, omitted, restored: from.commit, ...res };
    });
  }

  /** The commits that changed an application's folder, newest first. */
  async history(folder: string, sync = true): Promise<GitOpsHistoryEntry[]> {
    const run = async (): Promise<GitOpsHistoryEntry[]> => {
      if (!(await this.head())) return [];
      const out = await this.git(['log', '--format=%H%x1f%s%x1f%an%x1f%aI%x1f%(trailers:key=Pave-Deployment,valueonly,separator=)%x1f%(trailers:key=Pave-Change,valueonly,separator=)%x1e', '--', folder]);
      return out.split('\x1e').map((r) => r.trim()).filter(Boolean).map((r): GitOpsHistoryEntry => {
        const [commit, subject, author, date, deployment, kind] = r.split('\x1f') as [string, string, string, string, string, string];
        return { commit, subject, author, date, deployment: deployment.trim() || null, kind: kind.trim() === 'deploy' || kind.trim() === 'rollback' ? (kind.trim() as 'deploy' | 'rollback') : 'other' };
      });
    };
    return sync ? this.serial(async () => (await this.prepare(), run())) : run();
  }
}
