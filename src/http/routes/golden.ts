import { z } from 'zod';
import { ApplicationService } from '../../applications/service.ts';
import { APPLY_RESOURCES, applyKey } from '../../applications/apply-job.ts';
import { JobService } from '../../jobs/service.ts';
import { currentActor } from '../../policies/actor.ts';
import { streamJob } from './jobs.ts';
import type { DeploymentService } from '../../deployments/service.ts';
import { refOf } from '../../catalog/model.ts';
import { NamePathSchema } from '../../contracts/catalog.ts';
import { NamespaceSchema } from '../../contracts/common.ts';
import {
  AddOnRequestSchema,
  ApplyResultSchema,
  DriftSchema,
  EnvironmentCreateSchema,
  EnvironmentSchema,
  GoldenPathSchema,
  PlanSchema,
  ResourceListSchema,
  VariablesSchema,
} from '../../contracts/golden.ts';
import { streamWork, wantsStream, NDJSON } from '../ndjson.ts';
import type { AccessControl } from '../../access/rbac.ts';
import { applicationOf, defineRoute, type PermissionRule, type RawInput, type Route } from '../route.ts';

const EnvPath = z.strictObject({ name: NamePathSchema.shape.name, env: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/) });
const Ns = z.strictObject({ namespace: NamespaceSchema.default('default') });
const ref = (ns: string, name: string) => refOf('application', ns, name);

const READ_APP: PermissionRule = { name: 'application.read', scope: 'application' };
const revealing = (i: RawInput) => i.query.reveal === 'true';
/** ?reveal=true: secret.read on the environment, audited as secret.read whether granted or refused. */
const REVEAL: PermissionRule = { name: 'secret.read', scope: 'environment', when: revealing, audit: 'secret.read' };
const bodyField = (i: RawInput, k: string): string | undefined => {
  const v = (i.body as Record<string, unknown> | undefined)?.[k];
  return typeof v === 'string' ? v : undefined;
};

