import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ApplicationService, ManagedApplication } from '../applications/service.ts';
import { conflict, PaveError } from '../errors.ts';
import type { ClusterSettings } from '../platform/schema.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Db } from '../store/db.ts';
import type { BuildRow, DeploymentRow, EnvironmentRow } from '../store/schema.ts';
import { clusterAccess, rolloutTimeoutMs, type Reveal } from '../targets/cluster.ts';
import type { ClusterDeployment } from '../targets/kubernetes/target.ts';
import { dnsLabel, labelValue } from '../targets/kubernetes/names.ts';
import type { RenderedObject } from '../targets/kubernetes/objects.ts';
import { resolveForRender } from '../targets/kubernetes/pending.ts';
import { TargetSettingsError, type DeploymentTarget, type TargetDescription, type TargetObjectStatus } from '../targets/target.ts';
import type { ScoreWorkload } from '../workloads/score.ts';
import type { ResolvedTarget } from './target-resolve.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * The cluster side of deployments (runtime `kubernetes` or `gitops`): the target a deployment goes to
 * (recorded with it: the cluster's settings, whose credentials stay platform secrets read when used),
 * the objects it renders from the same application model the local runtime runs (the Score workload
 * with its add-ons' variables and provisioned outputs, the deployment's sealed snapshot, the team
 * profile, the build's image), sealed with the deployment so that a release or rollback applies
 * exactly them, and the targets themselves. The Kubernetes renderer and targets (and their schemas,
 * ~40 MB) are loaded on first use.
 */
export interface TargetRecord {
  runtime: 'kubernetes' | 'gitops';
  cluster: ClusterSettings;
  at: string;
  description: TargetDescription;
  namespace: string;
}

export type ClusterTarget = DeploymentTarget<ClusterDeployment> & { discard?(d: ClusterDeployment): Promise<unknown> };

const renderedContext = (id: string) => `deployment:${id}:rendered`;

/** A problem with the cluster settings as problem+json: 409, with the setting's path. */
export function settingsProblem(err: TargetSettingsError): PaveError {
  return new PaveError(409, 'invalid-cluster-settings', 'Invalid cluster settings', err.message, [{ path: err.path, message: err.message }]);
}

/** The target of a deployment, as a key: the same cluster reached the same way (or `local`). */
export function targetKey(rec: TargetRecord | null): string {
  return rec ? `${rec.runtime}|${rec.cluster.name}|${rec.description.location}|${rec.description.namespace ?? ''}` : 'local';
}

export interface ClusterDeploymentsOptions {
  db: Db;
  box: SecretBox;
  apps: ApplicationService;
  log: Logger;
  /** Reads platform secrets by name (the clusters' credentials). */
  reveal: Reveal;
  /** GitOps working clones go in `<dataDir>/gitops`. */
  dataDir: string;
  pollMs: number;
}

export class ClusterDeployments {
  private readonly o: ClusterDeploymentsOptions;
  constructor(o: ClusterDeploymentsOptions) {
    this.o = o;
  }

  /** The record of where a deployment goes; 409 (invalid-cluster-settings) when the settings cannot serve its runtime. */
  record(t: ResolvedTarget, app: { namespace: string; name: string }, env: { name: string }): TargetRecord {
    if (t.problem) throw settingsProblem(t.problem);
    const cluster = t.cluster!;
    const base = app.namespace === 'default' ? app.name : `${app.namespace}-${app.name}`;
    const namespace = cluster.namespace ?? dnsLabel(`${dnsLabel(base, 40)}-${env.name}`);
    const runtime = t.runtime as 'kubernetes' | 'gitops';
    const description: TargetDescription = runtime === 'kubernetes'
      ? { runtime, cluster: cluster.name, location: cluster.server ?? (cluster.kubeconfig ? `kubeconfig ${cluster.kubeconfig.secretRef}${cluster.context ? ` (${cluster.context})` : ''}` : 'in-cluster'), namespace }
      : { runtime, cluster: cluster.name, location: cluster.gitops!.remote ?? cluster.gitops!.directory!, branch: cluster.gitops!.branch ?? 'main', namespace };
    return { runtime, cluster, at: t.at, description, namespace };
  }

  /** The target of a record, with its credentials read now. */
  async open(rec: TargetRecord, opts: { rolloutTimeoutMs?: number | undefined; requestTimeoutMs?: number | undefined } = {}): Promise<ClusterTarget> {
    try {
      if (rec.runtime === 'gitops') {
        const g = rec.cluster.gitops;
        if (!g) throw new TargetSettingsError(`${rec.at}.gitops`, `cluster ${rec.cluster.name} has no GitOps repository`);
        const { GitOpsDeploymentTarget } = await import('../targets/gitops-target.ts');
        const directory = g.directory ?? path.join(this.o.dataDir, 'gitops', `${rec.cluster.name}-${createHash('sha256').update(`${g.remote ?? ''}#${g.branch ?? 'main'}`).digest('hex').slice(0, 12)}`);
        return new GitOpsDeploymentTarget({ cluster: rec.cluster.name, directory, remote: g.remote, branch: g.branch, secrets: g.secrets });
      }
      const access = await clusterAccess(rec.cluster, this.o.reveal, rec.at);
      const { KubernetesDeploymentTarget } = await import('../targets/kubernetes/target.ts');
      return new KubernetesDeploymentTarget(access, { cluster: rec.cluster.name, namespace: rec.cluster.namespace, rolloutTimeoutMs: opts.rolloutTimeoutMs ?? rolloutTimeoutMs(rec.cluster), pollMs: this.o.pollMs, requestTimeoutMs: opts.requestTimeoutMs });
    } catch (err) {
      if (err instanceof TargetSettingsError) throw settingsProblem(err);
      throw err;
    }
  }

  /** The newest successful image build (what cluster targets run), or a 409 that says to register one. */
  async newestImage(app: ManagedApplication): Promise<BuildRow> {
    const row = await this.o.db.selectFrom('builds').selectAll().where('entity_id', '=', app.entityId).where('status', '=', 'succeeded').where('artifact_kind', '=', 'image').orderBy('number', 'desc').limit(1).executeTakeFirst();
    if (!row) throw conflict(`${app.ref} has no image to run on a cluster: register an image built by CI (POST /api/v1/applications/${app.name}/artifacts, "pave artifacts register ${app.name} --image <image@sha256:…>")`);
    return row;
  }

  /**
   * The objects of a deployment: the workload resolved with the environment's provisioned outputs, the
   * main container's variables from the snapshot, the build's image, the profile's defaults and the
   * cluster's routing. A rendering with errors or placeholders is refused (409), before anything is
   * written or applied.
   */
  async render(app: ManagedApplication, env: EnvironmentRow, t: ResolvedTarget, rec: TargetRecord, d: { id: string; number: number }, build: BuildRow, snapshot: Snapshot): Promise<{ namespace: string; objects: RenderedObject[] }> {
    const { graph } = await this.o.apps.target(app.ref, env.name);
    const resources = (await this.o.apps.resources(app.ref, env.name, true)).filter((r) => r.status === 'ready');
    const workload: ScoreWorkload = {
      ...app.workload,
      resources: { ...Object.fromEntries(graph.resources.map((r) => [r.name, { type: r.type, params: r.params }])), ...app.workload.resources },
      containers: Object.fromEntries(Object.entries(app.workload.containers).map(([n, c]) => [n, { ...c, variables: { ...graph.variables, ...c.variables } }])),
    };
    const resolution = resolveForRender(workload, Object.fromEntries(resources.map((r) => [r.name, r.outputs])), Object.fromEntries(resources.map((r) => [r.name, r.secretOutputs])));
    const { renderKubernetes } = await import('../targets/kubernetes/render.ts');
    const c = rec.cluster;
    const result = renderKubernetes({
      application: { namespace: app.namespace, name: app.name }, environment: { name: env.name, type: env.type }, deployment: d,
      workload: resolution.workload, secretVariables: resolution.secretVariables, secretFiles: resolution.secretFiles, secretArgs: resolution.secretArgs,
      main: { variables: snapshot.variables, secretNames: snapshot.secretNames },
      image: build.image, imageMissing: `build ${build.number} is not an image`,
      profile: { replicas: t.defaults.replicas, cpu: t.defaults.cpu, memory: t.defaults.memory, healthPath: t.defaults.healthPath },
      replicas: env.replicas ?? undefined, namespace: c.namespace, released: true,
      route: {
        kind: c.route === 'ingress' ? 'Ingress' : 'HTTPRoute', domain: c.domain, ingressClassName: c.ingressClass,
        ...(c.gateway ? { gateway: c.gateway.includes('/') ? { namespace: c.gateway.split('/')[0]!, name: c.gateway.split('/')[1]! } : { name: c.gateway } } : {}),
      },
    });
    const problems = [...resolution.pending.map((p) => `${p}: not provisioned`), ...result.errors, ...result.placeholders];
    if (problems.length) {
      const hint = result.placeholders.some((p) => p.startsWith('route:')) ? ` (set ${rec.at}.domain, or give the workload route resources with hosts)` : '';
      throw new PaveError(409, 'conflict', 'Conflict', `the objects of deployment ${d.number} cannot be applied: ${problems.join('; ')}${hint}; nothing was deployed (see them with "pave render ${app.name} --env ${env.name}")`);
    }
    return { namespace: result.namespace, objects: result.objects };
  }

  seal(id: string, rendered: { namespace: string; objects: RenderedObject[] }): Buffer {
    return this.o.box.sealJson(rendered, renderedContext(id));
  }

  /** The deployment as its target takes it: its recorded objects (never rendered again). */
  payload(app: { ref: string; namespace: string; name: string }, env: { name: string }, d: DeploymentRow, build: { number: number; image: string | null }, author: string): ClusterDeployment {
    if (!d.rendered) throw conflict(`deployment ${d.number} has no recorded objects`);
    const rendered = this.o.box.openJson<{ namespace: string; objects: RenderedObject[] }>(d.rendered, renderedContext(d.id));
    return {
      application: app.ref, environment: env.name, deployment: { id: d.id, number: d.number }, build: `${build.number}${build.image ? ` (${build.image})` : ''}`, author, rendered,
      owner: { application: labelValue(app.name), catalogNamespace: labelValue(app.namespace), environment: labelValue(env.name), namespace: rendered.namespace },
    };
  }

  recordOf(d: DeploymentRow): TargetRecord | null {
    return d.runtime === 'local' || !d.target ? null : (d.target as unknown as TargetRecord);
  }

  /** `https://<host>` of a cluster deployment: its route's first host. */
  url(d: DeploymentRow): string | null {
    if (!d.rendered) return null;
    try {
      const rendered = this.o.box.openJson<{ objects: RenderedObject[] }>(d.rendered, renderedContext(d.id));
      for (const { object } of rendered.objects) {
        const spec = object.spec as { hostnames?: string[]; rules?: { host?: string }[] } | undefined;
        const host = object.kind === 'HTTPRoute' ? spec?.hostnames?.[0] : object.kind === 'Ingress' ? spec?.rules?.[0]?.host : undefined;
        if (host) return `https://${host}`;
      }
    } catch {
      // an unreadable record has no URL
    }
    return null;
  }

  /** A released deployment's objects as the cluster (or repository) reports them now; its recorded ones when it cannot be asked. */
  async liveStatus(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow): Promise<{ status: string; objects: TargetObjectStatus[] }> {
    const rec = this.recordOf(d)!;
    try {
      const build = await this.o.db.selectFrom('builds').select(['number', 'image']).where('id', '=', d.build_id).executeTakeFirstOrThrow();
      const target = await this.open(rec, { requestTimeoutMs: 5000 });
      try {
        const objects = await target.status(this.payload(app, env, d, build, d.created_by));
        const has = (state: TargetObjectStatus['state']) => objects.some((o) => o.state === state);
        const status = has('failed') || has('progressing') ? 'degraded' : has('missing') ? (rec.runtime === 'gitops' ? 'out-of-sync' : 'down') : rec.runtime === 'gitops' ? 'committed' : 'running';
        return { status, objects };
      } finally {
        target.close();
      }
    } catch (err) {
      const recorded = d.objects as unknown as TargetObjectStatus[];
      return { status: 'unknown', objects: [{ object: `${rec.runtime} cluster ${rec.cluster.name}`, kind: 'Cluster', name: rec.cluster.name, namespace: null, state: 'failed', detail: `not reachable: ${(err as Error).message}` }, ...recorded] };
    }
  }

  /**
   * Removes the environment from every cluster target its deployments went to (pruning what Pave
   * applied there; for GitOps, a commit removing its folder), except the target `keep` runs on.
   * Throws (409) when a target refuses: the deployments stay recorded as running there.
   */
  async removeEnvironment(app: { ref: string; namespace: string; name: string }, env: EnvironmentRow, keep: DeploymentRow | null, by: string): Promise<void> {
    const rows = await this.o.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).where('runtime', '<>', 'local')
      .where((eb) => eb.or([eb('running', '<>', 'stopped'), eb('id', '=', env.released_deployment_id ?? '00000000-0000-0000-0000-000000000000')])).orderBy('number', 'desc').execute();
    const keepKey = keep ? targetKey(this.recordOf(keep)) : null;
    const done = new Set<string>();
    for (const row of rows) {
      const rec = this.recordOf(row);
      const key = targetKey(rec);
      if (!rec || key === keepKey || done.has(key)) continue;
      done.add(key);
      const build = await this.o.db.selectFrom('builds').select(['number', 'image']).where('id', '=', row.build_id).executeTakeFirstOrThrow();
      const target = await this.open(rec);
      try {
        const res = await target.remove(this.payload(app, env, row, build, by), (m) => this.o.log.info({ application: app.ref, environment: env.name, cluster: rec.cluster.name }, m));
        if (!res.ok) throw conflict(`${env.name} of ${app.ref} could not be removed from ${rec.runtime} cluster ${rec.cluster.name}: ${res.error ?? 'the target refused it'}`);
        this.o.log.info({ application: app.ref, environment: env.name, runtime: rec.runtime, cluster: rec.cluster.name, objects: res.objects.length }, 'removed from the cluster');
      } finally {
        target.close();
      }
      const others = await this.o.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).where('runtime', '=', rec.runtime).where('running', '<>', 'stopped').execute();
      const gone = others.filter((o) => o.id !== keep?.id && targetKey(this.recordOf(o)) === key).map((o) => o.id);
      if (gone.length) await this.o.db.updateTable('deployments').set({ running: 'stopped' }).where('id', 'in', gone).execute();
    }
  }
}
