import path from 'node:path';
import { sql, type ExpressionBuilder } from 'kysely';
import type { Logger } from 'pino';
import type { ApplicationService, ManagedApplication } from '../applications/service.ts';
import type { Builder } from '../builds/builder.ts';
import type { Deployment, DeploymentDiff, DeployRequest, EnvironmentStatus, LogLine, Release } from '../contracts/deployments.ts';
import { SECRET_MASK } from '../contracts/golden.ts';
import { conflict, notFound, PaveError, validationError } from '../errors.ts';
import { resolveProfile } from '../platform/profiles.ts';
import type { PolicyCheck, PolicyGate } from '../policies/engine.ts';
import type { Router } from '../router/router.ts';
import type { RouteKey } from '../router/types.ts';
import type { Runtime } from '../runtime/types.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { countRelease, recordDeployment } from '../metrics/instruments.ts';
import type { Db } from '../store/db.ts';
import { freePort } from '../store/embedded.ts';
import type { BuildRow, Database, DeploymentProcess, DeploymentRow, EnvironmentRow } from '../store/schema.ts';
import type { BuildService } from './builds.ts';
import type { EnvironmentConfigs } from './config.ts';
import { diffSnapshots, type Snapshot } from './snapshot.ts';
import { runReleasePhase } from './release-phase.ts';
import { KeyedMutex } from './mutex.ts';
import { LocalDeploymentTarget, type LocalRun } from './local-target.ts';
import { ClusterDeployments, settingsProblem, targetKey, type ClusterTarget, type TargetRecord } from './cluster.ts';
import { resolveTarget, type ResolvedTarget } from './target-resolve.ts';
import type { PlatformSecrets } from '../platform/secrets.ts';
import type { TargetObjectStatus } from '../targets/target.ts';
import { rolloutTimeoutMs } from '../targets/cluster.ts';
import type { DeploymentRunPayload } from './run-job.ts';

/**
 * Runs a deployment's work as a job held by this server (JobService.track with the `deployments.run`
 * kind): wired by the composition root; without it the work runs untracked.
 */
export type DeploymentTracker = <R>(payload: DeploymentRunPayload, work: (ctx: { id: string; signal: AbortSignal }) => Promise<R>) => Promise<R>;

/**
 * Deployments, releases, rollbacks and promotions on a runtime target: the local process runtime behind
 * the router, a Kubernetes cluster, or a GitOps repository (src/targets/target.ts; which one is the
 * environment's, see target-resolve.ts). A deployment is immutable: a build plus a sealed snapshot of
 * the environment's resolved variables and secrets (and, on a cluster, the objects rendered from them);
 * it is started, health-checked (rolled out), and takes traffic only once released. Invariants: the route of an
 * environment only ever points at a healthy deployment; what serves keeps serving until its
 * successor is healthy; a deployment never changes its build or snapshot, so a rollback restarts
 * exactly what ran, without a rebuild.
 */
export interface DeploymentEvent {
  /** `switching`: a cluster target's release, rollback or commit as it happens (applied, pruned, committed). */
  step: 'resources' | 'starting' | 'health' | 'healthy' | 'failed' | 'release-phase' | 'switching' | 'released' | 'draining';
  message: string;
}
type Emit = (e: DeploymentEvent) => void;

export interface DeploymentServiceOptions {
  db: Db;
  box: SecretBox;
  apps: ApplicationService;
  builds: BuildService;
  builder: Builder;
  runtime: Runtime;
  router: Router;
  configs: EnvironmentConfigs;
  log: Logger;
  /** How many replaced deployments stay running, for instant rollbacks. */
  keepWarm: number;
  warmSeconds: number;
  healthTimeoutSeconds: number;
  stopGraceSeconds: number;
  /** Policies on deployment.create and release, checked before anything starts or switches. */
  policies?: PolicyGate | undefined;
  /** Platform secrets: the credentials of clusters (runtime targets kubernetes and gitops). */
  secrets?: PlatformSecrets | undefined;
  /** Where GitOps working clones live (default: the system's temporary folder). */
  dataDir?: string | undefined;
  /** Between two GETs of a rolling Deployment on Kubernetes (default 2 s). */
  rolloutPollMs?: number | undefined;
}

const snapshotContext = (id: string) => `deployment:${id}:snapshot`;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const noop: Emit = () => undefined;
/** Why a local deployment taken over from a server that stopped is failed. */
const INTERRUPTED_LOCAL = 'the server running it stopped before it was healthy (its processes ran on that server\'s host); deploy again';
/** An environment whose process exited this recently is shown degraded, even once it runs again. */
const DEGRADED_FOR_MS = 5 * 60_000;

export class DeploymentService {
  private readonly o: DeploymentServiceOptions;
  private readonly locks = new KeyedMutex();
  private readonly background = new Set<Promise<unknown>>();
  /** The local process runtime behind the router, as a deployment target. */
  private readonly local: LocalDeploymentTarget;
  /** Kubernetes and GitOps: targets, renderings and records of deployments that run on a cluster. */
  private readonly cluster: ClusterDeployments;
  private tracker: DeploymentTracker | undefined;
  constructor(o: DeploymentServiceOptions) {
    this.o = o;
    this.local = new LocalDeploymentTarget(o.runtime, o.router);
    this.cluster = new ClusterDeployments({
      db: o.db, box: o.box, apps: o.apps, log: o.log, dataDir: o.dataDir ?? path.join(process.env.TMPDIR ?? '/tmp', 'pave-gitops'), pollMs: o.rolloutPollMs ?? 2000,
      reveal: (names) => (o.secrets ? o.secrets.reveal(names) : Promise.reject(new Error('platform secrets are not available to deployments'))),
    });
    o.apps.onEnvironmentDeleting((env, app) => this.teardown(env, app));
  }

  private get db(): Db {
    return this.o.db;
  }

  /** Each deployment (and each release, rollback or promotion that does work) holds a job while it runs here (src/deployments/run-job.ts). */
  trackWith(tracker: DeploymentTracker): void {
    this.tracker = tracker;
  }

  /** Runs `work` as the deployment's job when a tracker is wired. */
  private tracked<R>(payload: DeploymentRunPayload, work: () => Promise<R>): Promise<R> {
    return this.tracker ? this.tracker(payload, () => work()) : work();
  }

  // ---- lookups ---------------------------------------------------------------------------------

  private async env(app: ManagedApplication, name: string): Promise<EnvironmentRow> {
    const env = app.environments.find((e) => e.name === name);
    if (!env) throw notFound(`environment ${name} of ${app.ref} (it has ${app.environments.map((e) => e.name).join(', ') || 'none'})`);
    return env;
  }

  /** An environment something is deployed or released into: not one that is being deleted (409). */
  private async writableEnv(app: ManagedApplication, name: string): Promise<EnvironmentRow> {
    const env = await this.env(app, name);
    if (env.status === 'deleting') throw conflict(`environment ${name} of ${app.ref} is being deleted; nothing is deployed or released into it`);
    return env;
  }

  private async deployment(envId: string, selector: string | number): Promise<DeploymentRow> {
    let q = this.db.selectFrom('deployments').selectAll().where('environment_id', '=', envId);
    q = typeof selector === 'number' ? q.where('number', '=', selector) : q.where('id', '=', selector);
    const row = await q.executeTakeFirst();
    if (!row) throw notFound(`deployment ${selector}`);
    return row;
  }

  private async deploymentById(id: string): Promise<DeploymentRow | undefined> {
    return this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  private key(app: { namespace: string; name: string }, env: string): RouteKey {
    return { namespace: app.namespace, application: app.name, environment: env };
  }

  private snapshot(d: DeploymentRow): Snapshot {
    return this.o.box.openJson<Snapshot>(d.snapshot, snapshotContext(d.id));
  }

  /** A deployment and its opened snapshot, for targets that render it again (e.g. `pave render --deployment`, a rollback on Kubernetes). Reads only. */
  async snapshotOf(ref: string, envName: string, selector: string | number): Promise<{ deployment: DeploymentRow; snapshot: Snapshot }> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    const deployment = await this.deployment(env.id, selector);
    return { deployment, snapshot: this.snapshot(deployment) };
  }

  // ---- deploy ----------------------------------------------------------------------------------