/** Applications made from golden paths: their add-ons, environments and resources. */
export function goldenRoutes(apps: ApplicationService, deployments: DeploymentService, access?: AccessControl, jobs?: JobService): Route[] {
  const base = '/api/v1/applications/:name';
  return [
    defineRoute({
      method: 'GET', url: `${base}/golden-path`, operationId: 'getGoldenPath', summary: 'Template, inputs, add-ons, workload and environments of an application', tag: 'applications',
      permission: { name: 'catalog.read' },
      params: NamePathSchema, query: Ns, errors: [404], response: { status: 200, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query }) => apps.goldenPath(ref(query.namespace, params.name)),
    }),
    defineRoute({
      method: 'POST', url: `${base}/addons`, operationId: 'attachAddon', summary: 'Attach an add-on (apply an environment to provision it)', tag: 'applications',
      permission: { name: 'application.write', scope: 'application' },
      params: NamePathSchema, query: Ns, body: AddOnRequestSchema, errors: [404, 409], response: { status: 201, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query, body }) => apps.addAddon(ref(query.namespace, params.name), body),
    }),
    defineRoute({
      method: 'DELETE', url: `${base}/addons/:addon`, operationId: 'detachAddon', summary: 'Detach an add-on (its resources are deleted by the next apply)', tag: 'applications',
      permission: { name: 'application.write', scope: 'application' },
      params: z.strictObject({ name: NamePathSchema.shape.name, addon: z.string().max(63) }), query: Ns, errors: [404],
      response: { status: 200, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query }) => apps.removeAddon(ref(query.namespace, params.name), params.addon),
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments`, operationId: 'listEnvironments', summary: 'Environments of an application', tag: 'environments',
      permission: { name: 'catalog.read' },
      params: NamePathSchema, query: Ns, errors: [404], response: { status: 200, description: 'Environments', schema: z.object({ items: z.array(EnvironmentSchema) }) },
      handler: async ({ params, query }) => ({ items: (await apps.goldenPath(ref(query.namespace, params.name))).environments }),
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments`, operationId: 'createEnvironment', summary: 'Create an environment and provision its resources; clone another with from', tag: 'environments',
      // environment.write in the new environment's type; a clone copies the source's secrets (secret.read there) and deploys its build (deploy)
      permission: [
        { name: 'environment.write', scope: (i) => ({ kind: 'application', application: applicationOf(i), environment: bodyField(i, 'name') ?? '', environmentType: bodyField(i, 'type') }) },
        { name: 'secret.read', when: (i) => bodyField(i, 'from') !== undefined, scope: (i) => ({ kind: 'application', application: applicationOf(i), environment: bodyField(i, 'from') ?? '' }) },
        { name: 'deploy', when: (i) => bodyField(i, 'from') !== undefined, scope: (i) => ({ kind: 'application', application: applicationOf(i), environment: bodyField(i, 'name') ?? '', environmentType: bodyField(i, 'type') }) },
      ],
      description: `Provisions the environment's resource graph, as a resources.apply job (its id in the x-pave-job header; if the server running it dies, another takes it over). With from, the new environment gets a copy of that environment's config and its released build, deployed and released, on resources of its own. A preview with ttl is deleted, with everything in it, when it expires. With Accept: ${NDJSON} the progress streams.`,
      params: NamePathSchema, query: Ns, body: EnvironmentCreateSchema, errors: [404, 409], response: { status: 201, description: 'The golden path', schema: GoldenPathSchema },
      handler: async ({ params, query, body, principal, req, reply }) => {
        const app = ref(query.namespace, params.name);
        // the provisioning runs as a resources.apply job (its id in x-pave-job), submitted once the environment's rows are committed
        const onJob = (id: string | null) => {
          if (id && !reply.sent) reply.header('x-pave-job', id);
        };
        const work = async (emit: ((e: unknown) => void) | undefined, onProvisioning: (id: string | null) => void) => {
          await deployments.createEnvironment(app, body, principal.userRef, emit, { onProvisioning });
          return apps.goldenPath(app);
        };
        if (!wantsStream(req)) return work(undefined, onJob);
        // the stream (and its headers) starts once the job is queued, or it is known that there is none; events until then are kept
        const early: unknown[] = [];
        let sink: ((e: unknown) => void) | undefined;
        let queued!: () => void;
        const provisioning = new Promise<void>((r) => (queued = r));
        const running = work((e) => (sink ? sink(e) : early.push(e)), (id) => {
          onJob(id);
          queued();
        });
        await Promise.race([provisioning, running.then(() => undefined, () => undefined)]);
        return streamWork(reply, (emit) => {
          for (const e of early) emit(e);
          sink = emit;
          return running;
        }) as never;
      },
    }),
    defineRoute({
      method: 'DELETE', url: `${base}/environments/:env`, operationId: 'deleteEnvironment', summary: 'Delete an environment and every resource in it', tag: 'environments',
      permission: { name: 'environment.write', scope: 'environment' },
      description: 'Runs as a job (resources.delete; its id in the x-pave-job header): the environment is marked deleting at once, and if the server running the job dies, another takes it over and finishes it. Resources are deleted dependents first. If one cannot be deleted, the environment stays (status delete-failed) with the resource and its error, and the response is 409.',
      params: EnvPath, query: Ns, errors: [404, 409], response: { status: 200, description: 'What was deleted', schema: ApplyResultSchema },
      // a resources.delete job (its id in x-pave-job): if the server running it dies, another takes it over and finishes it
      handler: ({ params, query, principal, reply }) =>
        apps.deleteEnvironmentAsJob(ref(query.namespace, params.name), params.env, { by: principal.userRef, onJob: (id) => void reply.header('x-pave-job', id) }),
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/resources`, operationId: 'listResources', summary: 'Resources of an environment with state, outputs and errors', tag: 'resources',
      permission: [READ_APP, REVEAL],
      params: EnvPath, query: Ns.extend({ reveal: z.enum(['true', 'false']).default('false').describe('show secret outputs (needs secret.read; audited as secret.read)') }), errors: [403, 404],
      response: { status: 200, description: 'Resources (secret outputs masked)', schema: ResourceListSchema },
      handler: async ({ params, query }) => {
        const reveal = query.reveal === 'true';
        return { items: await apps.resources(ref(query.namespace, params.name), params.env, reveal) };
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/variables`, operationId: 'getVariables', summary: 'Environment variables of each container, wired from resource outputs', tag: 'resources',
      permission: [READ_APP, REVEAL],
      params: EnvPath, query: Ns.extend({ reveal: z.enum(['true', 'false']).default('false').describe('show secret values (needs secret.read; audited as secret.read)') }), errors: [403, 404, 409],
      response: { status: 200, description: 'Variables per container (secret ones masked)', schema: VariablesSchema },
      handler: async ({ params, query }) => {
        const reveal = query.reveal === 'true';
        return apps.variables(ref(query.namespace, params.name), params.env, reveal);
      },
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/plan`, operationId: 'planResources', summary: 'What apply would create, change or delete', tag: 'resources',
      permission: READ_APP,
      params: EnvPath, query: Ns, errors: [404, 409], response: { status: 200, description: 'The plan', schema: PlanSchema },
      audit: false, // changes nothing
      handler: ({ params, query }) => apps.plan(ref(query.namespace, params.name), params.env),
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/apply`, operationId: 'applyResources', summary: 'Provision, update and delete resources until they match the application', tag: 'resources',
      permission: { name: 'environment.write', scope: 'environment' },
      description: `Idempotent. Runs as a job (resources.apply; its id in the x-pave-job header): any Pave server may run it, and if that server dies another takes it over and converges it. One apply per environment at a time (409 while one is queued or running). With Accept: ${NDJSON} the progress streams as one JSON line per event (read from the store, whichever server runs the job), then a {"result": …} line. With refresh=true, unchanged resources are checked with their driver and provisioned again when they drifted.`,
      params: EnvPath, query: Ns.extend({ refresh: z.enum(['true', 'false']).default('false') }), errors: [404, 409], response: { status: 200, description: 'What was done; ok is false when a resource failed', schema: ApplyResultSchema },
      handler: async ({ params, query, req, reply, principal }) => {
        const app = ref(query.namespace, params.name);
        const opts = { refresh: query.refresh === 'true' };
        if (!jobs) {
          if (wantsStream(req)) return streamWork(reply, (emit) => apps.apply(app, params.env, emit, opts)) as never;
          return apps.apply(app, params.env, undefined, opts);
        }
        // 404 (application, environment) and 409 (its graph) before anything is queued
        const { env } = await apps.target(app, params.env);
        ApplicationService.usable(app, env); // 409 while it is being deleted
        // the job runs as its caller (policies read request.actor), with their grants as they are now
        const actor = currentActor();
        const job = await jobs.submit(APPLY_RESOURCES, { application: app, environment: params.env, refresh: opts.refresh }, {
          createdBy: principal.userRef, key: applyKey(env.id),
          actor: actor ? { user: actor.user, roles: actor.roles, requestId: actor.requestId, grants: actor.grants ? await actor.grants() : undefined } : null,
        });
        reply.header('x-pave-job', job.id);
        if (wantsStream(req)) return streamJob(reply, jobs, job.id, { event: (e) => (e.type === 'progress' ? e.data : undefined), result: (j) => JobService.settle(j) }) as never;
        const ctl = new AbortController();
        reply.raw.on('close', () => ctl.abort()); // the client went away: stop waiting (the job goes on)
        const done = await jobs.wait(job.id, ctl.signal);
        return done ? JobService.settle(done) : (undefined as never);
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/resources/drift', operationId: 'checkDrift', summary: 'Compare resources with what their drivers find', tag: 'resources',
      description: 'Without application: the resources of every application the caller may read (application.read).',
      // one application: application.read for its team; all of them: application.read for some team, and the answer holds only theirs
      permission: {
        name: 'application.read',
        scope: (i) => {
          const a = typeof i.query.application === 'string' ? i.query.application : undefined;
          return { kind: 'application', application: a ? (a.includes(':') ? a.toLowerCase() : ref('default', a)) : '' };
        },
      },
      query: z.strictObject({ application: z.string().max(300).optional().describe('an application name or ref'), environment: z.string().max(63).optional() }),
      response: { status: 200, description: 'One line per resource: in-sync, missing, changed or error', schema: DriftSchema },
      handler: async ({ query, principal }) => {
        const application = query.application ? (query.application.includes(':') ? query.application : ref('default', query.application)) : undefined;
        const items = await apps.drift({ application, environment: query.environment });
        if (application || !access) return { items };
        // a list holds only what the caller may see
        const visible = await access.readable(principal, 'application.read', [...new Set(items.map((d) => d.application))]);
        return { items: items.filter((d) => visible.has(d.application)) };
      },
    }),
  ];
}
