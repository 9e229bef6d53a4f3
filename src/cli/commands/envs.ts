import { Command, Option } from 'commander';
import type { ApplyResultView, Resource } from '../../contracts/golden.ts';
import { ApiError } from '../client.ts';
import { CliError, info, render, table } from '../output.ts';
import { applySummary, progressPrinter, resourceTable } from '../progress.ts';
import { appLabel, appRef, applyWithProgress, goldenFor, reportFailures } from './golden-shared.ts';
import { confirmOrRefuse, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/** `pave envs list|create|delete`: the environments of an application, each with its own resources. */

/** The contracts' ENVIRONMENT_TYPES (kept here so the CLI does not load zod). */
const ENVIRONMENT_TYPES = ['development', 'staging', 'production', 'preview'] as const;

type NsOpts = OutputOpts & { namespace?: string };
const NS: [string, string] = ['--namespace <namespace>', 'namespace of the application (default "default")'];

export function envsCommand(): Command {
  const group = new Command('envs').alias('environments').description('Manage the environments of an application made from a template');

  withOutput(group.command('list').alias('ls').argument('<app>', 'application name').description('List the environments of an application'))
    .option(...NS)
    .action(async (arg: string, o: NsOpts, cmd: Command) => {
      const { items } = await goldenFor(cmd).environments(appRef(arg, o.namespace));
      await render(o.output, { items }, () => table(['NAME', 'TYPE', 'STATUS', 'EXPIRES', 'CREATED'], items.map((e) => [e.name, e.type, e.status, e.expiresAt, e.createdAt])));
    });

  withOutput(
    group
      .command('create')
      .argument('<app>', 'application name')
      .argument('<name>', 'environment name, e.g. staging or pr-42')
      .description('Create an environment (then "pave resources apply" provisions it, or pass --apply)')
      .addOption(new Option('--type <type>', 'environment type').choices(ENVIRONMENT_TYPES).makeOptionMandatory())
      .option('--ttl-hours <n>', 'hours until it expires (previews)', positiveInt('--ttl-hours', 24 * 90))
      .option('--apply', 'provision its resources now, with progress')
      .option(...NS),
  ).action(async (arg: string, name: string, o: NsOpts & { type: string; ttlHours?: number; apply?: boolean }, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    const golden = goldenFor(cmd);
    const gp = await golden.createEnvironment(app, { name, type: o.type as (typeof ENVIRONMENT_TYPES)[number], ...(o.ttlHours ? { ttlHours: o.ttlHours } : {}) });
    const env = gp.environments.find((e) => e.name === name);
    info(`Created environment ${name} (${o.type}${env?.expiresAt ? `, expires ${env.expiresAt}` : ''}) of ${appLabel(app)}.`);
    let result: ApplyResultView | null = null;
    let resources: Resource[] = [];
    if (o.apply) {
      result = await applyWithProgress(golden, app, name);
      resources = (await golden.resources(app, name)).items;
    }
    await render(o.output, { environment: env ?? null, apply: result, resources }, () =>
      result
        ? resources.length ? resourceTable(resources) : `Environment ${name} needs no resources.`
        : `Provision it with "pave resources apply ${appLabel(app)} --env ${name}".`,
    );
    if (result) reportFailures(result);
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
