import type { ApplicationService } from '../applications/service.ts';
import { SECRET_MASK } from '../contracts/golden.ts';
import type { RenderQuery, RenderView } from '../contracts/targets.ts';
import type { BuildService } from '../deployments/builds.ts';
import type { EnvironmentConfigs } from '../deployments/config.ts';
import type { DeploymentService } from '../deployments/service.ts';
import { notFound, PaveError } from '../errors.ts';
import { resolveTarget } from '../deployments/target-resolve.ts';
import type { Db } from '../store/db.ts';
import type { BuildRow } from '../store/schema.ts';
import type { ScoreWorkload } from '../workloads/score.ts';
import { gitopsFiles, gitopsFolder } from './gitops.ts';
import { resolveForRender } from './kubernetes/pending.ts';
import { renderKubernetes } from './kubernetes/render.ts';

/**
 * Rendering an application's environment for a runtime target, from the same application model the
 * local runtime runs: the Score workload (with add-on variables), resource outputs, the team profile,
 * the environment's config and the build. `render` is what `pave render` and
 * GET /api/v1/applications/:name/environments/:env/render show: either an existing deployment (its
 * build and sealed snapshot) or what deploying now would run. Values not there yet (an image not
 * built, a resource not provisioned) are placeholders, named in the answer; secret values are masked
 * unless revealed.
 */
export interface TargetServiceDeps {
  db: Db;
  apps: ApplicationService;
  builds: BuildService;
  deployments: DeploymentService;
  configs: EnvironmentConfigs;
}

export type RenderRequest = Omit<RenderQuery, 'namespace' | 'format' | 'reveal'> & { reveal: boolean };

export class TargetService {
  private readonly d: TargetServiceDeps;
  constructor(deps: TargetServiceDeps) {
    this.d = deps;
  }