  /** The variables every process gets, lowest layer first: workload (with add-on outputs), team profile, environment config. */
  async layers(app: ManagedApplication, env: EnvironmentRow, reveal: boolean): Promise<{ layers: { source: string; variables: Record<string, string> }[]; secretNames: string[]; configVersion: number }> {
    const vars = await this.o.apps.variables(app.ref, env.name, reveal);
    const container = 'web' in vars.containers ? 'web' : (Object.keys(vars.containers)[0] ?? 'web');
    const workloadVars = Object.fromEntries(Object.entries(vars.containers[container] ?? {}).map(([k, v]) => [k, String(v)]));
    const profile = app.team ? await resolveProfile(this.db, app.team) : await resolveProfile(this.db, '*');
    const config = await this.o.configs.current(env.id);
    const mask = (o: Record<string, string>) => (reveal ? o : Object.fromEntries(Object.keys(o).map((k) => [k, SECRET_MASK])));
    return {
      layers: [
        { source: `template ${app.template.metadata.name}@${app.template.metadata.version} and add-ons`, variables: workloadVars },
        { source: `team profile (${env.type})`, variables: profile.environments[env.type]?.variables ?? {} },
        { source: `environment config v${config.version}`, variables: { ...config.variables, ...mask(config.secrets) } },
      ],
      secretNames: [...vars.secretVariables.filter((v) => v.container === container).map((v) => v.name), ...Object.keys(config.secrets)],
      configVersion: config.version,
    };
  }

  private async ensureResources(app: ManagedApplication, env: EnvironmentRow, emit: Emit): Promise<void> {
    try {
      await this.o.apps.variables(app.ref, env.name, false);
    } catch (err) {
      if (!(err instanceof PaveError) || err.status !== 409) throw err;
      emit({ step: 'resources', message: `provisioning the resources of ${env.name}` });
      const res = await this.o.apps.apply(app.ref, env.name, (e) => emit({ step: 'resources', message: `${e.resource} (${e.type}): ${e.phase}${e.detail ? ` (${e.detail})` : ''}` }));
      if (!res.ok) throw conflict(`the resources of ${env.name} could not be provisioned: ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`);
    }
  }

  private async healthPath(app: ManagedApplication, env: EnvironmentRow): Promise<string> {
    const containers = app.workload.containers;
    const c = containers.web ?? Object.values(containers)[0];
    const probe = c?.readinessProbe?.httpGet?.path ?? c?.livenessProbe?.httpGet?.path;
    if (probe) return probe;
    const profile = await resolveProfile(this.db, app.team ?? '*');
    return profile.environments[env.type]?.healthPath ?? '/';
  }

