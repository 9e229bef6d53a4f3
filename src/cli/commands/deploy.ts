import { Command, InvalidArgumentError } from 'commander';
import { resolveConnection } from '../config.ts';
import { DeployClient, type Deployment, type DeploymentDiff, type DeployEvent, type EnvironmentStatus, type Release, type Selector } from '../deploy-client.ts';
import type { AppRef } from '../golden-client.ts';
import { CliError, fields, info, render, table, type Cell } from '../output.ts';
import { seconds } from '../progress.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { compact, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave deploy|release|rollback|promote`, `pave deployments list|show|diff` and `pave status`: running
 * builds in environments, switching their routes, and what runs where. Progress goes to stderr as it
 * happens; a deployment that fails its health checks exits 1 with its reason and last log lines.
 */

export type NsOpts = OutputOpts & { namespace?: string };
export type EnvOpts = NsOpts & { env: string };

export const NS: [string, string] = ['--namespace <namespace>', 'namespace of the application (default "default")'];
export const ENV: [string, string] = ['-e, --env <env>', 'environment, e.g. development'];

/** The deployments client for the context chosen with --context / $PAVE_CONTEXT / the current one, or $PAVE_URL + $PAVE_TOKEN. */
export function deployFor(cmd: Command): DeployClient {
  return new DeployClient(resolveConnection(cmd.optsWithGlobals<{ context?: string }>().context));
}

/** A build or deployment argument: its number, or its id. */
export function selector(value: string): Selector {
  if (/^\d+$/.test(value) && Number(value) >= 1) return Number(value);
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return value.toLowerCase();
  throw new InvalidArgumentError('must be a number (e.g. 3) or an id.');
}

/** A command of one application: `<app>` first, then --namespace and -o. */
export function appCommand(command: Command, description: string, env: 'required' | 'optional' | 'none' = 'required'): Command {
  const cmd = command.argument('<app>', 'application name (or namespace/name)').description(description);
  if (env === 'required') cmd.requiredOption(...ENV);
  else if (env === 'optional') cmd.option(...ENV);
  return withOutput(cmd.option(...NS));
}

// ---- rendering --------------------------------------------------------------------------------

