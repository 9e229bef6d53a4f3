import path from 'node:path';
import type { Logger } from 'pino';
import { Auth, type AuthSettings } from './access/auth.ts';
import { AccessControl, can } from './access/rbac.ts';
import { TokenService } from './access/tokens.ts';
import { ActionService } from './actions/service.ts';
import { AuditLog } from './audit/log.ts';
import { ApplicationService } from './applications/service.ts';
import { applyResourcesJob } from './applications/apply-job.ts';
import { deleteResourcesJob } from './applications/delete-job.ts';
import { currentActor } from './policies/actor.ts';
import type { ResourceJobRunner } from './applications/service.ts';
import type { Job, JobKind } from './jobs/types.ts';
import { ACTION_RUN, actionRunJob } from './actions/run-job.ts';
import { DEPLOYMENT_RUN, deploymentRunJob } from './deployments/run-job.ts';
import type { JobSettings } from './jobs/config.ts';
import { JobService } from './jobs/service.ts';
import { runAs } from './policies/actor.ts';
import type { PolicyCheck } from './policies/engine.ts';
import { singleHostGate } from './jobs/single-host.ts';
import { resolveTarget } from './deployments/target-resolve.ts';
import { Builder } from './builds/builder.ts';
import { CatalogService } from './catalog/service.ts';
import { BuildService } from './deployments/builds.ts';
import { EnvironmentConfigs } from './deployments/config.ts';
import { FleetService } from './fleet/service.ts';
import { fleetUpgradeJob } from './fleet/upgrade-job.ts';
import { DeploymentService } from './deployments/service.ts';
import { PlatformSecrets } from './platform/secrets.ts';
import { PlatformSync, type PlatformSource } from './platform/sync.ts';
import { PolicyEngine, type ResourceFacts } from './policies/engine.ts';
import type { DriverRegistry } from './resources/drivers/driver.ts';
import { ResourceEngine } from './resources/engine.ts';
import { ResourceRepository } from './resources/repository.ts';
import { DefinitionResolver } from './resources/resolve.ts';
import { Router } from './router/router.ts';
import { LocalRuntime } from './runtime/local.ts';
import type { Runtime } from './runtime/types.ts';
import type { SecretBox } from './secrets/secret-box.ts';
import type { Store } from './store/db.ts';

/** The composition root of the domain: every service, wired once, for the HTTP layer and tests. */
export interface Services {
  store: Store;
  tokens: TokenService;
  catalog: CatalogService;
  secrets: PlatformSecrets;
  sync: PlatformSync;
  engine: ResourceEngine;
  applications: ApplicationService;
  drivers: DriverRegistry;
  builds: BuildService;
  configs: EnvironmentConfigs;
  deployments: DeploymentService;
  runtime: Runtime;
  router: Router;
  actions: ActionService;
  audit: AuditLog;
  /** Guardrails as code: the platform's policies, enforced by the services and dry-run by the API. */
  policies: PolicyEngine;
  /** Sign-in: sessions, local passwords, login rate limits, OpenID Connect (src/access/auth.ts). */
  auth: Auth;
  /** Role-based access control: role bindings, grants, scopes (src/access/rbac.ts); the route kernel checks with it. */
  access: AccessControl;
  /** Background jobs any server may run (src/jobs): the queue, this server's worker, the server registry. */
  jobs: JobService;
  /** Day-2 fleet lifecycle: the fleet view, pins, upgrade plans and upgrades in waves (src/fleet). */
  fleet: FleetService;
}

/** Deployment settings (see the README's configuration reference). */
export interface DeploymentSettings {
  keepWarm: number;
  warmSeconds: number;
  healthTimeout: number;
  stopGrace: number;
  /** Kubernetes targets: milliseconds between two reads of a rolling Deployment (default 2000). */
  rolloutPollMs?: number | undefined;
}

export const DEFAULT_DEPLOYMENT_SETTINGS: DeploymentSettings = { keepWarm: 2, warmSeconds: 900, healthTimeout: 30, stopGrace: 10 };

