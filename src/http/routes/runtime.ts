import { z } from 'zod';
import { refOf } from '../../catalog/model.ts';
import { NamePathSchema } from '../../contracts/catalog.ts';
import { NamespaceSchema } from '../../contracts/common.ts';
import { EnvironmentStatusSchema } from '../../contracts/deployments.ts';
import { RuntimeUpdateSchema } from '../../contracts/targets.ts';
import type { Services } from '../../services.ts';
import { defineRoute, type Route } from '../route.ts';

const EnvPath = z.strictObject({ name: NamePathSchema.shape.name, env: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/) });

/** PUT …/environments/:env/runtime: choosing an environment's runtime target (local, kubernetes, gitops). */
export function runtimeRoutes(s: Services): Route[] {
  return [
    defineRoute({
      method: 'PUT', url: '/api/v1/applications/:name/environments/:env/runtime', operationId: 'setEnvironmentRuntime', tag: 'deployments',
      summary: "Choose where an environment's next deployments run: local, kubernetes or gitops (null: the application's or team profile's)",
      description: "Switching a target is a deployment: nothing moves now; the next deployment goes to the new target, and its release retires what ran on the old one. The cluster comes from the team profile (environments.<type>.cluster); when it cannot serve the runtime the answer is 409 invalid-cluster-settings, with the setting's path.",
      permission: { name: 'deploy', scope: 'environment' },
      params: EnvPath, query: z.strictObject({ namespace: NamespaceSchema.default('default') }), body: RuntimeUpdateSchema, errors: [404, 409],
      response: { status: 200, description: 'The environment, with its runtime and target', schema: EnvironmentStatusSchema },
      handler: ({ params, query, body }) => s.deployments.setRuntime(refOf('application', query.namespace, params.name), params.env, body.runtime),
    }),
  ];
}