  /** Starts a build in an environment and waits for it to be healthy (or failed); releases it if asked. */
  async deploy(ref: string, envName: string, req: DeployRequest, by: string, emit: Emit = noop, opts: { promotedFrom?: string } = {}): Promise<Deployment> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.writableEnv(app, envName);
    // one deployment (or lifecycle action) at a time per environment
    return this.locks.run(`work:${env.id}`, () => this.deployLocked(app, env, req, by, emit, opts));
  }

  private async deployLocked(app: ManagedApplication, env: EnvironmentRow, req: DeployRequest, by: string, emit: Emit, opts: { promotedFrom?: string }): Promise<Deployment> {
    const target = await resolveTarget(this.db, app, env);
    if (target.runtime !== 'local') return this.deployToCluster(app, env, target, req, by, emit, opts);
    const ref = app.ref;
    const envName = env.name;
    const build = req.build !== undefined ? await this.o.builds.get(app.entityId, req.build) : await this.o.builds.latest(app.entityId);
    if (build.status !== 'succeeded') throw conflict(`build ${build.number} ${build.status === 'failed' ? 'failed' : 'is still running'}; deploy a successful build`);
    if (build.artifact_kind !== 'local') throw conflict(`build ${build.number} is an image (${build.image}); images run on container runtimes (Kubernetes), and this environment uses the local process runtime, which runs builds and registered archives`);
    const artifact = await this.o.builder.artifact(build.artifact_digest!);
    if (!artifact) throw conflict(`the artifact ${build.artifact_digest} of build ${build.number} is no longer on this machine; build again`);
    if (!Object.keys(build.processes).length) throw conflict(`build ${build.number} has no process types`);
    const profile = await resolveProfile(this.db, app.team ?? '*');
    const fresh = await this.db.selectFrom('environments').select('replicas').where('id', '=', env.id).executeTakeFirst();
    const replicas = Math.max(1, fresh?.replicas ?? profile.environments[env.type]?.replicas ?? 1);
    // policies, before resources are provisioned or anything starts: the deployment, and its release when asked for
    if (this.o.policies) {
      const checks: PolicyCheck[] = [this.policyCheck(app, env, by, 'deployment.create', { deployment: { build: build.number, replicas, release: Boolean(req.release), promotedFrom: opts.promotedFrom ?? '', runtime: 'local' } })];
      if (req.release) checks.push(this.policyCheck(app, env, by, 'release', { release: { kind: opts.promotedFrom ? 'promote' : 'release', deployment: 0, build: build.number, runtime: 'local' } }));
      await this.o.policies.enforce(checks);
    }

    await this.ensureResources(app, env, emit);
    const { layers, secretNames, configVersion } = await this.layers(app, env, true);
    const variables = Object.assign({}, ...layers.map((l) => l.variables)) as Record<string, string>;
    const processes: DeploymentProcess[] = [];
    for (const [type, command] of Object.entries(build.processes).sort(([a], [b]) => (a === 'web' ? -1 : b === 'web' ? 1 : a.localeCompare(b)))) {
      for (let i = 0; i < (type === 'web' ? replicas : 1); i++) processes.push({ type, replica: i, command, port: type === 'web' ? await freePort() : null });
    }
    const resources = await this.db.selectFrom('resources').select(['name', 'definition', 'definition_version', 'applied_digest']).where('environment_id', '=', env.id).execute();
    const resourceVersions = Object.fromEntries(resources.map((r) => [r.name, `${r.definition ?? '?'}@${r.definition_version ?? '?'}#${(r.applied_digest ?? '').slice(0, 12)}`]));
    const id = crypto.randomUUID();
    const snapshot: Snapshot = { variables, secretNames: [...new Set(secretNames)].sort(), healthPath: await this.healthPath(app, env), artifact: artifact.digest };
    const row = await this.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`deployments:${env.id}`}))`.execute(tx);
      const last = await tx.selectFrom('deployments').select(sql<number>`coalesce(max(number), 0)`.as('n')).where('environment_id', '=', env.id).executeTakeFirstOrThrow();
      return tx
        .insertInto('deployments')
        .values({
          id, environment_id: env.id, number: Number(last.n) + 1, build_id: build.id, config_version: configVersion, resource_versions: JSON.stringify(resourceVersions),
          processes: JSON.stringify(processes), snapshot: this.o.box.sealJson(snapshot, snapshotContext(id)), status: 'starting', running: 'running', created_by: by, promoted_from: opts.promotedFrom ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    this.o.log.info({ deployment: id, application: ref, environment: envName, build: build.number }, 'deployment starting');
    // the deployment holds a job while it runs here: if this server dies, another marks it failed (run-job.ts)
    return this.tracked({ deployment: id, op: opts.promotedFrom ? 'promote' : 'deploy', release: Boolean(req.release), runtime: 'local', by, timeoutSeconds: req.timeoutSeconds }, async () => {
      const started = Date.now();
      const health = await this.start(app, env, row, artifact.dir, emit, (req.timeoutSeconds ?? this.o.healthTimeoutSeconds) * 1000);
      let done: DeploymentRow;
      if (health.ok) {
        done = await this.db.updateTable('deployments').set({ status: 'healthy', finished_at: new Date(), duration_ms: Date.now() - started }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        emit({ step: 'healthy', message: `deployment ${row.number} is healthy (${Date.now() - started} ms)` });
        recordDeployment('healthy');
        this.track(this.settle(app, env));
      } else {
        const lastLogs = (await this.o.runtime.logs(id, { tail: 30 }).catch(() => [])).map((l) => `${l.type}.${l.replica} ${l.stream === 'system' ? '[pave] ' : ''}${l.line}`);
        await this.o.runtime.stop(id, 0).catch(() => undefined);
        done = await this.db.updateTable('deployments').set({ status: 'failed', running: 'stopped', error: health.reason, last_logs: JSON.stringify(lastLogs), finished_at: new Date(), duration_ms: Date.now() - started }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        emit({ step: 'failed', message: `deployment ${row.number} failed: ${health.reason}` });
        recordDeployment('failed');
        this.o.log.warn({ deployment: id, reason: health.reason }, 'deployment failed');
      }
      if (health.ok && req.release) return (await this.releaseRow(app, env, done, by, opts.promotedFrom ? 'promote' : 'release', emit)).deployment;
      return this.view(app, env, done);
    });
  }

  /** Starts the deployment's processes from its snapshot and waits until every web replica answers its health path. */
  private async start(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow, cwd: string, emit: Emit, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    const run = this.localRun(app, env, d, cwd);
    emit({ step: 'starting', message: `starting ${d.processes.map((p) => `${p.type}.${p.replica}`).join(', ')}` });
    const started = await this.local.deploy(run);
    if (!started.ok) return { ok: false, reason: started.error ?? 'the processes did not start' };
    return this.local.waitReady(run, Date.now() + timeoutMs, (message) => emit({ step: 'health', message }));
  }

  /** A local deployment as the local target takes it: its processes with their environment, the artifact's folder, its route. */
  private localRun(app: { namespace: string; name: string }, env: { name: string }, d: DeploymentRow, cwd?: string): LocalRun {
    const snap = cwd === undefined ? null : this.snapshot(d);
    return {
      id: d.id, graceMs: this.o.stopGraceSeconds * 1000, cwd, healthPath: snap?.healthPath, key: this.key(app, env.name),
      processes: d.processes.map((p) => ({
        type: p.type, replica: p.replica, command: p.command, port: p.port ?? undefined,
        env: snap
          ? { ...snap.variables, PAVE_APPLICATION: app.name, PAVE_ENVIRONMENT: env.name, PAVE_DEPLOYMENT: d.id, PAVE_PROCESS_TYPE: p.type, PAVE_REPLICA: String(p.replica), ...(p.port ? { PORT: String(p.port) } : {}) }
          : {},
      })),
    };
  }

  // ---- release, rollback, promote --------------------------------------------------------------

  async release(ref: string, envName: string, selector: string | number, by: string, emit: Emit = noop): Promise<Release> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.writableEnv(app, envName);
    const d = await this.deployment(env.id, selector);
    return this.locks.run(`work:${env.id}`, () => this.trackedRelease(app, env, d, by, 'release', emit));
  }

  /** Starts the released build again as a new deployment (current config) and releases it: no downtime. */
  async restart(ref: string, envName: string, by: string, emit: Emit = noop): Promise<Deployment> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.writableEnv(app, envName);
    if (!env.released_deployment_id) throw conflict(`nothing is released in ${envName} to restart`);
    const d = (await this.deploymentById(env.released_deployment_id))!;
    return this.deploy(ref, envName, { build: d.build_id, release: true }, by, emit);
  }

  /** Sets the environment's web replicas (kept for later deployments) and, when something is released, deploys it again at that scale. */
  async scale(ref: string, envName: string, replicas: number, by: string, emit: Emit = noop): Promise<Deployment | null> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.writableEnv(app, envName);
    await this.db.updateTable('environments').set({ replicas }).where('id', '=', env.id).execute();
    emit({ step: 'starting', message: `${envName} now runs ${replicas} web replica(s)` });
    if (!env.released_deployment_id) return null;
    const d = (await this.deploymentById(env.released_deployment_id))!;
    return this.deploy(ref, envName, { build: d.build_id, release: true }, by, emit);
  }

  /** Where and with what a command runs for an environment: the released deployment's artifact folder and variables. */
  async runContext(ref: string, envName: string): Promise<{ cwd: string; env: Record<string, string>; deployment: string; secretValues: string[] }> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    if (!env.released_deployment_id) throw conflict(`nothing is released in ${envName}: a command runs with the released build; deploy and release first`);
    const d = (await this.deploymentById(env.released_deployment_id))!;
    if (d.runtime !== 'local') throw conflict(`${envName} runs on ${d.runtime}: a command runs with a build on the local runtime, not in a cluster`);
    const build = await this.db.selectFrom('builds').selectAll().where('id', '=', d.build_id).executeTakeFirstOrThrow();
    const artifact = build.artifact_digest ? await this.o.builder.artifact(build.artifact_digest) : null;
    if (!artifact) throw conflict(`the artifact of the released deployment ${d.number} is no longer on this machine`);
    const snap = this.snapshot(d);
    return {
      cwd: artifact.dir, deployment: d.id,
      env: { ...snap.variables, PAVE_APPLICATION: app.name, PAVE_ENVIRONMENT: env.name, PAVE_DEPLOYMENT: d.id },
      secretValues: snap.secretNames.map((n) => snap.variables[n]).filter((v): v is string => typeof v === 'string' && v.length > 0),
    };
  }

  /** The URL a server-side client reaches an environment at (the router's path form, on loopback). */
  internalUrl(app: { namespace: string; name: string }, env: string): string {
    return this.o.router.urlFor(this.key(app, env)).path.replace('//localhost:', '//127.0.0.1:').replace(/\/$/, '');
  }

  async rollback(ref: string, envName: string, to: string | number | undefined, by: string, emit: Emit = noop): Promise<Release> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.writableEnv(app, envName);
    let d: DeploymentRow;
    if (to !== undefined) d = await this.deployment(env.id, to);
    else {
      const current = env.released_deployment_id;
      const prev = await this.db
        .selectFrom('releases')
        .select('deployment_id')
        .where('environment_id', '=', env.id)
        .$if(current !== null, (q) => q.where('deployment_id', '<>', current!))
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!prev) throw conflict(`${envName} has no earlier release to roll back to`);
      d = (await this.deploymentById(prev.deployment_id))!;
    }
    return this.locks.run(`work:${env.id}`, () => this.trackedRelease(app, env, d, by, 'rollback', emit));
  }

  async promote(ref: string, from: string, to: string, opts: { release: boolean; timeoutSeconds?: number | undefined }, by: string, emit: Emit = noop): Promise<Deployment> {
    const app = await this.o.apps.managedApplication(ref);
    const source = await this.env(app, from);
    await this.writableEnv(app, to);
    if (!source.released_deployment_id) throw conflict(`nothing is released in ${from} to promote`);
    const d = (await this.deploymentById(source.released_deployment_id))!;
    return this.deploy(ref, to, { build: d.build_id, release: opts.release, ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}) }, by, emit, { promotedFrom: `${from}/${d.number}` });
  }

  private policyCheck(app: ManagedApplication, env: EnvironmentRow, by: string, event: PolicyCheck['event'], details: Record<string, unknown>): PolicyCheck {
    return { event, application: { ref: app.ref, name: app.name, namespace: app.namespace, template: app.template.metadata.name, templateVersion: app.template.metadata.version }, environment: { name: env.name, type: env.type }, details, by };
  }

  /** A release or rollback asked for on its own: checked first (a refusal holds no job), then done as the deployment's job. */
  private async trackedRelease(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow, by: string, kind: 'release' | 'rollback', emit: Emit): Promise<Release> {
    await this.releaseChecks(app, env, d, by, kind);
    return this.tracked({ deployment: d.id, op: kind, release: true, runtime: d.runtime, by }, () => this.releaseRow(app, env, d, by, kind, emit, true));
  }

  private async releaseChecks(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow, by: string, kind: 'release' | 'rollback' | 'promote'): Promise<void> {
    if (d.status !== 'healthy') throw conflict(`deployment ${d.number} is ${d.status}${d.error ? ` (${d.error})` : ''}; only a healthy deployment can be released`);
    if (this.o.policies) {
      const build = await this.db.selectFrom('builds').select('number').where('id', '=', d.build_id).executeTakeFirst();
      await this.o.policies.enforce(this.policyCheck(app, env, by, 'release', { release: { kind, deployment: d.number, build: build?.number ?? 0, runtime: d.runtime } }));
    }
  }

  /** `checked`: its status and the policies were checked already (before its job, or when the request that a takeover finishes was made). */
  private async releaseRow(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow, by: string, kind: 'release' | 'rollback' | 'promote', emit: Emit, checked = false): Promise<Release> {
    if (!checked) await this.releaseChecks(app, env, d, by, kind);
    return countRelease(kind, this.locks.run(env.id, async () => {
      const started = Date.now();
      const fresh = (await this.db.selectFrom('environments').selectAll().where('id', '=', env.id).executeTakeFirst()) ?? env;
      const previous = fresh.released_deployment_id;
      const switched = d.runtime === 'local' ? await this.switchLocal(app, env, (await this.deploymentById(d.id))!, emit) : await this.switchCluster(app, env, (await this.deploymentById(d.id))!, by, kind, previous, emit);
      const { row, warm } = switched;
      const duration = Date.now() - started;
      await this.db.transaction().execute(async (tx) => {
        await tx.updateTable('environments').set({ released_deployment_id: row.id }).where('id', '=', env.id).execute();
        await tx.updateTable('deployments').set({ running: 'running', warm_until: null, ...(switched.objects ? { objects: JSON.stringify(switched.objects) } : {}), ...(switched.commit !== undefined ? { commit_sha: switched.commit } : {}) }).where('id', '=', row.id).execute();
        await tx.insertInto('releases').values({ environment_id: env.id, deployment_id: row.id, previous_deployment_id: previous, kind, warm, duration_ms: duration, created_by: by }).execute();
      });
      const how = row.runtime === 'local' ? (warm ? '' : ' (started again from its build and snapshot)') : warm ? ` on ${row.runtime}` : ` on ${row.runtime} (${row.runtime === 'gitops' ? `commit ${switched.commit?.slice(0, 12) ?? '?'}` : 'its recorded objects applied again and rolled out'})`;
      emit({ step: 'released', message: `deployment ${row.number} is released in ${duration} ms${how}` });
      this.o.log.info({ deployment: row.id, application: app.ref, environment: env.name, kind, warm, ms: duration, runtime: row.runtime }, 'released');
      if (previous && previous !== row.id) this.track(this.retire(app, env, previous, row, by));
      const released = (await this.deploymentById(row.id))!;
      const url = row.runtime === 'local' ? (this.urls(app, env.name).url ?? '') : (this.cluster.url(released) ?? '');
      return { environment: env.name, deployment: await this.view(app, { ...env, released_deployment_id: row.id }, released), previous, kind, warm, durationMs: duration, url };
    }));
  }

  /** The local runtime's switch: started again when not warm, the release phase once, then the route. */
  private async switchLocal(app: ManagedApplication, env: EnvironmentRow, current: DeploymentRow, emit: Emit): Promise<{ row: DeploymentRow; warm: boolean; objects?: undefined; commit?: undefined }> {
    let row = current;
    const status = await this.o.runtime.status(row.id);
    const warm = Boolean(status?.alive) && row.running !== 'stopped';
    if (!warm) {
      const build = await this.db.selectFrom('builds').selectAll().where('id', '=', row.build_id).executeTakeFirstOrThrow();
      row = await this.startAgain(app, env, row, build, emit);
    }
    const build = await this.db.selectFrom('builds').selectAll().where('id', '=', row.build_id).executeTakeFirstOrThrow();
    if (build.release_command && row.released_phase === null) {
      emit({ step: 'release-phase', message: `running the release phase: ${build.release_command}` });
      const artifact = await this.o.builder.artifact(build.artifact_digest!);
      const res = await runReleasePhase({ command: build.release_command, cwd: artifact!.dir, env: { ...this.snapshot(row).variables, PAVE_APPLICATION: app.name, PAVE_ENVIRONMENT: env.name, PAVE_DEPLOYMENT: row.id }, onLine: (line) => emit({ step: 'release-phase', message: line }) });
      await this.db.updateTable('deployments').set({ released_phase: res.ok ? 'succeeded' : 'failed', ...(res.ok ? {} : { last_logs: JSON.stringify(res.lines.slice(-30)) }) }).where('id', '=', row.id).execute();
      if (!res.ok) throw conflict(`the release phase of deployment ${row.number} failed: ${res.reason}; nothing was released`);
    }
    await this.route(app, env.name, row);
    return { row, warm };
  }

  /**
   * A cluster's switch: release (the workload applied again only if it is not rolled out, then the
   * Service and route, then the prune; GitOps: the commit) or rollback (every recorded object applied
   * again, the rollout awaited, then the switch; GitOps: a new commit restoring its files). When it
   * fails nothing was switched: what served keeps serving, and the error says why.
   */
  private async switchCluster(app: ManagedApplication, env: EnvironmentRow, row: DeploymentRow, by: string, kind: 'release' | 'rollback' | 'promote', serving: string | null, emit: Emit): Promise<{ row: DeploymentRow; warm: boolean; objects: TargetObjectStatus[]; commit: string | null | undefined }> {
    const rec = this.cluster.recordOf(row)!;
    const build = await this.db.selectFrom('builds').select(['number', 'image']).where('id', '=', row.build_id).executeTakeFirstOrThrow();
    const payload = this.cluster.payload(app, env, row, build, by);
    const target = await this.cluster.open(rec);
    try {
      const wasRunning = row.running !== 'stopped';
      const say = (message: string) => emit({ step: 'switching', message });
      const res = kind === 'rollback' || !wasRunning ? await target.rollback(payload, say) : await target.release(payload, say);
      if (!res.ok && !wasRunning && row.id !== serving) {
        // its objects were applied again for nothing: they go, as a failed deployment's do
        res.objects.push(...((await target.discard?.(payload).catch(() => [])) as TargetObjectStatus[] | undefined ?? []));
      }
      await this.db.updateTable('deployments').set({ objects: JSON.stringify(res.objects) }).where('id', '=', row.id).execute();
      if (!res.ok) throw conflict(`deployment ${row.number} was not released on ${rec.runtime} (cluster ${rec.cluster.name}): ${res.error ?? 'the target refused it'}; what was released before keeps serving`);
      // traffic is on the cluster now: Pave's local router no longer serves the environment
      this.o.router.set(this.key(app, env.name), null);
      // the others on the same target were pruned (or their files replaced): recorded as stopped
      const key = targetKey(rec);
      const others = await this.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).where('runtime', '=', rec.runtime).where('running', '<>', 'stopped').where('id', '<>', row.id).execute();
      const gone = others.filter((o) => o.id !== serving && targetKey(this.cluster.recordOf(o)) === key).map((o) => o.id);
      if (gone.length) await this.db.updateTable('deployments').set({ running: 'stopped' }).where('id', 'in', gone).execute();
      return { row, warm: wasRunning && kind !== 'rollback' && rec.runtime === 'kubernetes', objects: res.objects, commit: res.commit };
    } finally {
      target.close();
    }
  }

  /** Starts a stopped deployment again from its build and snapshot (never rebuilt); ports are reused when free. */
  private async startAgain(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow, build: BuildRow, emit: Emit): Promise<DeploymentRow> {
    const artifact = build.artifact_digest ? await this.o.builder.artifact(build.artifact_digest) : null;
    if (!artifact) throw conflict(`the artifact of deployment ${d.number} (build ${build.number}) is no longer on this machine`);
    await this.o.runtime.stop(d.id, 0).catch(() => undefined);
    const processes: DeploymentProcess[] = [];
    for (const p of d.processes) processes.push({ ...p, port: p.port === null ? null : (await portFree(p.port)) ? p.port : await freePort() });
    let row = await this.db.updateTable('deployments').set({ processes: JSON.stringify(processes), running: 'running' }).where('id', '=', d.id).returningAll().executeTakeFirstOrThrow();
    emit({ step: 'starting', message: `deployment ${d.number} is not running: starting it again from build ${build.number} and its config snapshot` });
    const health = await this.start(app, env, row, artifact.dir, emit, this.o.healthTimeoutSeconds * 1000);
    if (!health.ok) {
      await this.o.runtime.stop(d.id, 0).catch(() => undefined);
      row = await this.db.updateTable('deployments').set({ running: 'stopped' }).where('id', '=', d.id).returningAll().executeTakeFirstOrThrow();
      throw conflict(`deployment ${d.number} did not come back healthy: ${health.reason}; nothing was released`);
    }
    return row;
  }

  private async route(app: { namespace: string; name: string }, envName: string, d: DeploymentRow): Promise<void> {
    const res = await this.local.release(this.localRun(app, { name: envName }, d));
    // e.g. app "a-b" env "c" and app "a" env "b-c" would share the host a-b-c.localhost
    if (!res.ok) throw conflict(`the route of ${app.name} ${envName} cannot be set: ${res.error}`);
  }

  /** The replaced deployment: drained of in-flight requests, then kept warm or stopped. */
  private async retire(app: ManagedApplication, env: EnvironmentRow, id: string, successor?: DeploymentRow, by?: string): Promise<void> {
    const previous = await this.deploymentById(id);
    if (previous && previous.runtime !== 'local') return this.retireCluster(app, env, previous, successor, by ?? previous.created_by);
    await this.o.router.drain(id);
    const warmUntil = new Date(Date.now() + this.o.warmSeconds * 1000);
    // released again meanwhile (a rollback while its requests drained)? then it is not warm, it serves
    await this.db.updateTable('deployments').set({ running: 'warm', warm_until: warmUntil }).where('id', '=', id).where('running', '<>', 'stopped').where(notReleased).execute();
    await this.settle(app, env);
  }

  /** Keeps at most `keepWarm` replaced deployments running (the newest), stops the rest and those past their warm time. */
  private async settle(app: ManagedApplication, env: EnvironmentRow): Promise<void> {
    await this.locks.run(`settle:${env.id}`, async () => {
      const current = (await this.db.selectFrom('environments').select('released_deployment_id').where('id', '=', env.id).executeTakeFirst())?.released_deployment_id ?? null;
      const rows = await this.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).where('running', '<>', 'stopped').where('runtime', '=', 'local').orderBy('number', 'desc').execute();
      const newest = rows.find((r) => r.status === 'healthy')?.id;
      let kept = 0;
      for (const r of rows) {
        if (r.id === current || r.status === 'starting') continue;
        // the newest healthy deployment that was not released yet waits for its release
        if (r.id === newest && r.running === 'running') continue;
        const expired = r.warm_until !== null && new Date(r.warm_until).getTime() <= Date.now();
        if (r.running === 'running') await this.db.updateTable('deployments').set({ running: 'warm', warm_until: new Date(Date.now() + this.o.warmSeconds * 1000) }).where('id', '=', r.id).execute();
        if (kept < this.o.keepWarm && !expired && this.o.warmSeconds > 0) {
          kept++;
          continue;
        }
        await this.stopDeployment(r.id);
      }
    });
    void app;
  }

  private async stopDeployment(id: string, graceMs = this.o.stopGraceSeconds * 1000): Promise<void> {
    await this.local.remove({ id, graceMs });
    await this.db.updateTable('deployments').set({ running: 'stopped', warm_until: null }).where('id', '=', id).execute();
    this.o.log.info({ deployment: id }, 'deployment stopped');
  }

  /** An environment being deleted: its route removed, everything running there stopped. */
  private async teardown(env: EnvironmentRow, app: { ref: string; namespace: string; name: string }): Promise<void> {
    this.o.router.set(this.key(app, env.name), null);
    const rows = await this.db.selectFrom('deployments').select('id').where('environment_id', '=', env.id).where('running', '<>', 'stopped').where('runtime', '=', 'local').execute();
    await Promise.all(rows.map((r) => this.stopDeployment(r.id, 2000)));
    await this.cluster.removeEnvironment(app, env, null, 'pave');
    await this.db.updateTable('environments').set({ released_deployment_id: null }).where('id', '=', env.id).execute();
  }

  // ---- clusters (Kubernetes, GitOps) ------------------------------------------------------------

  /**
   * A deployment on a cluster that no longer serves. When its successor went to the same target, the
   * release already pruned its objects (or replaced its files): it is recorded as stopped. When the
   * environment moved to another target (another runtime or cluster), everything Pave put there for
   * the environment is removed (pruned by its labels; for GitOps, a commit removing the folder).
   */
  private async retireCluster(app: ManagedApplication, env: EnvironmentRow, previous: DeploymentRow, successor: DeploymentRow | undefined, by: string): Promise<void> {
    await this.locks.run(env.id, async () => {
      const key = targetKey(this.cluster.recordOf(previous));
      if (successor && targetKey(this.cluster.recordOf(successor)) === key) {
        await this.db.updateTable('deployments').set({ running: 'stopped' }).where('environment_id', '=', env.id).where('runtime', '=', previous.runtime).where('running', '<>', 'stopped').where(notReleased).execute();
        return;
      }
      await this.cluster.removeEnvironment(app, env, successor ?? null, by);
    });
  }

  /**
   * A deployment on a Kubernetes cluster or through GitOps: the same application model (workload,
   * add-ons' outputs, profile, config and secrets as a sealed snapshot) rendered into objects, which are
   * recorded (sealed) before they are applied; then the workload is applied beside what serves and its
   * rollout awaited (GitOps: recorded, committed when released). A rollout that misses its deadline
   * fails the deployment and its workload objects are deleted; what was released keeps serving.
   */
  private async deployToCluster(app: ManagedApplication, env: EnvironmentRow, t: ResolvedTarget, req: DeployRequest, by: string, emit: Emit, opts: { promotedFrom?: string }): Promise<Deployment> {
    const rec = this.cluster.record(t, app, env);
    const build = req.build !== undefined ? await this.o.builds.get(app.entityId, req.build) : await this.cluster.newestImage(app);
    if (build.status !== 'succeeded') throw conflict(`build ${build.number} ${build.status === 'failed' ? 'failed' : 'is still running'}; deploy a successful build`);
    if (build.artifact_kind !== 'image' || !build.image) {
      throw conflict(`build ${build.number} is a folder build (a local artifact, what the local process runtime runs), and ${env.name} runs on ${t.runtime} (cluster ${rec.cluster.name}), which runs container images: register an image built by CI (POST /api/v1/applications/${app.name}/artifacts, "pave artifacts register ${app.name} --image <image@sha256:…>") and deploy that`);
    }
    const fresh = await this.db.selectFrom('environments').select('replicas').where('id', '=', env.id).executeTakeFirst();
    const replicas = Math.max(0, fresh?.replicas ?? t.defaults.replicas ?? 1);
    if (this.o.policies) {
      const checks: PolicyCheck[] = [this.policyCheck(app, env, by, 'deployment.create', { deployment: { build: build.number, replicas, release: Boolean(req.release), promotedFrom: opts.promotedFrom ?? '', runtime: rec.runtime } })];
      if (req.release) checks.push(this.policyCheck(app, env, by, 'release', { release: { kind: opts.promotedFrom ? 'promote' : 'release', deployment: 0, build: build.number, runtime: rec.runtime } }));
      await this.o.policies.enforce(checks);
    }
    await this.ensureResources(app, env, emit);
    const { layers, secretNames, configVersion } = await this.layers(app, env, true);
    const variables = Object.assign({}, ...layers.map((l) => l.variables)) as Record<string, string>;
    const resources = await this.db.selectFrom('resources').select(['name', 'definition', 'definition_version', 'applied_digest']).where('environment_id', '=', env.id).execute();
    const resourceVersions = Object.fromEntries(resources.map((r) => [r.name, `${r.definition ?? '?'}@${r.definition_version ?? '?'}#${(r.applied_digest ?? '').slice(0, 12)}`]));
    const id = crypto.randomUUID();
    const snapshot: Snapshot = { variables, secretNames: [...new Set(secretNames)].sort(), healthPath: await this.healthPath(app, env), artifact: build.artifact_digest ?? build.image };
    const last = await this.db.selectFrom('deployments').select(sql<number>`coalesce(max(number), 0)`.as('n')).where('environment_id', '=', env.id).executeTakeFirstOrThrow();
    const number = Number(last.n) + 1;
    // rendered and the target opened before anything is written: a rendering that cannot be applied, or settings that do not work, write nothing
    const rendered = await this.cluster.render(app, { ...env, replicas: fresh?.replicas ?? env.replicas }, t, rec, { id, number }, build, snapshot);
    const timeoutMs = req.timeoutSeconds ? req.timeoutSeconds * 1000 : undefined;
    const target = await this.cluster.open(rec, { rolloutTimeoutMs: timeoutMs });
    try {
      const record: TargetRecord = { ...rec, namespace: rendered.namespace, description: { ...rec.description, namespace: rendered.namespace } };
      const row = await this.db.transaction().execute(async (tx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`deployments:${env.id}`}))`.execute(tx);
        const now = await tx.selectFrom('deployments').select(sql<number>`coalesce(max(number), 0)`.as('n')).where('environment_id', '=', env.id).executeTakeFirstOrThrow();
        if (Number(now.n) + 1 !== number) throw conflict(`another deployment of ${env.name} started meanwhile; deploy again`);
        return tx
          .insertInto('deployments')
          .values({
            id, environment_id: env.id, number, build_id: build.id, config_version: configVersion, resource_versions: JSON.stringify(resourceVersions),
            processes: JSON.stringify([]), snapshot: this.o.box.sealJson(snapshot, snapshotContext(id)), status: 'starting', running: 'running', created_by: by, promoted_from: opts.promotedFrom ?? null,
            runtime: rec.runtime, target: JSON.stringify(record), rendered: this.cluster.seal(id, rendered),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
      });
      this.o.log.info({ deployment: id, application: app.ref, environment: env.name, build: build.number, runtime: rec.runtime, cluster: rec.cluster.name }, 'deployment starting');
      emit({ step: 'starting', message: `deployment ${number}: ${rendered.objects.length} objects for ${rec.runtime} (cluster ${rec.cluster.name}, namespace ${rendered.namespace})` });
      // the deployment holds a job while it runs here: if this server dies, another converges it (run-job.ts)
      return await this.tracked({ deployment: id, op: opts.promotedFrom ? 'promote' : 'deploy', release: Boolean(req.release), runtime: rec.runtime, by, timeoutSeconds: req.timeoutSeconds }, async () => {
        const done = await this.rollOut(app, env, row, target, timeoutMs ?? rolloutTimeoutMs(rec.cluster), by, emit);
        if (done.status === 'healthy' && req.release) return (await this.releaseRow(app, env, done, by, opts.promotedFrom ? 'promote' : 'release', emit)).deployment;
        return this.view(app, env, done);
      });
    } finally {
      target.close();
    }
  }

  /**
   * A cluster deployment's rollout: its recorded objects applied (server-side apply: applying them
   * again, as a takeover does, changes nothing that was applied), the rollout awaited to the deadline,
   * then recorded healthy, or failed with its workload objects deleted (what was released keeps serving).
   */
  private async rollOut(app: ManagedApplication, env: EnvironmentRow, row: DeploymentRow, target: ClusterTarget, timeoutMs: number, by: string, emit: Emit): Promise<DeploymentRow> {
    const rec = this.cluster.recordOf(row)!;
    const started = Date.now();
    const build = await this.db.selectFrom('builds').select(['number', 'image']).where('id', '=', row.build_id).executeTakeFirstOrThrow();
    const payload = this.cluster.payload(app, env, row, build, by);
    const applied = await target.deploy(payload, (message) => emit({ step: 'starting', message }));
    const ready = applied.ok ? await target.waitReady(payload, Date.now() + timeoutMs, (message) => emit({ step: 'health', message })) : { ok: false as const, reason: applied.error ?? 'the target refused the objects' };
    let done: DeploymentRow;
    if (ready.ok) {
      done = await this.db.updateTable('deployments').set({ status: 'healthy', objects: JSON.stringify(applied.objects), finished_at: new Date(), duration_ms: Date.now() - started }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
      emit({ step: 'healthy', message: `deployment ${row.number} is ${rec.runtime === 'gitops' ? 'rendered and recorded: it is committed when released' : `rolled out (${Date.now() - started} ms)`}` });
      recordDeployment('healthy');
    } else {
      const discarded = (await target.discard?.(payload).catch(() => [])) as TargetObjectStatus[] | undefined;
      done = await this.db.updateTable('deployments').set({ status: 'failed', running: 'stopped', error: ready.reason, objects: JSON.stringify([...applied.objects, ...(discarded ?? [])]), finished_at: new Date(), duration_ms: Date.now() - started }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
      emit({ step: 'failed', message: `deployment ${row.number} failed: ${ready.reason}` });
      recordDeployment('failed');
      this.o.log.warn({ deployment: row.id, reason: ready.reason }, 'deployment failed');
    }
    return done;
  }

  // ---- environments ----------------------------------------------------------------------------

  /** Creates an environment, provisions its resources and, when cloned, copies the source's config and releases its build. */
  async createEnvironment(ref: string, req: { name: string; type: string; ttlHours?: number | undefined; ttl?: string | undefined; from?: string | undefined; provision?: boolean | undefined }, by: string, emit: Emit = noop, opts: { onProvisioning?: ((job: string | null) => void) | undefined } = {}): Promise<EnvironmentStatus> {
    if (req.from && req.provision === false) throw validationError('a clone is provisioned and deployed at once; leave out provision: false', [{ path: 'body.provision', message: 'cannot be false with from' }]);
    const app = await this.o.apps.managedApplication(ref);
    const source = req.from ? await this.env(app, req.from) : null;
    await this.o.apps.createEnvironment(ref, { name: req.name, type: req.type, ttlHours: req.ttlHours, ttlSeconds: req.ttl ? durationSeconds(req.ttl) : undefined, clonedFrom: req.from });
    const created = await this.o.apps.managedApplication(ref);
    const env = await this.env(created, req.name);
    let job: string | null = null;
    try {
      // a clone's config first (rows only), so that whoever finishes the provisioning finds the environment complete
      if (source) {
        const config = await this.o.configs.current(source.id);
        if (config.version > 0) await this.o.configs.update(env.id, { set: config.variables, secrets: config.secrets }, by, `cloned from ${source.name} v${config.version}`);
      }
      // the environment's rows are committed: its resources are provisioned by a resources.apply job (taken over if this server dies)
      if (req.provision !== false) {
        let ready = true;
        try {
          await this.o.apps.variables(created.ref, env.name, false);
        } catch (err) {
          if (!(err instanceof PaveError) || err.status !== 409) throw err;
          ready = false;
        }
        if (!ready) {
          emit({ step: 'resources', message: `provisioning the resources of ${env.name}` });
          const res = await this.o.apps.provision(created.ref, env.name, {
            by,
            onJob: (id) => {
              job = id;
              opts.onProvisioning?.(id);
            },
            onEvent: (e) => emit({ step: 'resources', message: `${e.resource} (${e.type}): ${e.phase}${e.detail ? ` (${e.detail})` : ''}` }),
          });
          if (!res.ok) throw conflict(`the resources of ${env.name} could not be provisioned: ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`);
        }
      }
      if (job === null) opts.onProvisioning?.(null);
      if (source?.released_deployment_id) {
        const d = (await this.deploymentById(source.released_deployment_id))!;
        await this.deploy(ref, env.name, { build: d.build_id, release: true }, by, emit);
      }
    } catch (err) {
      if (job === null) opts.onProvisioning?.(null);
      // the environment exists (with whatever failed shown); creating it again would collide, so say what to do
      if (err instanceof PaveError) throw new PaveError(err.status, err.type.replace(/^.*\//, ''), err.title, `${req.name} was created, but: ${err.message}`);
      throw err;
    }
    return this.status(ref, req.name);
  }

  /**
   * Sets (or, with null, clears) the environment's runtime target. Nothing moves now: the next
   * deployment goes to the new target (switching a target is a deployment), and its release retires
   * what ran on the old one. Refused (409, invalid-cluster-settings) when the team profile gives the
   * environment type no cluster that can serve the runtime.
   */
  async setRuntime(ref: string, envName: string, runtime: 'local' | 'kubernetes' | 'gitops' | null): Promise<EnvironmentStatus> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    return this.locks.run(`work:${env.id}`, async () => {
      const t = await resolveTarget(this.db, app, { type: env.type, runtime });
      if (t.problem) throw settingsProblem(t.problem);
      await this.db.updateTable('environments').set({ runtime }).where('id', '=', env.id).execute();
      return this.status(ref, envName);
    });
  }

  async status(ref: string, envName: string): Promise<EnvironmentStatus> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    return this.envStatus(app, env);
  }

  async statuses(ref: string): Promise<EnvironmentStatus[]> {
    const app = await this.o.apps.managedApplication(ref);
    return Promise.all(app.environments.map((e) => this.envStatus(app, e)));
  }

  private async envStatus(app: ManagedApplication, env: EnvironmentRow): Promise<EnvironmentStatus> {
    const rows = await this.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).where((eb) => eb.or([eb('running', '<>', 'stopped'), eb('id', '=', env.released_deployment_id ?? '00000000-0000-0000-0000-000000000000')])).orderBy('number', 'desc').execute();
    const views = await Promise.all(rows.map((r) => this.view(app, env, r)));
    const released = views.find((v) => v.released) ?? null;
    const releasedRow = rows.find((r) => r.id === env.released_deployment_id) ?? null;
    const target = await resolveTarget(this.db, app, env);
    let status: string = env.status === 'active' ? 'empty' : env.status;
    let objects: TargetObjectStatus[] | undefined;
    if (env.status === 'active' && released && releasedRow && releasedRow.runtime !== 'local') {
      ({ status, objects } = await this.cluster.liveStatus(app, env, releasedRow));
    } else if (env.status === 'active' && released) {
      const procs = released.processes;
      if (released.running === 'stopped' || !procs.length || procs.every((p) => p.state === 'stopped')) status = 'down';
      else if (procs.some((p) => p.state === 'backoff' || (p.lastExit !== null && Date.now() - Date.parse(p.lastExit.at) < DEGRADED_FOR_MS))) status = 'degraded';
      else status = 'running';
    }
    const urls = releasedRow && releasedRow.runtime !== 'local' ? { url: this.cluster.url(releasedRow), pathUrl: null } : released ? this.urls(app, env.name) : { url: null, pathUrl: null };
    const cluster = target.runtime === 'local' ? null : target.cluster;
    const location = cluster ? (target.runtime === 'gitops' ? (cluster.gitops?.remote ?? cluster.gitops?.directory ?? null) : (cluster.server ?? (cluster.kubeconfig ? `kubeconfig ${cluster.kubeconfig.secretRef}` : cluster.inCluster ? 'in-cluster' : null))) : null;
    return {
      name: env.name, type: env.type, status, url: urls.url, pathUrl: urls.pathUrl, expiresAt: iso(env.expires_at), clonedFrom: env.cloned_from,
      released, deployments: views.filter((v) => !v.released),
      runtime: target.runtime,
      target: {
        runtime: target.runtime, source: target.source, cluster: cluster?.name ?? null, location, namespace: cluster ? (cluster.namespace ?? null) : null,
        problem: target.problem ? { path: target.problem.path, message: target.problem.message } : null,
      },
      ...(objects ? { objects } : {}),
    };
  }

  private urls(app: { namespace: string; name: string }, env: string): { url: string | null; pathUrl: string | null } {
    const u = this.o.router.urlFor(this.key(app, env));
    return { url: u.host, pathUrl: u.path };
  }

  // ---- views -----------------------------------------------------------------------------------

  async list(ref: string, envName: string, limit = 50): Promise<Deployment[]> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    const rows = await this.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).orderBy('number', 'desc').limit(limit).execute();
    return Promise.all(rows.map((r) => this.view(app, env, r)));
  }

  async get(ref: string, envName: string, selector: string | number): Promise<Deployment> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    return this.view(app, env, await this.deployment(env.id, selector));
  }

  private async view(app: ManagedApplication, env: EnvironmentRow, d: DeploymentRow): Promise<Deployment> {
    const build = await this.db.selectFrom('builds').select(['id', 'number', 'artifact_digest']).where('id', '=', d.build_id).executeTakeFirstOrThrow();
    const status = d.running === 'stopped' || d.runtime !== 'local' ? null : await this.o.runtime.status(d.id).catch(() => null);
    const rec = this.cluster.recordOf(d);
    return {
      id: d.id, number: d.number, application: app.ref, environment: env.name, build: { id: build.id, number: build.number, digest: build.artifact_digest },
      configVersion: d.config_version, resourceVersions: d.resource_versions, status: d.status, running: d.running, released: env.released_deployment_id === d.id,
      releasePhase: d.released_phase, error: d.error, lastLogs: d.last_logs, promotedFrom: d.promoted_from,
      processes: d.processes.map((p) => {
        const s = status?.processes.find((x) => x.type === p.type && x.replica === p.replica);
        const alive = Boolean(status?.alive);
        return { type: p.type, replica: p.replica, port: p.port, state: alive && s ? s.state : 'stopped', pid: alive && s ? s.pid : null, restarts: s?.restarts ?? 0, lastExit: s?.lastExit ?? null };
      }),
      createdBy: d.created_by, createdAt: iso(d.created_at)!, finishedAt: iso(d.finished_at), durationMs: d.duration_ms,
      runtime: d.runtime,
      target: rec ? { runtime: rec.runtime, cluster: rec.cluster.name, location: rec.description.location, namespace: rec.description.namespace ?? null, branch: rec.description.branch ?? null, commit: d.commit_sha } : null,
      objects: d.objects as unknown as TargetObjectStatus[],
    };
  }

  async releases(ref: string, envName: string): Promise<{ deployment: string; number: number; previous: string | null; kind: string; warm: boolean; durationMs: number | null; createdBy: string; createdAt: string }[]> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    const rows = await this.db.selectFrom('releases as r').innerJoin('deployments as d', 'd.id', 'r.deployment_id').select(['r.deployment_id', 'd.number', 'r.previous_deployment_id', 'r.kind', 'r.warm', 'r.duration_ms', 'r.created_by', 'r.created_at']).where('r.environment_id', '=', env.id).orderBy('r.id', 'desc').limit(100).execute();
    return rows.map((r) => ({ deployment: r.deployment_id, number: r.number, previous: r.previous_deployment_id, kind: r.kind, warm: r.warm, durationMs: r.duration_ms, createdBy: r.created_by, createdAt: iso(r.created_at)! }));
  }

  /** What changed between two deployments of an application (any environments): build, config, resources, processes. */
  async diff(ref: string, a: { env: string; selector: string | number }, b: { env: string; selector: string | number }): Promise<DeploymentDiff> {
    const app = await this.o.apps.managedApplication(ref);
    const load = async (x: { env: string; selector: string | number }) => {
      const env = await this.env(app, x.env);
      const d = await this.deployment(env.id, x.selector);
      const build = await this.db.selectFrom('builds').selectAll().where('id', '=', d.build_id).executeTakeFirstOrThrow();
      return { env, d, build };
    };
    const [A, B] = [await load(a), await load(b)];
    const typesOf = (d: DeploymentRow) => {
      const out: Record<string, string> = {};
      for (const p of d.processes) out[p.type] = `${p.command} ×${d.processes.filter((q) => q.type === p.type).length}`;
      return out;
    };
    const pa = typesOf(A.d);
    const pb = typesOf(B.d);
    const names = (x: Record<string, string>, y: Record<string, string>) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    return {
      from: { id: A.d.id, number: A.d.number, environment: A.env.name },
      to: { id: B.d.id, number: B.d.number, environment: B.env.name },
      build: { changed: A.build.artifact_digest !== B.build.artifact_digest, from: A.build.artifact_digest, to: B.build.artifact_digest },
      configVersion: { from: A.d.config_version, to: B.d.config_version },
      variables: diffSnapshots(this.snapshot(A.d), this.snapshot(B.d)).map((c) => ({ ...c, process: '*' })),
      resources: names(A.d.resource_versions, B.d.resource_versions).filter((n) => A.d.resource_versions[n] !== B.d.resource_versions[n]).map((n) => ({ name: n, from: A.d.resource_versions[n] ?? null, to: B.d.resource_versions[n] ?? null })),
      processes: names(pa, pb).filter((n) => pa[n] !== pb[n]).map((n) => ({ type: n, from: pa[n] ?? null, to: pb[n] ?? null })),
    };
  }

  // ---- logs ------------------------------------------------------------------------------------

  /** Log lines of an environment's running deployments (or one deployment): the backlog, then, when following, new lines as they come. */
  async logs(ref: string, envName: string, opts: { tail: number; follow: boolean; deployment?: string | number | undefined; signal?: AbortSignal | undefined }, onLine: (l: LogLine) => void): Promise<void> {
    const app = await this.o.apps.managedApplication(ref);
    const env = await this.env(app, envName);
    const runs = async () =>
      opts.deployment !== undefined
        ? [await this.deployment(env.id, opts.deployment)]
        : this.db.selectFrom('deployments').selectAll().where('environment_id', '=', env.id).where('running', '<>', 'stopped').where('runtime', '=', 'local').orderBy('number').execute();
    const initial = await runs();
    const elsewhere = opts.deployment === undefined ? null : initial.find((d) => d.runtime !== 'local');
    if (elsewhere || (opts.deployment === undefined && env.released_deployment_id && (await this.deploymentById(env.released_deployment_id))?.runtime !== 'local')) {
      const rec = this.cluster.recordOf(elsewhere ?? (await this.deploymentById(env.released_deployment_id!))!);
      if (rec) onLine({ ts: new Date().toISOString(), stream: 'system', line: `${envName} runs on ${rec.runtime} (cluster ${rec.cluster.name}, namespace ${rec.description.namespace ?? '?'}): Pave does not collect its logs; read them with kubectl logs -n ${rec.description.namespace ?? '<namespace>'} -l pave.dev/environment=${envName}` });
    }
    const backlog: LogLine[] = [];
    for (const d of initial) for (const l of await this.o.runtime.logs(d.id, { tail: opts.tail })) backlog.push({ ...l, deployment: d.id });
    backlog.sort((x, y) => x.ts.localeCompare(y.ts));
    for (const l of opts.tail > 0 ? backlog.slice(-opts.tail) : []) onLine(l);
    if (!opts.follow) return;
    // a first line at once, so that the client sees the stream open even while the processes are quiet
    onLine({ ts: new Date().toISOString(), stream: 'system', line: `following the logs of ${initial.length} running deployment(s) of ${envName}` });
    const following = new Set<string>();
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    opts.signal?.addEventListener('abort', stop, { once: true });
    const followAll = async (rows: DeploymentRow[]) => {
      for (const d of rows) {
        if (following.has(d.id)) continue;
        following.add(d.id);
        this.o.runtime.follow(d.id, (l) => onLine({ ...l, deployment: d.id }), ctl.signal);
      }
    };
    await followAll(initial);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (opts.deployment === undefined) void runs().then(followAll, () => undefined);
      }, 1000);
      ctl.signal.addEventListener('abort', () => {
        clearInterval(timer);
        resolve();
      }, { once: true });
    });
  }

  // ---- the server's life -----------------------------------------------------------------------

  /**
   * A deployment's job that its server did not finish (it died and its lease ran out, or it gave the
   * job back while stopping), on the server that took the job over (run-job.ts). The local runtime's
   * processes are on that server's host: the deployment is failed, what was released keeps serving,
   * and the job fails (409) saying so. On a cluster it is converged: its recorded objects are applied
   * again and the rollout awaited with its deadline, then it is released if the request asked for a
   * release that is not recorded yet; it ends healthy (released) or failed.
   */
  async takeOver(p: DeploymentRunPayload, emit: Emit = noop, signal?: AbortSignal): Promise<void> {
    const found = await this.db.selectFrom('deployments as d').innerJoin('environments as e', 'e.id', 'd.environment_id').innerJoin('entities as a', 'a.id', 'e.entity_id').select(['a.ref', 'e.name as env_name']).where('d.id', '=', p.deployment).executeTakeFirst();
    if (!found) return; // deleted with its environment meanwhile: nothing is left to converge
    const app = await this.o.apps.managedApplication(found.ref);
    const env = await this.env(app, found.env_name);
    await this.locks.run(`work:${env.id}`, async () => {
      let row = (await this.deploymentById(p.deployment))!;
      const what = p.op === 'release' || p.op === 'rollback' ? `the ${p.op} of deployment ${row.number}` : `deployment ${row.number}`;
      this.o.log.warn({ deployment: row.id, application: app.ref, environment: env.name, op: p.op, runtime: row.runtime }, 'taking over a deployment whose server stopped');
      if (row.runtime === 'local') {
        if (await this.failStarting(row.id, INTERRUPTED_LOCAL)) emit({ step: 'failed', message: `deployment ${row.number} failed: ${INTERRUPTED_LOCAL}` });
        throw conflict(`${what} did not end: the server running it stopped, and a deployment on the local runtime runs on that server's host, so it is not taken over${row.status === 'starting' ? ' (it is marked failed; deploy again)' : ''}; what was released keeps serving`);
      }
      const rec = this.cluster.recordOf(row)!;
      if (row.status === 'starting') {
        const timeoutMs = p.timeoutSeconds ? p.timeoutSeconds * 1000 : rolloutTimeoutMs(rec.cluster);
        emit({ step: 'starting', message: `deployment ${row.number}: taken over after the server running it stopped; its recorded objects are applied again on ${rec.runtime} (cluster ${rec.cluster.name})` });
        const target = await this.cluster.open(rec, { rolloutTimeoutMs: timeoutMs });
        try {
          row = await this.rollOut(app, env, row, target, timeoutMs, p.by, emit);
        } finally {
          target.close();
        }
      }
      if (row.status !== 'healthy' || !p.release) return;
      const current = await this.db.selectFrom('environments').select('released_deployment_id').where('id', '=', env.id).executeTakeFirst();
      // released before its server stopped (the release is recorded once, with the switch): nothing left to do
      if (current?.released_deployment_id === row.id) return;
      if (signal?.aborted) throw conflict(`${what} was taken over by another server`);
      await this.releaseRow(app, env, row, p.by, p.op === 'deploy' ? 'release' : p.op, emit, true);
    });
  }

  /** A deployment whose job will not run again (its attempts ran out): not left in progress. */
  async interrupted(id: string, reason: string): Promise<void> {
    await this.failStarting(id, reason);
  }

  /** Fails a deployment that is still starting (stopping its processes, when they run on this host); false when it was not starting. */
  private async failStarting(id: string, reason: string): Promise<boolean> {
    const d = await this.deploymentById(id);
    if (!d || d.status !== 'starting') return false;
    if (d.runtime === 'local') await this.o.runtime.stop(id, 0).catch(() => undefined);
    const res = await this.db.updateTable('deployments').set({ status: 'failed', running: 'stopped', error: reason, finished_at: new Date() }).where('id', '=', id).where('status', '=', 'starting').executeTakeFirst();
    if (!Number(res.numUpdatedRows)) return false;
    recordDeployment('failed');
    this.o.log.warn({ deployment: id, reason }, 'deployment failed');
    return true;
  }

  /**
   * At start: deployments that were starting when the server stopped are failed; released ones are
   * re-adopted (their processes outlived the server) or started again; warm ones are re-adopted or
   * marked stopped. Routes are rebuilt from the store. `leave`: deployments whose job is still
   * running or queued (on another live server, or to be taken over once its lease runs out: see
   * run-job.ts); they are not failed here. Processes of this host whose deployment the store records
   * as stopped (failed by the server that took over its job while this one was down) are stopped.
   */
  async reconcile(o: { leave?: ReadonlySet<string> | undefined } = {}): Promise<{ adopted: number; restarted: number; failed: number; stopped: number }> {
    const leave = o.leave ?? new Set<string>();
    const out = { adopted: 0, restarted: 0, failed: 0, stopped: 0 };
    await this.o.builds.failInterrupted();
    const rows = await this.db
      .selectFrom('deployments as d')
      .innerJoin('environments as e', 'e.id', 'd.environment_id')
      .innerJoin('entities as a', 'a.id', 'e.entity_id')
      .selectAll('d')
      .select(['a.ref', 'e.name as env_name', 'e.released_deployment_id'])
      .where((eb) => eb.or([eb('d.running', '<>', 'stopped'), eb('d.id', '=', eb.ref('e.released_deployment_id'))]))
      .where('d.runtime', '=', 'local')
      .execute();
    // on a cluster, what was applied stays there (the next release prunes it); a rollout the server did not see end is failed
    const interrupted = await this.db.updateTable('deployments').set({ status: 'failed', error: 'the server stopped while this deployment was rolling out; deploy again', finished_at: new Date() }).where('runtime', '<>', 'local').where('status', '=', 'starting')
      .$if(leave.size > 0, (q) => q.where('id', 'not in', [...leave])).executeTakeFirst();
    out.failed += Number(interrupted.numUpdatedRows);
    for (const r of rows) {
      const status = await this.o.runtime.status(r.id).catch(() => null);
      if (r.status === 'starting') {
        if (leave.has(r.id)) continue;
        await this.o.runtime.stop(r.id, 0).catch(() => undefined);
        await this.db.updateTable('deployments').set({ status: 'failed', running: 'stopped', error: 'the server stopped while this deployment was starting; deploy again', finished_at: new Date() }).where('id', '=', r.id).execute();
        recordDeployment('failed');
        out.failed++;
        continue;
      }
      const released = r.released_deployment_id === r.id;
      if (status?.alive) {
        if (released) await this.route(parseRef(r.ref), r.env_name, r);
        out.adopted++;
        continue;
      }
      if (!released) {
        await this.db.updateTable('deployments').set({ running: 'stopped', warm_until: null }).where('id', '=', r.id).execute();
        out.stopped++;
        continue;
      }
      try {
        const app = await this.o.apps.managedApplication(r.ref);
        const env = await this.env(app, r.env_name);
        const build = await this.db.selectFrom('builds').selectAll().where('id', '=', r.build_id).executeTakeFirstOrThrow();
        const row = await this.startAgain(app, env, r, build, noop);
        await this.route(app, env.name, row);
        out.restarted++;
      } catch (err) {
        this.o.log.error({ deployment: r.id, err }, 'a released deployment could not be started again');
        await this.db.updateTable('deployments').set({ running: 'stopped' }).where('id', '=', r.id).execute();
      }
    }
    const seen = new Set(rows.map((r) => r.id));
    for (const id of await this.o.runtime.list().catch(() => [] as string[])) {
      if (seen.has(id) || !(await this.o.runtime.status(id).catch(() => null))?.alive) continue;
      const d = await this.deploymentById(id);
      if (d?.running !== 'stopped') continue;
      await this.o.runtime.stop(id, 0).catch(() => undefined);
      out.stopped++;
    }
    this.o.log.info(out, 'deployments reconciled');
    return out;
  }

  /** Periodic work: warm deployments past their time are stopped, expired previews deleted with everything in them. */
  async sweep(): Promise<{ stopped: number; expired: string[] }> {
    const stale = await this.db.selectFrom('deployments').select('id').where('running', '=', 'warm').where('warm_until', '<=', new Date()).where(notReleased).execute();
    for (const r of stale) await this.stopDeployment(r.id).catch((err: unknown) => this.o.log.error({ err, deployment: r.id }, 'could not stop a warm deployment'));
    const expired = await this.db
      .selectFrom('environments as e')
      .innerJoin('entities as a', 'a.id', 'e.entity_id')
      .select(['a.ref', 'e.name'])
      .where('e.expires_at', '<=', new Date())
      .where('e.status', 'in', ['active', 'delete-failed'])
      .execute();
    const done: string[] = [];
    for (const e of expired) {
      this.o.log.info({ application: e.ref, environment: e.name }, 'preview expired: deleting it');
      // as a resources.delete job (when this server runs jobs): another server finishes it if this one dies
      const ok = await this.o.apps.deleteEnvironmentAsJob(e.ref, e.name, { by: 'pave:preview-expiry' }).then(
        (res) => res.ok,
        (err: unknown) => {
          this.o.log.warn({ err, application: e.ref, environment: e.name }, 'expired preview not deleted; the next sweep tries again');
          return false;
        },
      );
      if (ok) done.push(`${e.ref}/${e.name}`);
    }
    return { stopped: stale.length, expired: done };
  }

  /** Stops every run (tests, and `pave` uninstall); a normal server stop leaves applications running. */
  async stopAll(graceMs = 2000): Promise<void> {
    await this.idle();
    const rows = await this.db.selectFrom('deployments').select('id').where('running', '<>', 'stopped').where('runtime', '=', 'local').execute();
    await Promise.all(rows.map((r) => this.o.runtime.stop(r.id, graceMs).catch(() => undefined)));
    await this.db.updateTable('deployments').set({ running: 'stopped' }).where('running', '<>', 'stopped').where('runtime', '=', 'local').execute();
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.o.log.error({ err }, 'background deployment work failed'));
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
  }

  /** Resolves when background work (draining, stopping) is done. */
  async idle(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }
}

/** A deployment no environment's route points at. */
const notReleased = (eb: ExpressionBuilder<Database, 'deployments'>) =>
  eb.not(eb.exists(eb.selectFrom('environments').select('environments.id').whereRef('environments.released_deployment_id', '=', 'deployments.id')));

async function portFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function parseRef(ref: string): { namespace: string; name: string } {
  const [, rest] = ref.split(':') as [string, string];
  const [namespace, name] = rest.split('/') as [string, string];
  return { namespace, name };
}

export function durationSeconds(d: string): number {
  const n = Number(d.slice(0, -1));
  return n * { s: 1, m: 60, h: 3600, d: 86400 }[d.slice(-1) as 's' | 'm' | 'h' | 'd'];
}