/** `sha256:0123456789ab`: enough of a digest to tell artifacts apart. */
export const shortDigest = (d: string | null | undefined) => (d ? d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1') : null);
/** `user:default/alice` → `alice`. */
export const who = (ref: string | null | undefined) => (ref ? ref.replace(/^user:default\//, '').replace(/^user:/, '') : null);
/** An ISO timestamp to the second. */
export const when = (iso: string | null | undefined) => (iso ? iso.replace(/\.\d+Z$/, 'Z') : null);
export const ms = (n: number | null | undefined) => (n === null || n === undefined ? null : seconds(n));

/** Prints deployment progress on stderr, one line per event. */
export const progressLine = (e: DeployEvent) => info(`  ${e.message}`);

/** `web.0 running, worker.0 backoff (3 restarts)`. */
export function processesText(d: Deployment | null): string | null {
  if (!d || !d.processes.length) return null;
  return d.processes.map((p) => `${p.type}.${p.replica} ${p.state}${p.restarts ? ` (${p.restarts} restart${p.restarts === 1 ? '' : 's'})` : ''}`).join(', ');
}

export function processTable(d: Deployment): string {
  return table(
    ['PROCESS', 'PORT', 'STATE', 'PID', 'RESTARTS', 'LAST EXIT'],
    d.processes.map((p) => [
      `${p.type}.${p.replica}`, p.port, p.state, p.pid, p.restarts,
      p.lastExit ? `${p.lastExit.signal ? `signal ${p.lastExit.signal}` : `code ${p.lastExit.code}`} at ${when(p.lastExit.at)}` : null,
    ]),
  );
}

/** `healthy, released (running)`. */
const stateText = (d: Deployment) => `${d.status}${d.released ? ', released' : ''} (${d.running})`;

/** A deployment as `Label: value` lines, its processes, and when it failed its error and last log lines. */
export function deploymentText(d: Deployment, url: string | null = null): string {
  const parts = [
    fields([
      ['Deployment', `${d.number} in ${d.environment} of ${d.application.replace(/^application:/, '').replace(/^default\//, '')}`],
      ['Status', stateText(d)],
      ['Build', `${d.build.number}${d.build.digest ? ` (${shortDigest(d.build.digest)})` : ''}`],
      ['Config', `v${d.configVersion}`],
      ['URL', d.released ? url : null],
      ['Promoted from', d.promotedFrom],
      ['Release phase', d.releasePhase],
      ['Created', `${when(d.createdAt)} by ${who(d.createdBy)}`],
      ['Duration', ms(d.durationMs)],
      ['Error', d.error],
      ['Id', d.id],
    ]),
  ];
  if (d.processes.length) parts.push('', processTable(d));
  const resources = Object.entries(d.resourceVersions);
  if (resources.length) parts.push('', table(['RESOURCE', 'VERSION'], resources));
  if (d.lastLogs.length) parts.push('', 'Last log lines:', ...d.lastLogs.map((l) => `  ${l}`));
  return parts.join('\n');
}

/** When a deployment failed: its reason and last log lines on stderr, and exit code 1. */
export function reportFailedDeployment(d: Deployment, app: AppRef): void {
  if (d.status !== 'failed') return;
  info(`error: deployment ${d.number} of ${appLabel(app)} in ${d.environment} failed: ${d.error ?? 'no reason given'}`);
  if (d.lastLogs.length) {
    info('Last log lines:');
    for (const l of d.lastLogs) info(`  ${l}`);
  }
  info(`What was released in ${d.environment} before keeps serving.`);
  process.exitCode = 1;
}

function releaseText(r: Release, app: AppRef): string {
  const how = r.warm ? `it was warm, so the switch was instant (${seconds(r.durationMs)})` : `it was not running, so it was started again from its build and config snapshot (${seconds(r.durationMs)})`;
  const verb = r.kind === 'rollback' ? `Rolled back ${r.environment} of ${appLabel(app)} to deployment ${r.deployment.number}` : `Released deployment ${r.deployment.number} in ${r.environment} of ${appLabel(app)}`;
  return [`${verb}: ${how}.`, fields([['URL', r.url]])].filter(Boolean).join('\n');
}

/** A change of a variable; secret values are never shown, whatever the server sent. */
function variableLine(c: DeploymentDiff['variables'][number]): string {
  const name = c.process && c.process !== '*' ? `${c.process}: ${c.name}` : c.name;
  if (c.secret) {
    if (c.change === 'added') return `  + ${name}=******** (secret)`;
    if (c.change === 'removed') return `  - ${name} (secret)`;
    return `  ~ ${name}: ******** → ******** (secret changed)`;
  }
  if (c.change === 'added') return `  + ${name}=${c.to ?? ''}`;
  if (c.change === 'removed') return `  - ${name} (was ${c.from ?? ''})`;
  return `  ~ ${name}: ${c.from ?? ''} → ${c.to ?? ''}`;
}

export function diffText(d: DeploymentDiff): string {
  const lines = [`From ${d.from.environment}/${d.from.number} to ${d.to.environment}/${d.to.number}:`, ''];
  lines.push(d.build.changed ? `Build:      changed: ${shortDigest(d.build.from) ?? '(none)'} → ${shortDigest(d.build.to) ?? '(none)'}` : `Build:      unchanged (${shortDigest(d.build.to) ?? 'no artifact'})`);
  lines.push(d.configVersion.from === d.configVersion.to ? `Config:     v${d.configVersion.to} (same version)` : `Config:     v${d.configVersion.from} → v${d.configVersion.to}`);
  lines.push(d.variables.length ? 'Variables:' : 'Variables:  unchanged', ...d.variables.map(variableLine));
  lines.push(d.resources.length ? 'Resources:' : 'Resources:  unchanged', ...d.resources.map((r) => `  ~ ${r.name}: ${r.from ?? '(none)'} → ${r.to ?? '(none)'}`));
  lines.push(d.processes.length ? 'Processes:' : 'Processes:  unchanged', ...d.processes.map((p) => (p.from === null ? `  + ${p.type}: ${p.to}` : p.to === null ? `  - ${p.type} (was ${p.from})` : `  ~ ${p.type}: ${p.from} → ${p.to}`)));
  return lines.join('\n');
}

const releasedText = (s: EnvironmentStatus) => (s.released ? `#${s.released.number} (build ${s.released.build.number})` : null);

/** `kubernetes (cluster eu-west-1)`, `local`; with a mark when the cluster settings cannot serve it. */
export const runtimeText = (s: EnvironmentStatus) => (s.target ? `${s.target.runtime}${s.target.cluster ? ` (cluster ${s.target.cluster})` : ''}${s.target.problem ? ' [settings invalid]' : ''}` : null);

export function statusesTable(items: EnvironmentStatus[]): string {
  // the RUNTIME column when an environment runs elsewhere than on the local runtime
  if (items.every((s) => !s.target || s.target.runtime === 'local')) {
    return table(['ENVIRONMENT', 'TYPE', 'STATUS', 'RELEASED', 'URL', 'PROCESSES'], items.map((s) => [s.name, s.type, s.status, releasedText(s), s.url, processesText(s.released)]));
  }
  return table(['ENVIRONMENT', 'TYPE', 'STATUS', 'RUNTIME', 'RELEASED', 'URL', 'PROCESSES'], items.map((s) => [s.name, s.type, s.status, runtimeText(s), releasedText(s), s.url, processesText(s.released) ?? objectsText(s)]));
}

/** `6 objects: 5 ready, 1 progressing`. */
function objectsText(s: EnvironmentStatus): string | null {
  if (!s.objects?.length) return null;
  const by = new Map<string, number>();
  for (const o of s.objects) by.set(o.state, (by.get(o.state) ?? 0) + 1);
  return `${s.objects.length} objects: ${[...by].map(([k, n]) => `${n} ${k}`).join(', ')}`;
}

export function statusText(s: EnvironmentStatus): string {
  const parts = [
    fields([
      ['Environment', `${s.name} (${s.type})`],
      ['Status', s.status],
      ['URL', s.url],
      ['Path URL', s.pathUrl],
      ['Released', s.released ? `deployment ${s.released.number}, build ${s.released.build.number} (${shortDigest(s.released.build.digest)}), config v${s.released.configVersion}` : '(nothing yet)'],
      ['Cloned from', s.clonedFrom],
      ['Expires', when(s.expiresAt)],
      ['Runtime', s.target ? `${s.target.runtime} (${s.target.source === 'default' ? 'the default' : `set by the ${s.target.source}`})` : null],
      ['Target', s.target?.cluster ? `cluster ${s.target.cluster}${s.target.location ? ` at ${s.target.location}` : ''}${s.target.namespace ? `, namespace ${s.target.namespace}` : ''}` : null],
      ['Settings problem', s.target?.problem ? `${s.target.problem.path}: ${s.target.problem.message}` : null],
      ['Released on', s.released?.target ? `${s.released.target.runtime}, cluster ${s.released.target.cluster}${s.released.target.namespace ? `, namespace ${s.released.target.namespace}` : ''}${s.released.target.commit ? `, commit ${s.released.target.commit.slice(0, 12)}` : ''}` : null],
    ]),
  ];
  if (s.released?.processes.length) parts.push('', processTable(s.released));
  if (s.objects?.length) parts.push('', table(['OBJECT', 'STATE', 'DETAIL'], s.objects.map((o) => [o.object, o.state, o.detail ?? null])));
  if (s.deployments.length) {
    parts.push('', 'Also running:', table(['#', 'STATUS', 'RUNNING', 'BUILD', 'PROCESSES'], s.deployments.map((d) => [d.number, d.status, d.running, d.build.number, processesText(d)])));
  }
  return parts.join('\n');
}

function deploymentRows(items: Deployment[]): Cell[][] {
  return items.map((d) => [d.number, d.status, d.running, d.released ? 'yes' : null, d.build.number, `v${d.configVersion}`, who(d.createdBy), when(d.createdAt), ms(d.durationMs)]);
}

/** `3` or a deployment id in `--env`, or `<env>/<number or id>`. */
function address(value: string, env: string | undefined): string {
  if (/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]\/(\d+|[0-9a-f-]{36})$/.test(value)) return value;
  if (/^(\d+|[0-9a-f-]{36})$/.test(value)) {
    if (!env) throw new CliError(`"${value}" names a deployment without its environment: pass --env, or write <env>/${value}`, 2);
    return `${env}/${value}`;
  }
  throw new CliError(`"${value}" is not a deployment: use a number (with --env) or <env>/<number>, e.g. staging/3`, 2);
}

// ---- commands ---------------------------------------------------------------------------------

export function deployCommands(): Command[] {
  const deploy = appCommand(new Command('deploy'), 'Deploy a build into an environment and wait until it is healthy (exit code 1 when it fails its health checks)')
    .option('--build <build>', 'build number or id (default: the newest successful build)', selector)
    .option('--release', 'release it as soon as it is healthy')
    .option('--timeout <seconds>', 'how long health checks may take (default: the server\'s, 30 s)', positiveInt('--timeout', 600))
    .action(async (arg: string, o: EnvOpts & { build?: Selector; release?: boolean; timeout?: number }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const client = deployFor(cmd);
      info(`Deploying ${o.build === undefined ? 'the newest build' : `build ${o.build}`} of ${appLabel(app)} to ${o.env}${o.release ? ', releasing it when healthy' : ''}…`);
      const d = await client.deploy(app, o.env, compact({ build: o.build, release: o.release === true, timeoutSeconds: o.timeout }), progressLine);
      const url = d.released ? ((await client.status(app, o.env).catch(() => null))?.url ?? null) : null;
      await render(o.output, { ...d, url }, () => deploymentText(d, url));
      if (d.status === 'failed') reportFailedDeployment(d, app);
      else if (!d.released && o.output === 'table') info(`It takes no traffic yet: release it with "pave release ${appLabel(app)} --env ${o.env} ${d.number}".`);
    });

  const release = appCommand(new Command('release'), 'Switch an environment\'s route to a healthy deployment; the previous one drains and stays warm for a while')
    .argument('<deployment>', 'deployment number or id', selector)
    .action(async (arg: string, deployment: Selector, o: EnvOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      info(`Releasing deployment ${deployment} in ${o.env} of ${appLabel(app)}…`);
      const r = await deployFor(cmd).release(app, o.env, deployment, progressLine);
      await render(o.output, r, () => releaseText(r, app));
    });

  const rollback = appCommand(new Command('rollback'), 'Release an earlier deployment again: instant while it is warm, else restarted from its build and config snapshot (never rebuilt)')
    .option('--to <deployment>', 'deployment number or id (default: the one released before the current)', selector)
    .action(async (arg: string, o: EnvOpts & { to?: Selector }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      info(`Rolling back ${o.env} of ${appLabel(app)}${o.to === undefined ? '' : ` to deployment ${o.to}`}…`);
      const r = await deployFor(cmd).rollback(app, o.env, o.to, progressLine);
      await render(o.output, r, () => releaseText(r, app));
    });

  const promote = appCommand(new Command('promote'), 'Deploy the build released in one environment into another, with that environment\'s config (exit code 1 when it fails)', 'none')
    .requiredOption('--from <env>', 'environment whose released build is promoted')
    .requiredOption('--to <env>', 'environment to deploy it into')
    .option('--release', 'release it as soon as it is healthy')
    .option('--timeout <seconds>', 'how long health checks may take', positiveInt('--timeout', 600))
    .action(async (arg: string, o: NsOpts & { from: string; to: string; release?: boolean; timeout?: number }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const client = deployFor(cmd);
      info(`Promoting the build released in ${o.from} of ${appLabel(app)} to ${o.to}${o.release ? ', releasing it when healthy' : ''}…`);
      const d = await client.promote(app, compact({ from: o.from, to: o.to, release: o.release === true, timeoutSeconds: o.timeout }), progressLine);
      const url = d.released ? ((await client.status(app, o.to).catch(() => null))?.url ?? null) : null;
      await render(o.output, { ...d, url }, () => deploymentText(d, url));
      if (d.status === 'failed') reportFailedDeployment(d, app);
      else if (!d.released && o.output === 'table') info(`It takes no traffic yet: release it with "pave release ${appLabel(app)} --env ${o.to} ${d.number}".`);
    });

  const status = appCommand(new Command('status'), 'Environments of an application: status, released deployment, URL and processes', 'optional').action(
    async (arg: string, o: NsOpts & { env?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const client = deployFor(cmd);
      if (o.env) {
        const s = await client.status(app, o.env);
        await render(o.output, s, () => statusText(s));
        return;
      }
      const { items } = await client.statuses(app);
      await render(o.output, { items }, () => (items.length ? statusesTable(items) : `${appLabel(app)} has no environments.`));
    },
  );

  return [deploy, release, rollback, promote, status];
}

export function deploymentsCommand(): Command {
  const group = new Command('deployments').alias('deploys').description('Deployments of an application: history, details and differences');

  appCommand(group.command('list'), 'Deployments of an environment, newest first')
    .alias('ls')
    .action(async (arg: string, o: EnvOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const { items } = await deployFor(cmd).deployments(app, o.env);
      await render(o.output, { items }, () =>
        items.length
          ? table(['#', 'STATUS', 'RUNNING', 'RELEASED', 'BUILD', 'CONFIG', 'BY', 'CREATED', 'DURATION'], deploymentRows(items))
          : `No deployments in ${o.env} of ${appLabel(app)} yet; "pave deploy ${appLabel(app)} --env ${o.env}" makes one.`,
      );
    });

  appCommand(group.command('show'), 'One deployment, with its processes (and, when it failed, its error and last log lines)')
    .argument('<deployment>', 'deployment number or id', selector)
    .action(async (arg: string, deployment: Selector, o: EnvOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const client = deployFor(cmd);
      const d = await client.deployment(app, o.env, deployment);
      const url = d.released ? ((await client.status(app, o.env).catch(() => null))?.url ?? null) : null;
      await render(o.output, d, () => deploymentText(d, url));
    });

  appCommand(group.command('diff'), 'What changed between two deployments: build, config (secrets masked), resources and processes', 'optional')
    .argument('<from>', 'deployment: a number (in --env) or <env>/<number>')
    .argument('<to>', 'deployment: a number (in --env) or <env>/<number>')
    .action(async (arg: string, from: string, to: string, o: NsOpts & { env?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const diff = await deployFor(cmd).diff(app, address(from, o.env), address(to, o.env));
      await render(o.output, diff, () => diffText(diff));
    });

  return group;
}
