import path from 'node:path';
import { GitError, gitopsFiles, gitopsFolder, GitOpsWriter, type GitOpsChange, type GitOpsResult } from './gitops.ts';
import type { ClusterDeployment } from './kubernetes/target.ts';
import type { DeploymentTarget, Readiness, TargetDescription, TargetEmit, TargetObjectStatus, TargetOutcome } from './target.ts';

/**
 * The GitOps target: Pave commits, Argo CD or Flux applies. A deployment is rendered and recorded when
 * it is deployed, and committed when it is released: the commit is what makes the cluster run it, so
 * there is one commit per released deployment (its message names application, environment, build and
 * author), pushed when the repository has a remote. Readiness is the GitOps controller's to watch (the
 * objects carry Argo CD sync waves: the Service and route switch once the new workload is healthy), so
 * waitReady has nothing to wait for. A rollback is a new commit restoring the earlier deployment's
 * files (or, if it was never committed, its recorded objects); history is never rewritten and a push
 * is never forced. remove commits the removal of the application's folder.
 */
export interface GitOpsTargetOptions {
  cluster: string;
  /** Pave's working clone. */
  directory: string;
  remote?: string | undefined;
  branch?: string | undefined;
  secrets?: 'omit' | 'commit' | undefined;
}

/** One writer per working clone, for the life of the process: git's index is not for sharing. */
const writers = new Map<string, GitOpsWriter>();

function writerFor(o: GitOpsTargetOptions): GitOpsWriter {
  const key = path.resolve(o.directory);
  let w = writers.get(key);
  if (!w) {
    w = new GitOpsWriter({ dir: key, remote: o.remote, branch: o.branch, secrets: o.secrets });
    writers.set(key, w);
  }
  return w;
}

export class GitOpsDeploymentTarget implements DeploymentTarget<ClusterDeployment> {
  readonly runtime = 'gitops' as const;
  private readonly o: GitOpsTargetOptions;
  private readonly writer: GitOpsWriter;
  constructor(o: GitOpsTargetOptions) {
    this.o = o;
    this.writer = writerFor(o);
  }

  describe(): TargetDescription {
    return { runtime: 'gitops', cluster: this.o.cluster, location: this.o.remote ?? this.o.directory, branch: this.o.branch ?? 'main' };
  }

  private change(d: ClusterDeployment): GitOpsChange {
    return { cluster: this.o.cluster, application: d.application, environment: d.environment, deployment: d.deployment, build: d.build, author: d.author, objects: d.rendered.objects };
  }

  private files(d: ClusterDeployment, state: TargetObjectStatus['state'], detail?: string): TargetObjectStatus[] {
    const folder = gitopsFolder(this.o.cluster, d.environment, d.application);
    const { files, omitted } = gitopsFiles(d.rendered.objects, this.o.secrets ?? 'omit');
    return [
      ...files.map((f) => ({ object: `${folder}/${f.name}`, kind: 'File', name: f.name, namespace: null, state, ...(detail ? { detail } : {}) })),
      ...omitted.map((s) => ({ object: `Secret ${d.rendered.namespace}/${s.replace(/ .*$/, '')}`, kind: 'Secret', name: s.replace(/ .*$/, ''), namespace: d.rendered.namespace, state: 'omitted' as const, detail: `not committed (${s.replace(/^[^ ]+ /, '')}): the cluster must provide it` })),
    ];
  }

  private outcome(d: ClusterDeployment, res: GitOpsResult, what: string): TargetOutcome {
    const detail = res.commit ? `${what} ${res.commit.slice(0, 12)}${res.pushed ? ', pushed' : this.o.remote ? '' : ' (no remote)'}` : undefined;
    return { ok: true, objects: this.files(d, 'committed', detail), commit: res.commit, pushed: res.pushed };
  }

  async deploy(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    emit(`rendered ${d.rendered.objects.length} objects for ${gitopsFolder(this.o.cluster, d.environment, d.application)}; they are committed when the deployment is released`);
    return { ok: true, objects: this.files(d, 'rendered') };
  }

  async waitReady(): Promise<Readiness> {
    return { ok: true };
  }

  private async run(d: ClusterDeployment, emit: TargetEmit, what: string, work: () => Promise<GitOpsResult>): Promise<TargetOutcome> {
    try {
      const res = await work();
      emit(res.changed ? `committed ${res.commit?.slice(0, 12)} in ${res.folder}${res.pushed ? `, pushed to ${this.o.remote} (${this.o.branch ?? 'main'})` : ''}` : `${res.folder} already holds these files: no commit`);
      return this.outcome(d, res, what);
    } catch (err) {
      return { ok: false, objects: this.files(d, 'failed'), error: (err as Error).message };
    }
  }

  release(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    return this.run(d, emit, 'commit', () => this.writer.write(this.change(d)));
  }

  rollback(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    return this.run(d, emit, 'commit', async () => {
      const { objects: _objects, ...change } = this.change(d);
      try {
        return await this.writer.rollback(change);
      } catch (err) {
        if (!(err instanceof GitError) || !/no commit of deployment/.test(err.message)) throw err;
        emit(`deployment ${d.deployment.number} was never committed: committing its recorded objects`);
        return this.writer.write(this.change(d), 'rollback');
      }
    });
  }

  async remove(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    try {
      const { objects: _objects, ...change } = this.change(d);
      const res = await this.writer.remove(change);
      emit(res.changed ? `committed the removal of ${res.folder}${res.pushed ? ', pushed' : ''}` : `${res.folder} is not in the repository`);
      return { ok: true, objects: [], commit: res.commit, pushed: res.pushed };
    } catch (err) {
      return { ok: false, objects: [], error: (err as Error).message };
    }
  }

  /** Whether the newest commit of the application's folder is this deployment's. */
  async status(d: ClusterDeployment): Promise<TargetObjectStatus[]> {
    const folder = gitopsFolder(this.o.cluster, d.environment, d.application);
    try {
      const newest = (await this.writer.history(folder))[0];
      if (newest?.deployment === d.deployment.id && newest.kind !== 'other') return this.files(d, 'committed', `in ${newest.commit.slice(0, 12)} (${newest.subject})`);
      return this.files(d, 'missing', newest ? `the folder holds ${newest.commit.slice(0, 12)} (${newest.subject})` : 'not in the repository');
    } catch (err) {
      return this.files(d, 'failed', (err as Error).message);
    }
  }

  close(): void {
    // the writer (one per clone) lives with the process
  }
}
