import { Command, InvalidArgumentError } from 'commander';
import type { EnvironmentStatus } from '../../contracts/deployments.ts';
import { render } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { appCommand, deployFor, statusText, type EnvOpts } from './deploy.ts';
import { clientFor } from './shared.ts';

/**
 * `pave runtime <app> --env <env> [local|kubernetes|gitops|default]`: where an environment's
 * deployments run. Without a runtime it shows the environment's runtime, what chose it (the
 * environment, the application, the team profile) and its cluster; with one it sets the environment's
 * (`default`: back to the application's or the team profile's). Nothing moves until the next
 * deployment: switching a target is a deployment.
 */
const CHOICES = ['local', 'kubernetes', 'gitops', 'default'];

function choice(value: string): string {
  if (!CHOICES.includes(value)) throw new InvalidArgumentError(`must be one of ${CHOICES.join(', ')}.`);
  return value;
}

function summary(s: EnvironmentStatus): string {
  const t = s.target;
  if (!t) return `${s.name}: the server does not report runtime targets`;
  const lines = [
    `${s.name} deploys to ${t.runtime}${t.cluster ? ` on cluster ${t.cluster}${t.location ? ` (${t.location})` : ''}${t.namespace ? `, namespace ${t.namespace}` : ''}` : ''}, ${t.source === 'default' ? 'the default' : `as the ${t.source} says`}.`,
  ];
  if (s.released?.runtime && s.released.runtime !== t.runtime) lines.push(`Deployment ${s.released.number} still serves on ${s.released.runtime} until the next deployment to ${t.runtime} is released.`);
  if (t.problem) lines.push(`Deployments are refused until the team profile is fixed: ${t.problem.path}: ${t.problem.message}`);
  return lines.join('\n');
}

export function runtimeCommand(): Command {
  return appCommand(new Command('runtime'), "Show or set where an environment's deployments run (local, kubernetes, gitops)")
    .argument('[runtime]', `${CHOICES.join(', ')} (default: back to the application's or team profile's runtime)`, choice)
    .addHelpText('after', '\nThe cluster (API server and credentials, or the GitOps repository) comes from the team profile: environments.<type>.cluster.\nExample:\n  pave runtime shop --env staging kubernetes\n  pave deploy shop --env staging --release   # the switch happens with this deployment')
    .action(async (arg: string, runtime: string | undefined, o: EnvOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const s = runtime === undefined
        ? await deployFor(cmd).status(app, o.env)
        : await clientFor(cmd).json<EnvironmentStatus>('PUT', `/api/v1/applications/${encodeURIComponent(app.name)}/environments/${encodeURIComponent(o.env)}/runtime`, { query: { namespace: app.namespace }, body: { runtime: runtime === 'default' ? null : runtime } });
      await render(o.output, s, () => (o.output === 'table' && runtime === undefined ? `${summary(s)}\n\n${statusText(s)}` : `${runtime !== undefined ? `Set the runtime of ${s.name} of ${appLabel(app)}.\n` : ''}${summary(s)}`));
    });
}
