import type { Transaction } from 'kysely';
import type { CatalogService } from '../catalog/service.ts';
import { parseRef, refOf } from '../catalog/model.ts';
import { getEntity } from '../catalog/repository.ts';
import type { Entity } from '../contracts/catalog.ts';
import type { FieldError } from '../contracts/common.ts';
import { conflict, notFound, PaveError, preconditionFailed, validationError } from '../errors.ts';
import { SECRET_MASK, type Drift, type Resource, type Variables } from '../contracts/golden.ts';
import { validateInputs } from '../platform/inputs.ts';
import { expandInputs, PlaceholderError } from '../platform/placeholders.ts';
import type { AddOn, Template } from '../platform/schema.ts';
import { getVersion, resolveVersion } from '../platform/store.ts';
import type { PolicyCheck, PolicyGate } from '../policies/engine.ts';
import type { ResourceEngine } from '../resources/engine.ts';
import { GraphError, topologicalOrder } from '../resources/graph.ts';
import type { ApplyResult, EnvironmentContext, Plan, ResourceEvent } from '../resources/types.ts';
import type { Db } from '../store/db.ts';
import type { Database, EnvironmentRow } from '../store/schema.ts';
import { resolveWorkload, WorkloadResolveError } from '../workloads/placeholders.ts';
import { validateScore, type ScoreWorkload } from '../workloads/score.ts';
import { desiredGraph, DesiredGraphError, workloadFromTemplate, type AttachedAddOn, type DesiredGraph } from './desired.ts';
import type { JobKind } from '../jobs/types.ts';
import { APPLY_RESOURCES, applyKey } from './apply-job.ts';
import { DELETE_RESOURCES, deleteKey, notDeleted } from './delete-job.ts';

/**
 * Applications made from golden paths: a template version with typed inputs, add-ons, a Score workload
 * and environments, each with its resource graph. Invariants: creating an application writes its
 * catalog entity, golden-path record, add-ons and environments in one transaction; an environment or
 * application is deleted only after every one of its resources was deleted by its driver.
 */
export interface AddOnRequest {
  addon: string;
  name?: string | undefined;
  version?: string | undefined;
  inputs?: Record<string, unknown> | undefined;
}

/** The catalog fields of an application (as for POST /applications) plus the golden path it is made from. */
export interface CreateFromTemplate {
  name: string;
  namespace: string;
  owner: string;
  template: string;
  templateVersion?: string | undefined;
  inputs?: Record<string, unknown> | undefined;
  addons?: AddOnRequest[] | undefined;
  workload?: Record<string, unknown> | undefined;
  environments?: { name: string; type: string }[] | undefined;
  annotations?: Record<string, string> | undefined;
  /** The application's runtime target over the team profile's (local, kubernetes, gitops). */
  runtime?: 'local' | 'kubernetes' | 'gitops' | undefined;
  [catalogField: string]: unknown;
}

const GOLDEN_FIELDS = new Set(['template', 'templateVersion', 'inputs', 'addons', 'workload', 'environments', 'runtime']);

export interface GoldenPath {
  application: string;
  template: { name: string; version: string };
  inputs: Record<string, unknown>;
  addons: { name: string; addon: string; version: string; inputs: Record<string, unknown> }[];
  workload: Record<string, unknown>;
  customWorkload: boolean;
  environments: { name: string; type: string; status: string; expiresAt: string | null; createdAt: string }[];
}

type Tx = Transaction<Database>;

const teamName = (ownerRef: string | null) => (ownerRef?.startsWith('team:') ? ownerRef.slice(ownerRef.indexOf('/') + 1) : null);