  async render(ref: string, envName: string, req: RenderRequest): Promise<RenderView> {
    const { apps, db } = this.d;
    const app = await apps.managedApplication(ref);
    const env = app.environments.find((e) => e.name === envName);
    if (!env) throw notFound(`environment ${envName} of ${ref} (it has ${app.environments.map((e) => e.name).join(', ') || 'none'})`);
    // the environment's target (its runtime, the application's, the team profile's) and its cluster's settings give the defaults
    const target = await resolveTarget(db, app, env);
    const defaults = target.defaults;
    const cl = target.cluster;
    const runtime = req.runtime ?? (target.runtime === 'gitops' ? 'gitops' : 'kubernetes');
    const notes: string[] = [];
    const placeholders: string[] = [];

    // the deployment: an existing one (its build and snapshot), or the next one
    let deployment: { id: string; number: number; existing: boolean };
    let build: BuildRow | null;
    let main: { variables: Record<string, string>; secretNames: string[] };
    if (req.deployment !== undefined) {
      const { deployment: row, snapshot } = await this.d.deployments.snapshotOf(ref, envName, req.deployment);
      deployment = { id: row.id, number: row.number, existing: true };
      build = (await db.selectFrom('builds').selectAll().where('id', '=', row.build_id).executeTakeFirst()) ?? null;
      main = { variables: snapshot.variables, secretNames: snapshot.secretNames };
    } else {
      const last = await db.selectFrom('deployments').select((eb) => eb.fn.max('number').as('n')).where('environment_id', '=', env.id).executeTakeFirst();
      deployment = { id: 'pending', number: Number(last?.n ?? 0) + 1, existing: false };
      notes.push(`this is what deployment ${deployment.number} would run; its id (label pave.dev/deployment, shown as "pending") is given when it deploys`);
      build = req.build !== undefined ? await this.d.builds.get(app.entityId, req.build) : await this.newestBuild(app.entityId);
      if (build && build.status !== 'succeeded') throw new PaveError(409, 'conflict', 'Conflict', `build ${build.number} ${build.status === 'failed' ? 'failed' : 'is still running'}`);
      main = await this.nextVariables(ref, app, env, defaults.variables ?? {}, placeholders);
    }

    // the workload, resolved with the outputs there are (the others stay placeholders, treated as secret)
    const { graph } = await apps.target(ref, envName);
    const resources = await apps.resources(ref, envName, true);
    const ready = resources.filter((r) => r.status === 'ready');
    const workload: ScoreWorkload = {
      ...app.workload,
      resources: { ...Object.fromEntries(graph.resources.map((r) => [r.name, { type: r.type, params: r.params }])), ...app.workload.resources },
      containers: Object.fromEntries(Object.entries(app.workload.containers).map(([n, c]) => [n, { ...c, variables: { ...graph.variables, ...c.variables } }])),
    };
    const resolution = resolveForRender(workload, Object.fromEntries(ready.map((r) => [r.name, r.outputs])), Object.fromEntries(ready.map((r) => [r.name, r.secretOutputs])));
    if (resolution.pending.length) placeholders.push(`resource outputs not provisioned yet (apply the environment): ${resolution.pending.join(', ')}`);

    const image = build?.artifact_kind === 'image' ? build.image : null;
    const gateway = req.gateway ?? cl?.gateway;
    const result = renderKubernetes({
      application: { namespace: app.namespace, name: app.name }, environment: { name: env.name, type: env.type },
      deployment: { id: deployment.id, number: deployment.number },
      workload: resolution.workload, secretVariables: resolution.secretVariables, secretFiles: resolution.secretFiles, secretArgs: resolution.secretArgs, main,
      image, imageMissing: build ? `build ${build.number} is a local artifact (what the local process runtime runs), not an image; register an image built by CI ("pave artifacts register --image")` : 'the application has no successful build yet',
      profile: { replicas: defaults.replicas, cpu: defaults.cpu, memory: defaults.memory, healthPath: defaults.healthPath },
      replicas: env.replicas ?? undefined, namespace: req.k8sNamespace ?? cl?.namespace, released: true,
      route: {
        kind: (req.route ?? cl?.route) === 'ingress' ? 'Ingress' : 'HTTPRoute', host: req.host, domain: req.domain ?? cl?.domain, ingressClassName: req.ingressClass ?? cl?.ingressClass,
        ...(gateway ? { gateway: gateway.includes('/') ? { namespace: gateway.split('/')[0]!, name: gateway.split('/')[1]! } : { name: gateway } } : {}),
      },
      mask: req.reveal ? undefined : SECRET_MASK,
    });
    const cluster = req.cluster ?? cl?.name ?? (defaults.region ? defaults.region.toLowerCase().replace(/[^a-z0-9-]+/g, '-') : 'default');
    let gitops: RenderView['gitops'] = null;
    if (runtime === 'gitops') {
      const folder = gitopsFolder(cluster, env.name, ref);
      const { files, omitted } = gitopsFiles(result.objects);
      gitops = { cluster, folder, files: files.map((f) => ({ path: `${folder}/${f.name}`, content: f.content })), omitted };
    }
    return {
      application: ref, environment: env.name, runtime, namespace: result.namespace, deployment,
      build: build ? { number: build.number, image } : null,
      objects: result.objects.map((o) => ({ phase: o.phase, object: o.object as unknown as Record<string, unknown> })),
      warnings: [...notes, ...result.warnings], placeholders: [...placeholders, ...result.placeholders], errors: result.errors,
      masked: !req.reveal, gitops,
    };
  }

  private async newestBuild(entityId: string): Promise<BuildRow | null> {
    return (await this.d.db.selectFrom('builds').selectAll().where('entity_id', '=', entityId).where('status', '=', 'succeeded').orderBy('number', 'desc').limit(1).executeTakeFirst()) ?? null;
  }

  /**
   * The main container's variables of the next deployment, as the deployments module layers them
   * (workload and add-ons, team profile, environment config); while resources are not provisioned,
   * the workload's own values stay as written (their placeholders are reported by the renderer).
   */
  private async nextVariables(ref: string, app: Awaited<ReturnType<ApplicationService['managedApplication']>>, env: { id: string; name: string }, profileVars: Record<string, string>, placeholders: string[]): Promise<{ variables: Record<string, string>; secretNames: string[] }> {
    try {
      const { layers, secretNames } = await this.d.deployments.layers(app, app.environments.find((e) => e.id === env.id)!, true);
      return { variables: Object.assign({}, ...layers.map((l) => l.variables)) as Record<string, string>, secretNames: [...new Set(secretNames)].sort() };
    } catch (err) {
      if (!(err instanceof PaveError) || err.status !== 409) throw err;
      const { graph } = await this.d.apps.target(ref, env.name);
      const container = 'web' in app.workload.containers ? 'web' : Object.keys(app.workload.containers)[0]!;
      const config = await this.d.configs.current(env.id);
      placeholders.push(`the environment's resources are not provisioned yet: ${err.message}`);
      return {
        variables: { ...graph.variables, ...app.workload.containers[container]?.variables, ...profileVars, ...config.variables, ...config.secrets },
        secretNames: Object.keys(config.secrets).sort(),
      };
    }
  }
}
