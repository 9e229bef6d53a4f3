import { z } from 'zod';
import { isAdmin } from '../../access/principal.ts';
import type { ApplicationService } from '../../applications/service.ts';
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
import { conflict, forbidden } from '../../errors.ts';
import { streamWork, wantsStream, NDJSON } from '../ndjson.ts';
import { defineRoute, type Route } from '../route.ts';

const EnvPath = z.strictObject({ name: NamePathSchema.shape.name, env: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/) });
const Ns = z.strictObject({ namespace: NamespaceSchema.default('default') });
const ref = (ns: string, name: string) => refOf('application', ns, name);

/** Applications made from golden paths: their add-ons, environments and resources. */
export function goldenRoutes(apps: ApplicationService, deployments: DeploymentService): Route[] {
  const base = '/api/v1/applications/:name';
  return [
    defineRoute({
      method: 'GET', url: `${base}/golden-path`, operationId: 'getGoldenPath', summary: 'Template, inputs, add-ons, workload and environments of an application', tag: 'applications',
      params: NamePathSchema, query: Ns, errors: [404], response: { status: 200, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query }) => apps.goldenPath(ref(query.namespace, params.name)),
    }),
    defineRoute({
      method: 'POST', url: `${base}/addons`, operationId: 'attachAddon', summary: 'Attach an add-on (apply an environment to provision it)', tag: 'applications',
      params: NamePathSchema, query: Ns, body: AddOnRequestSchema, errors: [404, 409], response: { status: 201, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query, body }) => apps.addAddon(ref(query.namespace, params.name), body),
    }),
    defineRoute({
      method: 'DELETE', url: `${base}/addons/:addon`, operationId: 'detachAddon', summary: 'Detach an add-on (its resources are deleted by the next apply)', tag: 'applications',
      params: z.strictObject({ name: NamePathSchema.shape.name, addon: z.string().max(63) }), query: Ns, errors: [404],
      response: { status: 200, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query }) => apps.removeAddon(ref(query.namespace, params.name), params.addon),
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments`, operationId: 'listEnvironments', summary: 'Environments of an application', tag: 'environments',
      params: NamePathSchema, query: Ns, errors: [404], response: { status: 200, description: 'Environments', schema: z.object({ items: z.array(EnvironmentSchema) }) },
      handler: async ({ params, query }) => ({ items: (await apps.goldenPath(ref(query.namespace, params.name))).environments }),
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments`, operationId: 'createEnvironment', summary: 'Create an environment and provision its resources; clone another with from', tag: 'environments',
      description: `Provisions the environment's resource graph. With from, the new environment gets a copy of that environment's config and its released build, deployed and released, on resources of its own. A preview with ttl is deleted, with everything in it, when it expires. With Accept: ${NDJSON} the progress streams.`,
      params: NamePathSchema, query: Ns, body: EnvironmentCreateSchema, errors: [404, 409], response: { status: 201, description: 'The golden path', schema: GoldenPathSchema },
      handler: ({ params, query, body, principal, req, reply }) => {
        const app = ref(query.namespace, params.name);
        const work = async (emit?: (e: unknown) => void) => {
          await deployments.createEnvironment(app, body, principal.userRef, emit);
          return apps.goldenPath(app);
        };
        if (wantsStream(req)) return streamWork(reply, (emit) => work(emit)) as never;
        return work();
      },
    }),
    defineRoute({
      method: 'DELETE', url: `${base}/environments/:env`, operationId: 'deleteEnvironment', summary: 'Delete an environment and every resource in it', tag: 'environments',
      description: 'Resources are deleted dependents first. If one cannot be deleted, the environment stays (status delete-failed) with the resource and its error, and the response is 409.',
      params: EnvPath, query: Ns, errors: [404, 409], response: { status: 200, description: 'What was deleted', schema: ApplyResultSchema },
      handler: async ({ params, query }) => {
        const res = await apps.deleteEnvironment(ref(query.namespace, params.name), params.env);
        if (!res.ok) throw conflict(`environment ${params.env} was not deleted: ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`);
        return res;
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/resources`, operationId: 'listResources', summary: 'Resources of an environment with state, outputs and errors', tag: 'resources',
      params: EnvPath, query: Ns.extend({ reveal: z.enum(['true', 'false']).default('false').describe('show secret outputs (admins; audited as secret.read)') }), errors: [403, 404],
      response: { status: 200, description: 'Resources (secret outputs masked)', schema: ResourceListSchema },
      handler: async ({ params, query, principal, audit }) => {
        const reveal = query.reveal === 'true';
        if (reveal) audit.record('secret.read');
        if (reveal && !isAdmin(principal)) throw forbidden('only admins may read secret outputs');
        return { items: await apps.resources(ref(query.namespace, params.name), params.env, reveal) };
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/variables`, operationId: 'getVariables', summary: 'Environment variables of each container, wired from resource outputs', tag: 'resources',
      params: EnvPath, query: Ns.extend({ reveal: z.enum(['true', 'false']).default('false').describe('show secret values (admins; audited as secret.read)') }), errors: [403, 404, 409],
      response: { status: 200, description: 'Variables per container (secret ones masked)', schema: VariablesSchema },
      handler: async ({ params, query, principal, audit }) => {
        const reveal = query.reveal === 'true';
        if (reveal) audit.record('secret.read');
        if (reveal && !isAdmin(principal)) throw forbidden('only admins may read secret values');
        return apps.variables(ref(query.namespace, params.name), params.env, reveal);
      },
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/plan`, operationId: 'planResources', summary: 'What apply would create, change or delete', tag: 'resources',
      params: EnvPath, query: Ns, errors: [404, 409], response: { status: 200, description: 'The plan', schema: PlanSchema },
      audit: false, // changes nothing
      handler: ({ params, query }) => apps.plan(ref(query.namespace, params.name), params.env),
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/apply`, operationId: 'applyResources', summary: 'Provision, update and delete resources until they match the application', tag: 'resources',
      description: `Idempotent. With Accept: ${NDJSON} the progress streams as one JSON line per event, then a {"result": …} line. With refresh=true, unchanged resources are checked with their driver and provisioned again when they drifted.`,
      params: EnvPath, query: Ns.extend({ refresh: z.enum(['true', 'false']).default('false') }), errors: [404, 409], response: { status: 200, description: 'What was done; ok is false when a resource failed', schema: ApplyResultSchema },
      handler: ({ params, query, req, reply }) => {
        const app = ref(query.namespace, params.name);
        const opts = { refresh: query.refresh === 'true' };
        if (wantsStream(req)) return streamWork(reply, (emit) => apps.apply(app, params.env, emit, opts)) as never;
        return apps.apply(app, params.env, undefined, opts);
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/resources/drift', operationId: 'checkDrift', summary: 'Compare resources with what their drivers find', tag: 'resources',
      query: z.strictObject({ application: z.string().max(300).optional().describe('an application name or ref'), environment: z.string().max(63).optional() }),
      response: { status: 200, description: 'One line per resource: in-sync, missing, changed or error', schema: DriftSchema },
      handler: async ({ query }) => ({
        items: await apps.drift({ application: query.application ? (query.application.includes(':') ? query.application : ref('default', query.application)) : undefined, environment: query.environment }),
      }),
    }),
  ];
}