function scoreOrThrow(workload: unknown, path: string): ScoreWorkload {
  const res = validateScore(workload);
  if ('errors' in res) throw validationError(`the workload is not valid Score: ${res.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, res.errors.map((e) => ({ path: `${path}.${e.path}`.replace(/\.$/, ''), message: e.message })));
  return res.workload;
}

function inputsOrThrow(schema: Template['spec']['inputs'], given: unknown, prefix: string, previous?: Record<string, unknown>): Record<string, unknown> {
  const res = validateInputs(schema, given ?? {}, { caller: 'developer', prefix, ...(previous ? { previous } : {}) });
  if (!res.ok) {
    const errors: FieldError[] = res.errors.map((e) => ({ path: `body.${e.path}`, message: e.message, ...(e.allowed ? { code: `allowed: ${e.allowed.join('|')}` } : {}) }));
    throw validationError(`invalid inputs: ${res.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }
  return res.value;
}

/** What the deployments module needs to know of a managed application. */
export interface ManagedApplication {
  entityId: string;
  ref: string;
  namespace: string;
  name: string;
  team: string | null;
  template: Template;
  workload: ScoreWorkload;
  addons: AttachedAddOn[];
  environments: EnvironmentRow[];
  /** The application's runtime target, when it overrides the team profile's. */
  runtime?: string | null | undefined;
}

/**
 * How this module runs its resource work as jobs any Pave server may run (`resources.apply`,
 * `resources.delete`): the composition root wires it to the job service. `run` queues the job (as
 * the current caller; `by` when given), calls `onJob` with its id once queued, `onProgress` with each
 * of its progress events (from the store, whichever server runs it), and resolves with its result or
 * rejects with its error once it ended. `ready` is false when no job worker runs in this process
 * (then the work runs here, in the caller's request, as before jobs existed).
 */
export interface ResourceJobRunner {
  ready(): boolean;
  run<P, R>(kind: JobKind<P, R>, payload: P, o: { key: string; by?: string | undefined; onJob?: ((id: string) => void) | undefined; onProgress?: ((data: unknown) => void) | undefined }): Promise<R>;
}

/** What the caller of a job-backed operation may want to know: who asks, the job's id, its progress. */
export interface JobCallbacks {
  by?: string | undefined;
  onJob?: ((id: string) => void) | undefined;
  onEvent?: ((e: ResourceEvent) => void) | undefined;
}

/** Called before an environment's resources are destroyed (e.g. to stop what runs there and remove its route). */
export type EnvironmentDeletingHook = (env: EnvironmentRow, app: { ref: string; namespace: string; name: string }) => Promise<void>;

export class ApplicationService {
  private readonly db: Db;
  private readonly catalog: CatalogService;
  private readonly engine: ResourceEngine;
  private readonly deletingHooks: EnvironmentDeletingHook[] = [];
  private readonly policies: PolicyGate | undefined;
  private jobs: ResourceJobRunner | undefined;
  constructor(db: Db, catalog: CatalogService, engine: ResourceEngine, policies?: PolicyGate) {
    this.db = db;
    this.catalog = catalog;
    this.engine = engine;
    this.policies = policies;
  }

  onEnvironmentDeleting(hook: EnvironmentDeletingHook): void {
    this.deletingHooks.push(hook);
  }

  /** Provisioning and deletion run as jobs through `runner` (wired by the composition root). */
  runJobsWith(runner: ResourceJobRunner): void {
    this.jobs = runner;
  }

  /** The application as the deployments module sees it: ids, team, template, workload and environments. */
  async managedApplication(ref: string): Promise<ManagedApplication> {
    const r = await this.record(ref);
    const { workload, attached } = await this.workloadOf(r);
    const t = await getVersion(this.db, 'Template', r.app.template, r.app.template_version);
    if (!t) throw new PaveError(500, 'internal', 'Internal error', `template ${r.app.template} ${r.app.template_version} is missing from the store`);
    return { entityId: r.entity.id, ref, namespace: r.entity.namespace, name: r.entity.name, team: teamName(r.entity.owner_ref), template: t.object, workload, addons: attached, environments: r.environments, runtime: r.app.runtime ?? null };
  }

  private async template(name: string, version: string | undefined): Promise<{ version: string; object: Template }> {
    const t = await resolveVersion(this.db, 'Template', name, version);
    if (!t) throw new PaveError(400, 'validation', 'Invalid request', `no template ${name}${version ? ` matching ${version}` : ''} is published`, [{ path: 'body.template', message: 'unknown template or version' }]);
    return { version: t.version, object: t.object };
  }

  private async addon(req: AddOnRequest, path: string): Promise<{ name: string; version: string; object: AddOn; inputs: Record<string, unknown> }> {
    const a = await resolveVersion(this.db, 'AddOn', req.addon, req.version);
    if (!a) throw validationError(`no add-on ${req.addon}${req.version ? ` matching ${req.version}` : ''} is published`, [{ path: `${path}.addon`, message: 'unknown add-on or version' }]);
    return { name: req.name ?? req.addon, version: a.version, object: a.object, inputs: inputsOrThrow(a.object.spec.inputs, req.inputs, `${path.replace(/^body\./, '')}.inputs`) };
  }

  /** Registers an application made from a template: catalog entity, inputs, add-ons, workload, environments. */
  async create(input: CreateFromTemplate): Promise<Entity> {
    const t = await this.template(input.template, input.templateVersion);
    const inputs = inputsOrThrow(t.object.spec.inputs, input.inputs, 'inputs');
    const requested = [...t.object.spec.addons.map((a) => ({ addon: a.addon, name: a.name, version: a.version, inputs: a.inputs ? (expandInputs(a.inputs, inputs, { final: true, path: 'template.addons' }) as Record<string, unknown>) : undefined })), ...(input.addons ?? [])];
    const addons: Awaited<ReturnType<ApplicationService["addon"]>>[] = [];
    for (const [i, r] of requested.entries()) addons.push(await this.addon(r, `body.addons[${i - t.object.spec.addons.length}]`));
    const names = new Set<string>();
    for (const a of addons) {
      if (names.has(a.name)) throw validationError(`two add-ons are named ${a.name}`, [{ path: 'body.addons', message: `add-on name ${a.name} is used twice; give one a name` }]);
      names.add(a.name);
    }
    let workload: ScoreWorkload;
    try {
      workload = input.workload
        ? scoreOrThrow({ ...input.workload, metadata: { ...((input.workload.metadata as Record<string, unknown>) ?? {}), name: input.name } }, 'body.workload')
        : scoreOrThrow(workloadFromTemplate(t.object.spec.workload, inputs, input.name), 'template.workload');
      topologicalOrder(desiredGraph(input.name, workload, addons.map((a) => ({ name: a.name, addon: a.object, inputs: a.inputs }))).resources);
    } catch (err) {
      if (err instanceof PlaceholderError || err instanceof DesiredGraphError || err instanceof GraphError) throw validationError(err.message, [{ path: 'body.workload.resources', message: err.message }]);
      throw err;
    }
    const environments = input.environments ?? [{ name: 'development', type: 'development' }];
    const ref = refOf('application', input.namespace, input.name);
    // policies: the creation, and each add-on it starts with, in each of its environments; before anything is written
    if (this.policies) {
      const owner = parseRef(input.owner, { kind: 'group', namespace: input.namespace });
      const application = { ref, name: input.name, namespace: input.namespace, owner: owner ? refOf(owner.kind, owner.namespace, owner.name) : null, template: input.template, templateVersion: t.version, inputs };
      const addonFacts = addons.map((a) => ({ name: a.object.metadata.name, instance: a.name, version: a.version, inputs: a.inputs }));
      const checks: PolicyCheck[] = [];
      for (const env of environments.length ? environments : [null]) {
        checks.push({ event: 'application.create', application, environment: env, details: { environments, addons: addonFacts } });
        for (const addon of addonFacts) checks.push({ event: 'addon.attach', application, environment: env, details: { addon }, subject: addon.instance });
      }
      await this.policies.enforce(checks);
    }
    await this.db.transaction().execute(async (tx) => {
      const catalogFields = Object.fromEntries(Object.entries(input).filter(([k]) => !GOLDEN_FIELDS.has(k)));
      await this.catalog.createIn(tx, 'application', {
        ...(catalogFields as unknown as Parameters<CatalogService['createIn']>[2]),
        annotations: { ...input.annotations, 'pave.dev/template': `${input.template}@${t.version}` },
      });
      const entity = await tx.selectFrom('entities').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
      await tx.insertInto('applications').values({ entity_id: entity.id, template: input.template, template_version: t.version, inputs: JSON.stringify(inputs), workload: input.workload ? JSON.stringify(workload) : null, runtime: input.runtime ?? null }).execute();
      for (const a of addons) await tx.insertInto('application_addons').values({ entity_id: entity.id, name: a.name, addon: a.object.metadata.name, version: a.version, inputs: JSON.stringify(a.inputs) }).execute();
      for (const e of environments) await tx.insertInto('environments').values({ entity_id: entity.id, name: e.name, type: e.type }).execute();
    });
    return this.catalog.get(ref);
  }

  private async record(ref: string) {
    const entity = await getEntity(this.db, ref).catch(() => undefined);
    if (!entity || entity.kind !== 'application') throw notFound(`application ${ref}`);
    const app = await this.db.selectFrom('applications').selectAll().where('entity_id', '=', entity.id).executeTakeFirst();
    if (!app) throw new PaveError(404, 'not-found', 'Not found', `${ref} is in the catalog but was not made from a template, so Pave does not manage its resources`);
    const addons = await this.db.selectFrom('application_addons').selectAll().where('entity_id', '=', entity.id).orderBy('name').execute();
    const environments = await this.db.selectFrom('environments').selectAll().where('entity_id', '=', entity.id).orderBy('created_at').execute();
    return { entity, app, addons, environments };
  }

  private async workloadOf(r: Awaited<ReturnType<ApplicationService['record']>>): Promise<{ workload: ScoreWorkload; attached: AttachedAddOn[] }> {
    let workload: ScoreWorkload;
    if (r.app.workload) workload = r.app.workload as unknown as ScoreWorkload;
    else {
      const t = await getVersion(this.db, 'Template', r.app.template, r.app.template_version);
      if (!t) throw new PaveError(500, 'internal', 'Internal error', `template ${r.app.template} ${r.app.template_version} is missing from the store`);
      workload = scoreOrThrow(workloadFromTemplate(t.object.spec.workload, r.app.inputs, r.entity.name), 'template.workload');
    }
    const attached: AttachedAddOn[] = [];
    for (const a of r.addons) {
      const stored = await getVersion(this.db, 'AddOn', a.addon, a.version);
      if (!stored) throw new PaveError(500, 'internal', 'Internal error', `add-on ${a.addon} ${a.version} is missing from the store`);
      attached.push({ name: a.name, addon: stored.object, inputs: a.inputs });
    }
    return { workload, attached };
  }

  async goldenPath(ref: string): Promise<GoldenPath> {
    const r = await this.record(ref);
    const { workload } = await this.workloadOf(r);
    return {
      application: ref,
      template: { name: r.app.template, version: r.app.template_version },
      inputs: r.app.inputs,
      addons: r.addons.map((a) => ({ name: a.name, addon: a.addon, version: a.version, inputs: a.inputs })),
      workload: workload as unknown as Record<string, unknown>,
      customWorkload: r.app.workload !== null,
      environments: r.environments.map(envView),
    };
  }

  /** The environment, its engine context, and the graph the application asks for there. */
  async target(ref: string, envName: string): Promise<{ ctx: EnvironmentContext; graph: DesiredGraph; env: EnvironmentRow }> {
    const r = await this.record(ref);
    const env = r.environments.find((e) => e.name === envName);
    if (!env) throw notFound(`environment ${envName} of ${ref} (it has ${r.environments.map((e) => e.name).join(', ') || 'none'})`);
    const { workload, attached } = await this.workloadOf(r);
    let graph: DesiredGraph;
    try {
      graph = desiredGraph(r.entity.name, workload, attached);
    } catch (err) {
      if (err instanceof DesiredGraphError || err instanceof PlaceholderError) throw conflict(err.message);
      throw err;
    }
    const ctx: EnvironmentContext = { environmentId: env.id, namespace: r.entity.namespace, application: r.entity.name, environment: env.name, environmentType: env.type, team: teamName(r.entity.owner_ref) };
    return { ctx, graph, env };
  }

  async plan(ref: string, envName: string): Promise<Plan> {
    const { ctx, graph } = await this.target(ref, envName);
    return this.engine.plan(ctx, graph.resources);
  }

  async apply(ref: string, envName: string, onEvent?: (e: ResourceEvent) => void, opts: { refresh?: boolean } = {}): Promise<ApplyResult> {
    const { ctx, graph, env } = await this.target(ref, envName);
    ApplicationService.usable(ref, env);
    return this.engine.apply(ctx, graph.resources, onEvent, opts);
  }

  /** 409 when the environment is being deleted: nothing provisions into it any more. */
  static usable(ref: string, env: EnvironmentRow): void {
    if (env.status === 'deleting') throw conflict(`environment ${env.name} of ${ref} is being deleted`);
  }

  /**
   * Provisions the environment's resources as a `resources.apply` job (any server may run it; if that
   * server dies, another takes it over and converges it), following its progress until it ended.
   */
  async provision(ref: string, envName: string, o: JobCallbacks = {}): Promise<ApplyResult> {
    if (!this.jobs?.ready()) return this.apply(ref, envName, o.onEvent);
    const { env } = await this.target(ref, envName);
    ApplicationService.usable(ref, env);
    return this.jobs.run(APPLY_RESOURCES, { application: ref, environment: envName, refresh: false }, {
      key: applyKey(env.id), by: o.by, onJob: o.onJob, onProgress: (d) => o.onEvent?.(d as ResourceEvent),
    });
  }

  /**
   * Deletes an environment with everything in it as a `resources.delete` job: marked `deleting` at
   * once (nothing applies into it any more), then its resources with their drivers, then its rows; if
   * the server running the job dies, another runs it again. 409 (the environment stays, status
   * delete-failed) when a resource could not be deleted.
   */
  async deleteEnvironmentAsJob(ref: string, envName: string, o: JobCallbacks = {}): Promise<ApplyResult> {
    const { env } = await this.target(ref, envName);
    if (!this.jobs?.ready()) {
      const res = await this.deleteEnvironment(ref, envName, o.onEvent);
      if (!res.ok) throw notDeleted({ application: ref, environment: envName }, res);
      return res;
    }
    await this.db.updateTable('environments').set({ status: 'deleting' }).where('id', '=', env.id).execute();
    return this.jobs.run(DELETE_RESOURCES, { application: ref, environment: envName }, {
      key: deleteKey(env.id), by: o.by, onJob: o.onJob, onProgress: (d) => o.onEvent?.(d as ResourceEvent),
    });
  }

  /** Deletes the application (every environment, then its rows) as a `resources.delete` job; see deleteEnvironmentAsJob. */
  async deleteAsJob(ref: string, o: JobCallbacks = {}): Promise<ApplyResult> {
    const r = await this.record(ref);
    if (!this.jobs?.ready()) {
      const res = await this.delete(ref, o.onEvent);
      if (!res.ok) throw notDeleted({ application: ref, environment: null }, res);
      return res;
    }
    if (r.environments.length) await this.db.updateTable('environments').set({ status: 'deleting' }).where('entity_id', '=', r.entity.id).execute();
    return this.jobs.run(DELETE_RESOURCES, { application: ref, environment: null }, {
      key: deleteKey(r.entity.id), by: o.by, onJob: o.onJob, onProgress: (d) => o.onEvent?.(d as ResourceEvent),
    });
  }

  /** Resources of an environment, secret outputs masked unless `reveal`. */
  async resources(ref: string, envName: string, reveal: boolean): Promise<Resource[]> {
    const { env } = await this.target(ref, envName);
    return (await this.engine.list(env.id)).map((r) => ({
      name: r.row.name, type: r.row.type, class: r.row.class, id: r.row.res_id, status: r.row.status, origin: r.row.origin, params: r.row.params,
      dependsOn: r.row.depends_on, secretOutputs: r.secretOutputs,
      outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, !reveal && r.secretOutputs.includes(k) ? SECRET_MASK : v])),
      definition: r.row.definition, definitionVersion: r.row.definition_version, driver: r.row.driver, error: r.row.error, attempts: r.row.attempts,
      updatedAt: new Date(r.row.updated_at).toISOString(),
    }));
  }

  /**
   * The environment variables each container gets in an environment: the workload's own, over the
   * add-ons' (e.g. DATABASE_URL), with every `${resources.*}` resolved from the provisioned outputs.
   * 409 while a resource they use is not ready.
   */
  async variables(ref: string, envName: string, reveal: boolean): Promise<Variables> {
    const r = await this.record(ref);
    const { env, graph } = await this.target(ref, envName);
    const { workload } = await this.workloadOf(r);
    const records = await this.engine.list(env.id);
    const notReady = graph.resources.filter((d) => records.find((x) => x.row.name === d.name)?.row.status !== 'ready').map((d) => d.name);
    if (notReady.length) throw conflict(`resources ${notReady.join(', ')} of ${ref} in ${envName} are not provisioned yet; apply the environment first`);
    const effective: ScoreWorkload = {
      ...workload,
      resources: { ...Object.fromEntries(graph.resources.map((d) => [d.name, { type: d.type }])), ...workload.resources },
      containers: Object.fromEntries(Object.entries(workload.containers).map(([name, c]) => [name, { ...c, variables: { ...graph.variables, ...c.variables } }])),
    };
    let resolved;
    try {
      resolved = resolveWorkload(effective, { resources: Object.fromEntries(records.map((x) => [x.row.name, x.outputs])) }, Object.fromEntries(records.map((x) => [x.row.name, x.secretOutputs])));
    } catch (err) {
      if (err instanceof WorkloadResolveError) throw conflict(err.message);
      throw err;
    }
    const secret = new Set(resolved.secretVariables.map((v) => `${v.container}/${v.name}`));
    return {
      containers: Object.fromEntries(
        Object.entries(resolved.workload.containers).map(([name, c]) => [
          name,
          Object.fromEntries(Object.entries(c.variables ?? {}).map(([k, v]) => [k, !reveal && secret.has(`${name}/${k}`) ? SECRET_MASK : v])),
        ]),
      ),
      secretVariables: resolved.secretVariables,
    };
  }

  /** Drift of every managed application's resources (optionally one application and/or environment). */
  async drift(filter: { application?: string | undefined; environment?: string | undefined }): Promise<Drift['items']> {
    let q = this.db.selectFrom('environments as e').innerJoin('entities as a', 'a.id', 'e.entity_id').select(['a.ref', 'e.name']).orderBy('a.ref').orderBy('e.name');
    if (filter.application) q = q.where('a.ref', '=', filter.application);
    if (filter.environment) q = q.where('e.name', '=', filter.environment);
    const out: Drift['items'] = [];
    for (const { ref, name } of await q.execute()) {
      const { ctx } = await this.target(ref, name);
      for (const c of await this.engine.check(ctx)) {
        const r = c.report;
        out.push({
          application: ref, environment: name, resource: c.resource, type: c.type, status: r.status,
          detail: 'detail' in r ? r.detail : null, differences: r.status === 'changed' ? r.differences : [],
        });
      }
    }
    return out;
  }

  /** Whether Pave manages this application's resources (it was made from a template). */
  async managed(ref: string): Promise<boolean> {
    const row = await this.db.selectFrom('applications as p').innerJoin('entities as e', 'e.id', 'p.entity_id').select('e.id').where('e.ref', '=', ref).executeTakeFirst();
    return row !== undefined;
  }

  /** Catalog routes call these: creation from a template, and deletion through the resources. */
  hooks(): { create(body: Record<string, unknown>): Promise<Entity | undefined>; delete(ref: string, expectedVersion: number | undefined): Promise<boolean> } {
    return {
      create: async (body) => (typeof body.template === 'string' ? this.create(body as unknown as CreateFromTemplate) : undefined),
      delete: async (ref, expectedVersion) => {
        if (!(await this.managed(ref))) return false;
        const entity = await getEntity(this.db, ref);
        if (expectedVersion !== undefined && entity.version !== expectedVersion) throw preconditionFailed(`${ref} is at version ${entity.version}, not ${expectedVersion}`);
        await this.deleteAsJob(ref);
        return true;
      },
    };
  }

  async addAddon(ref: string, req: AddOnRequest): Promise<GoldenPath> {
    const r = await this.record(ref);
    const a = await this.addon(req, 'body');
    if (r.addons.some((x) => x.name === a.name)) throw conflict(`${ref} already has an add-on named ${a.name}; choose another name`);
    try {
      const { workload, attached } = await this.workloadOf(r);
      desiredGraph(r.entity.name, workload, [...attached, { name: a.name, addon: a.object, inputs: a.inputs }]);
    } catch (err) {
      if (err instanceof DesiredGraphError) throw conflict(err.message);
      throw err;
    }
    if (this.policies) {
      const application = { ref, name: r.entity.name, namespace: r.entity.namespace, owner: r.entity.owner_ref, template: r.app.template, templateVersion: r.app.template_version, inputs: r.app.inputs };
      const addon = { name: a.object.metadata.name, instance: a.name, version: a.version, inputs: a.inputs };
      await this.policies.enforce((r.environments.length ? r.environments : [null]).map((e) => ({ event: 'addon.attach' as const, application, environment: e && { name: e.name, type: e.type }, details: { addon }, subject: a.name })));
    }
    await this.db.insertInto('application_addons').values({ entity_id: r.entity.id, name: a.name, addon: a.object.metadata.name, version: a.version, inputs: JSON.stringify(a.inputs) }).execute();
    return this.goldenPath(ref);
  }

  /** Detaches an add-on; its resources are deleted by the next apply of each environment. */
  async removeAddon(ref: string, name: string): Promise<GoldenPath> {
    const r = await this.record(ref);
    const res = await this.db.deleteFrom('application_addons').where('entity_id', '=', r.entity.id).where('name', '=', name).executeTakeFirst();
    if (!res.numDeletedRows) throw notFound(`add-on ${name} of ${ref}`);
    return this.goldenPath(ref);
  }

  async createEnvironment(ref: string, env: { name: string; type: string; ttlHours?: number | undefined; ttlSeconds?: number | undefined; clonedFrom?: string | undefined }): Promise<GoldenPath> {
    const r = await this.record(ref);
    if (r.environments.some((e) => e.name === env.name)) throw conflict(`${ref} already has an environment ${env.name}`);
    const ttl = env.ttlSeconds ?? (env.ttlHours ? env.ttlHours * 3600 : undefined);
    const expires = ttl ? new Date(Date.now() + ttl * 1000) : null;
    await this.db.insertInto('environments').values({ entity_id: r.entity.id, name: env.name, type: env.type, expires_at: expires, cloned_from: env.clonedFrom ?? null }).execute();
    return this.goldenPath(ref);
  }

  /** Deletes the environment's resources, then the environment; if a delete fails, the environment stays with the failure shown. */
  async deleteEnvironment(ref: string, envName: string, onEvent?: (e: ResourceEvent) => void): Promise<ApplyResult> {
    const { ctx, env } = await this.target(ref, envName);
    await this.db.updateTable('environments').set({ status: 'deleting' }).where('id', '=', env.id).execute();
    for (const hook of this.deletingHooks) await hook(env, { ref, namespace: ctx.namespace, name: ctx.application });
    const result = await this.engine.destroy(ctx, onEvent);
    if (result.ok) await this.db.deleteFrom('environments').where('id', '=', env.id).execute();
    else await this.db.updateTable('environments').set({ status: 'delete-failed' }).where('id', '=', env.id).execute();
    return result;
  }

  /** Deletes every environment's resources, then the application; nothing is left behind, or the failures are reported and the application stays. */
  async delete(ref: string, onEvent?: (e: ResourceEvent) => void): Promise<ApplyResult> {
    const r = await this.record(ref);
    const all: ApplyResult = { ok: true, events: [], failed: [] };
    for (const env of r.environments) {
      const res = await this.deleteEnvironment(ref, env.name, onEvent);
      all.ok &&= res.ok;
      all.events.push(...res.events);
      all.failed.push(...res.failed.map((f) => ({ ...f, resource: `${env.name}/${f.resource}` })));
    }
    if (!all.ok) return all;
    await this.db.transaction().execute(async (tx: Tx) => {
      await tx.deleteFrom('applications').where('entity_id', '=', r.entity.id).execute();
      await tx.deleteFrom('entities').where('id', '=', r.entity.id).execute();
    });
    return all;
  }
}

function envView(e: EnvironmentRow) {
  return { name: e.name, type: e.type, status: e.status, expiresAt: e.expires_at ? new Date(e.expires_at).toISOString() : null, createdAt: new Date(e.created_at).toISOString(), clonedFrom: e.cloned_from };
}
