import { Command, InvalidArgumentError, Option } from 'commander';
import type { ApplyResultView, Resource } from '../../contracts/golden.ts';
import { ApiError } from '../client.ts';
import type { EnvironmentStatus } from '../deploy-client.ts';
import { CliError, info, render, table } from '../output.ts';
import { applySummary, progressPrinter, resourceTable } from '../progress.ts';
import { deployFor, progressLine, statusText, when } from './deploy.ts';
import { appLabel, appRef, goldenFor } from './golden-shared.ts';
import { confirmOrRefuse, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/** `pave envs list|create|delete`: the environments of an application, each with its own resources. */

/** `30m`, `24h`, `7d`: what the server takes as a preview's time to live. */
function duration(value: string): string {
  if (!/^[1-9][0-9]{0,6}(s|m|h|d)$/.test(value)) throw new InvalidArgumentError('must be a duration such as 90s, 30m, 24h or 7d.');
  return value;
}

/** The contracts' ENVIRONMENT_TYPES (kept here so the CLI does not load zod). */
const ENVIRONMENT_TYPES = ['development', 'staging', 'production', 'preview'] as const;

type NsOpts = OutputOpts & { namespace?: string };
const NS: [string, string] = ['--namespace <namespace>', 'namespace of the application (default "default")'];

export function envsCommand(): Command {
  const group = new Command('envs').alias('environments').description('Manage the environments of an application made from a template');

  withOutput(group.command('list').alias('ls').argument('<app>', 'application name').description('List the environments of an application'))
    .option(...NS)
    .action(async (arg: string, o: NsOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      // The status of each (what is released, where it answers) comes from the deployments API; without it, the list alone.
      const [{ items: envs }, statuses] = await Promise.all([goldenFor(cmd).environments(app), deployFor(cmd).statuses(app).then((r) => r.items, () => [] as EnvironmentStatus[])]);
      const byName = new Map(statuses.map((s) => [s.name, s]));
      const items = envs.map((e) => {
        const s = byName.get(e.name);
        return s ? { ...e, status: s.status, released: s.released?.number ?? null, url: s.url } : { ...e, released: null, url: null };
      });
      await render(o.output, { items }, () =>
        table(['NAME', 'TYPE', 'STATUS', 'RELEASED', 'URL', 'EXPIRES', 'CREATED'], items.map((e) => [e.name, e.type, e.status, e.released === null ? null : `#${e.released}`, e.url, when(e.expiresAt), when(e.createdAt)])),
      );
    });

  withOutput(
    group
      .command('create')
      .argument('<app>', 'application name')
      .argument('<name>', 'environment name, e.g. staging or pr-42')
      .description('Create an environment and provision its resources, with progress; --from clones another (its config and released build, on resources of its own)')
      .addOption(new Option('--type <type>', 'environment type').choices(ENVIRONMENT_TYPES).makeOptionMandatory())
      .option('--from <env>', 'clone this environment: copy its config, and deploy and release its released build')
      .addOption(new Option('--ttl <duration>', 'time until it expires and is deleted with everything in it (previews), e.g. 30m, 24h, 7d').argParser(duration).conflicts('ttlHours'))
      .option('--ttl-hours <n>', 'hours until it expires (previews); --ttl takes other units', positiveInt('--ttl-hours', 24 * 90))
      .addOption(new Option('--apply', 'no longer needed: creating an environment provisions its resources').hideHelp())
      .option(...NS),
  ).action(async (arg: string, name: string, o: NsOpts & { type: string; from?: string; ttl?: string; ttlHours?: number }, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    info(`Creating environment ${name} of ${appLabel(app)}${o.from ? ` from ${o.from}` : ''}…`);
    const gp = await deployFor(cmd).createEnvironment(
      app,
      { name, type: o.type as (typeof ENVIRONMENT_TYPES)[number], ...(o.ttlHours ? { ttlHours: o.ttlHours } : {}), ...(o.ttl ? { ttl: o.ttl } : {}), ...(o.from ? { from: o.from } : {}) },
      progressLine,
    );
    const env = gp.environments.find((e) => e.name === name);
    info(`Created environment ${name} (${o.type}${env?.expiresAt ? `, expires ${env.expiresAt}` : ''}) of ${appLabel(app)}.`);
    const resources: Resource[] = (await goldenFor(cmd).resources(app, name)).items;
    // A clone runs what its source released: show where it answers.
    const status = o.from ? await deployFor(cmd).status(app, name) : null;
    await render(o.output, { environment: env ?? null, resources, status }, () =>
      [
        ...(resources.length ? [resourceTable(resources)] : [`Environment ${name} needs no resources.`]),
        ...(status ? ['', statusText(status)] : []),
      ].join('\n'),
    );
    if (status && !status.released) info(`${o.from} has nothing released, so ${name} runs nothing yet: "pave deploy ${appLabel(app)} --env ${name} --release" deploys a build.`);
  });

  withOutput(
    group
      .command('delete')
      .alias('rm')
      .argument('<app>', 'application name')
      .argument('<name>', 'environment name')
      .description('Delete an environment and every resource in it (exit code 1, listing the failures, when a resource cannot be deleted)')
      .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
      .option(...NS),
  ).action(async (arg: string, name: string, o: NsOpts & { yes?: boolean }, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    await confirmOrRefuse(o.yes, `Delete environment ${name} of ${appLabel(app)} and all its resources?`);
    const golden = goldenFor(cmd);
    info(`Deleting environment ${name} of ${appLabel(app)} and its resources…`);
    const progress = progressPrinter();
    let result: ApplyResultView;
    try {
      result = await golden.deleteEnvironment(app, name, (e, live) => progress.event(e, live));
    } catch (err) {
      progress.end();
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
      // The environment stays, with the resources that could not be deleted and their errors.
      const left = await golden.resources(app, name).then((r) => r.items, () => []);
      const failed = left.filter((r) => r.error);
      throw new CliError(
        [
          `environment ${name} of ${appLabel(app)} was not deleted: ${failed.length ? `${failed.length} resource(s) could not be deleted` : err.detail}`,
          ...failed.map((r) => `  ${r.name} (${r.type}): ${r.error}`),
          `The environment stays (status delete-failed) with ${left.length} resource(s); fix the cause and run the delete again.`,
        ].join('\n'),
      );
    }
    progress.end();
    await render(o.output, result, () => `Deleted environment ${name} of ${appLabel(app)} (${applySummary(result)}).`);
  });

  return group;
}
