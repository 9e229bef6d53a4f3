import { stringify } from 'yaml';
import { refOf } from '../../catalog/model.ts';
import { NamePathSchema } from '../../contracts/catalog.ts';
import { RenderQuerySchema, RenderViewSchema, type RenderView } from '../../contracts/targets.ts';
import type { Services } from '../../services.ts';
import type { TargetService } from '../../targets/service.ts';
import { z } from 'zod';
import { defineRoute, type Route } from '../route.ts';

const EnvPath = z.strictObject({ name: NamePathSchema.shape.name, env: z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/) });

/** The rendering as multi-document YAML, its notes as comments at the top. */
function yamlOf(v: RenderView): string {
  const notes = [
    `Pave: ${v.application} in ${v.environment} for ${v.runtime}, deployment ${v.deployment.number}${v.deployment.existing ? '' : ' (next)'}${v.build ? `, build ${v.build.number}` : ''}; namespace ${v.namespace}`,
    ...(v.masked ? ['secret values are masked (reveal=true shows them)'] : []),
    ...v.errors.map((e) => `ERROR: ${e}`),
    ...v.placeholders.map((p) => `PLACEHOLDER: ${p}`),
    ...v.warnings.map((w) => `warning: ${w}`),
  ].map((l) => `# ${l.replace(/\n/g, ' ')}`);
  const docs = v.gitops
    ? v.gitops.files.map((f) => `# file: ${f.path}\n${f.content}`)
    : v.objects.map((o) => stringify(o.object, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${notes.join('\n')}\n${docs.join('---\n')}`;
}

/** GET …/environments/:env/render: the Kubernetes objects (or GitOps files) of an environment, for review. */
export function renderRoutes(s: Services): Route[] {
  // Loaded on first use: the Kubernetes schemas weigh ~40 MB, which a server that never renders should not carry.
  let targets: Promise<TargetService> | undefined;
  const service = () =>
    (targets ??= import('../../targets/service.ts').then(({ TargetService }) => new TargetService({ db: s.store.db, apps: s.applications, builds: s.builds, deployments: s.deployments, configs: s.configs })));
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/applications/:name/environments/:env/render', operationId: 'renderEnvironment', tag: 'deployments',
      summary: 'The Kubernetes objects (or GitOps files) of an environment, validated, for review',
      description: 'Renders what the next deployment (or an existing one) runs on Kubernetes: Namespace, Deployment or StatefulSet, Service, HTTPRoute or Ingress, Secrets for secret variables, ConfigMaps for files, each validated against the Kubernetes schemas. Values not known yet are placeholders and listed; secret values are masked unless reveal=true. With runtime=gitops, also the files as they would be committed (Argo CD / Flux layout). format=yaml answers multi-document YAML with the notes as comments.',
      permission: [{ name: 'application.read', scope: 'application' }, { name: 'secret.read', scope: 'environment', when: (i) => i.query.reveal === 'true', audit: 'secret.read' }],
      params: EnvPath, query: RenderQuerySchema, errors: [403, 404, 409],
      response: { status: 200, description: 'The rendering (JSON), or multi-document YAML with format=yaml', schema: RenderViewSchema },
      handler: async ({ params, query, reply }) => {
        const { namespace, format, reveal, ...req } = query;
        const view = await (await service()).render(refOf('application', namespace, params.name), params.env, { ...req, reveal: reveal === 'true' });
        if (format === 'yaml') {
          reply.type('application/yaml; charset=utf-8');
          return yamlOf(view) as never;
        }
        return view;
      },
    }),
  ];
}