export interface ServicesOptions {
  store: Store;
  log: Logger;
  dataDir: string;
  box: SecretBox;
  platformSource: PlatformSource;
  drivers: DriverRegistry;
  deployments?: Partial<DeploymentSettings> | undefined;
  /** Identity settings: OIDC, public URL, sessions, login limits. */
  auth?: AuthSettings | undefined;
  /** Job queue and server registry settings (lease, polling, PAVE_HA). */
  jobs?: Partial<JobSettings> | undefined;
}

export function createServices(o: ServicesOptions): Services {
  const db = o.store.db;
  const tokens = new TokenService(db);
  const catalog = new CatalogService(db);
  const access = new AccessControl(db);
  catalog.onDeleted((e) => {
    if (e.kind === 'user') tokens.forgetUser(e.id);
    // a deleted user's or team's role bindings go with it (a new one of the same name starts without them)
    if (e.kind === 'user' || e.kind === 'team') void access.forget(e.ref).catch((err: unknown) => o.log.error({ err, ref: e.ref }, 'role bindings not removed'));
  });
  const secrets = new PlatformSecrets(db, o.box);
  const sync = new PlatformSync(db, { source: o.platformSource, cacheDir: path.join(o.dataDir, 'platform-cache'), drivers: o.drivers.ids(), log: o.log });
  const resolver = new DefinitionResolver(db, o.drivers, secrets);
  const audit = new AuditLog(db, o.box.derive('audit-body-digest'));
  const policies: PolicyEngine = new PolicyEngine({
    db, log: o.log.child({ module: 'policies' }), audit: (e) => audit.append(e),
    desiredResources: async (ref: string, envName: string): Promise<ResourceFacts[]> => {
      const { graph, env } = await applications.target(ref, envName);
      const existing = new Set((await engine.list(env.id)).map((r) => r.row.name));
      return graph.resources.map((r) => ({ name: r.name, type: r.type, class: r.class, id: r.id, origin: r.origin, params: r.params, exists: existing.has(r.name) }));
    },
  });
  // compiled once per sync: every sync publishes the platform's policies, then this server reads them back
  sync.onSynced(() => policies.reload());
  const engine = new ResourceEngine({ repo: new ResourceRepository(db, o.box), resolver, dataDir: o.dataDir, log: o.log.child({ module: 'resources' }), policies });
  const applications = new ApplicationService(db, catalog, engine, policies);
  const settings = { ...DEFAULT_DEPLOYMENT_SETTINGS, ...o.deployments };
  const builder = new Builder({ dir: path.join(o.dataDir, 'builds'), log: o.log.child({ module: 'builds' }) });
  const builds = new BuildService({ db, builder, dataDir: o.dataDir, log: o.log.child({ module: 'builds' }) });
  const configs = new EnvironmentConfigs(db, o.box);
  // a job's handler runs as the caller who asked for it (policies read request.actor), with their grants as they were
  const jobs = new JobService({
    db, url: o.store.url, log: o.log.child({ module: 'jobs' }), settings: o.jobs,
    around: (job, run) => {
      const a = job.actor;
      if (!a) return run();
      const grants = a.grants;
      return runAs({ user: a.user, roles: a.roles, requestId: a.requestId, grants: grants ? async () => grants : undefined }, run);
    },
  });
  jobs.register(applyResourcesJob(applications));
  // creating an environment provisions it through a resources.apply job; deleting one (or an application) is a resources.delete job
  jobs.register(deleteResourcesJob(applications));
  applications.runJobsWith({
    ready: () => jobs.started,
    async run<P, R>(kind: JobKind<P, R>, payload: P, r: Parameters<ResourceJobRunner['run']>[2]): Promise<R> {
      // the job runs as its caller (policies read request.actor), with their grants as they are now
      const actor = currentActor();
      const job = await jobs.submit(kind, payload, {
        createdBy: r.by ?? actor?.user ?? 'unknown', key: r.key,
        actor: actor ? { user: actor.user, roles: actor.roles, requestId: actor.requestId, grants: actor.grants ? await actor.grants() : undefined } : null,
      });
      r.onJob?.(job.id);
      const done = await jobs.follow(job.id, (e) => {
        if (e.type === 'progress') r.onProgress?.(e.data);
      });
      return JobService.settle(done as Job<R>);
    },
  });
  // The local process runtime is single-host: its processes and its router live on one server's machine.
  // A multi-server installation (several live servers, or PAVE_HA=true) refuses production deployments and releases on it.
  const localRuntimeGate = singleHostGate<PolicyCheck>(policies, jobs.servers, async (c) => {
    // the deployments module says where the deployment (or the release's deployment) runs; else where the environment deploys now
    const said = ((c.details?.deployment ?? c.details?.release) as { runtime?: unknown } | undefined)?.runtime;
    if (typeof said === 'string') return said === 'local';
    const app = await applications.managedApplication(c.application.ref);
    const env = app.environments.find((e) => e.name === c.environment?.name);
    return env ? (await resolveTarget(db, app, env)).runtime === 'local' : false;
  });
  const runtime = new LocalRuntime({ dir: path.join(o.dataDir, 'runs'), log: o.log.child({ module: 'runtime' }) });
  const router = new Router({ log: o.log.child({ module: 'router' }) });
  const deployments = new DeploymentService({
    db, box: o.box, apps: applications, builds, builder, runtime, router, configs, log: o.log.child({ module: 'deployments' }),
    keepWarm: settings.keepWarm, warmSeconds: settings.warmSeconds, healthTimeoutSeconds: settings.healthTimeout, stopGraceSeconds: settings.stopGrace, policies: localRuntimeGate,
    secrets, dataDir: o.dataDir, rolloutPollMs: settings.rolloutPollMs,
  });
  const actions = new ActionService({
    db, deps: { apps: applications, engine, deployments, builds, builder }, catalog, audit, log: o.log.child({ module: 'actions' }), policies,
    authorize: async (p, permission, scope) => can(await access.withGrants(p), permission, scope),
  });
  // each action run holds a job while it runs on this server: if the server dies, another marks the run failed
  jobs.register(actionRunJob(actions));
  actions.trackRunsWith((runId, by, work) => jobs.track(ACTION_RUN, { run: runId }, { createdBy: by }, work));
  // each deployment (and release, rollback) holds a job while it runs on this server: if the server dies, another fails it (local runtime) or converges it (clusters)
  jobs.register(deploymentRunJob(deployments));
  deployments.trackWith((payload, work) => jobs.track(DEPLOYMENT_RUN, payload, { createdBy: payload.by }, work));
  const auth = new Auth(db, catalog, o.auth);
  const fleet = new FleetService({ db, log: o.log.child({ module: 'fleet' }), apps: applications, deployments, catalog, engine, policies, audit: (e) => audit.append(e), jobs });
  // each fleet upgrade runs as a job: one server runs it; if that server dies, another takes it over
  jobs.register(fleetUpgradeJob(fleet));
  return { store: o.store, tokens, catalog, secrets, sync, engine, applications, drivers: o.drivers, builds, configs, deployments, runtime, router, actions, audit, auth, policies, access, jobs, fleet };
}

/** The platform that ships with Pave (`platform/`), loaded on first start when no other source is set. */
export const SAMPLE_PLATFORM = path.resolve(import.meta.dirname, '../platform');

/**
 * Credentials of this machine's local services, which the sample platform's resource definitions
 * reference; set once on first start, so that a newcomer's first application gets real resources.
 */
export const LOCAL_SERVICE_SECRETS: Record<string, string> = {
  'local-postgres-admin': 'postgres://postgres@127.0.0.1:5432/postgres',
  'local-mysql-admin': 'mysql://root@127.0.0.1:3306/mysql',
  'local-redis-admin': 'redis://127.0.0.1:6379',
  'local-rabbitmq-admin': 'http://guest:guest@127.0.0.1:15672',
  'local-nats': 'nats://127.0.0.1:4222',
};
