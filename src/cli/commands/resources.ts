import { Command } from 'commander';
import type { Drift, PlanView } from '../../contracts/golden.ts';
import { showValue } from '../inputs.ts';
import { info, render, table } from '../output.ts';
import { applySummary, resourceTable } from '../progress.ts';
import { appLabel, appRef, applyWithProgress, goldenFor, reportFailures } from './golden-shared.ts';
import { withOutput, type OutputOpts } from './shared.ts';

/** `pave resources list|plan|apply|check`: the provisioned things of an application's environments. */

type EnvOpts = OutputOpts & { env: string; namespace?: string };

function envCommand(group: Command, name: string, description: string): Command {
  return withOutput(
    group
      .command(name)
      .argument('<app>', 'application name')
      .description(description)
      .requiredOption('-e, --env <env>', 'environment, e.g. development')
      .option('--namespace <namespace>', 'namespace of the application (default "default")'),
  );
}

export function resourcesCommand(): Command {
  const group = new Command('resources').description('List, plan, apply and check the resources of an application');

  envCommand(group, 'list', 'Resources of an environment with their state and outputs (secret outputs masked)')
    .alias('ls')
    .option('--reveal', 'show secret outputs (admins)')
    .action(async (arg: string, o: EnvOpts & { reveal?: boolean }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const { items } = await goldenFor(cmd).resources(app, o.env, o.reveal === true);
      await render(o.output, { items }, () => (items.length ? resourceTable(items) : `No resources in ${o.env} of ${appLabel(app)}; "pave resources apply ${appLabel(app)} --env ${o.env}" provisions what it needs.`));
    });

  envCommand(group, 'plan', 'What apply would create, change or delete, as a diff').action(async (arg: string, o: EnvOpts, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    const plan = await goldenFor(cmd).plan(app, o.env);
    await render(o.output, plan, () => planText(plan, `${o.env} of ${appLabel(app)}`));
  });

  envCommand(group, 'vars', 'Environment variables of each container, wired from the resources (secret ones masked)')
    .option('--reveal', 'show secret values (admins)')
    .action(async (arg: string, o: EnvOpts & { reveal?: boolean }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const vars = await goldenFor(cmd).variables(app, o.env, o.reveal === true);
      await render(o.output, vars, () =>
        Object.entries(vars.containers)
          .map(([container, v]) => [`${container}:`, table(['NAME', 'VALUE'], Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))].join('\n'))
          .join('\n\n'),
      );
    });

  envCommand(group, 'apply', 'Provision, update and delete resources until they match the application (exit code 1 when one fails)')
    .option('--refresh', 'check unchanged resources with their drivers and provision again what drifted')
    .action(async (arg: string, o: EnvOpts & { refresh?: boolean }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const golden = goldenFor(cmd);
      const result = await applyWithProgress(golden, app, o.env, { refresh: o.refresh === true });
      const { items } = await golden.resources(app, o.env);
      await render(o.output, { ...result, resources: items }, () =>
        [`${result.ok ? 'Applied' : 'Applied with failures'} ${o.env} of ${appLabel(app)}: ${applySummary(result)}.`, ...(items.length ? ['', resourceTable(items)] : [])].join('\n'),
      );
      reportFailures(result);
    });

  withOutput(
    group
      .command('check')
      .description('Compare resources with what their drivers find (exit code 2 when one is missing or changed, 1 when one cannot be checked)')
      .option('--app <app>', 'only this application (name, namespace/name or ref)')
      .option('-e, --env <env>', 'only this environment'),
  ).action(async (o: OutputOpts & { app?: string; env?: string }, cmd: Command) => {
    const application = o.app && !o.app.includes(':') && o.app.includes('/') ? `application:${o.app}` : o.app;
    const drift = await goldenFor(cmd).drift({ ...(application ? { application } : {}), ...(o.env ? { environment: o.env } : {}) });
    const drifted = drift.items.filter((d) => d.status === 'missing' || d.status === 'changed');
    const failed = drift.items.filter((d) => d.status === 'error');
    await render(o.output, drift, () => driftText(drift));
    if (drifted.length) process.exitCode = 2;
    else if (failed.length) process.exitCode = 1;
    if (o.output === 'table' && drift.items.length === 0) info('No resources to check.');
  });

  return group;
}

const show = (v: unknown) => (v === undefined || v === null ? '(none)' : showValue(v));

/** A readable diff: `+ create`, `~ update`, `-/+ replace`, `- delete`, `! error`, then the counts. */
export function planText(plan: PlanView, where: string): string {
  const lines: string[] = [];
  const counts = { create: 0, update: 0, replace: 0, retry: 0, delete: 0, noop: 0 };
  for (const i of plan.items) {
    counts[i.action]++;
    const what = `${i.resource} (${i.type}${i.class ? `, ${i.class}` : ''})`;
    const via = i.definition ? ` via ${i.definition}${i.definitionVersion ? ` ${i.definitionVersion}` : ''}` : '';
    const why = i.reason ? `: ${i.reason}` : '';
    const changes = i.changes.map((c) => `${c.field}: ${show(c.from)} → ${show(c.to)}`);
    if (i.error) {
      lines.push(`! error ${what}: ${i.error}`);
      continue;
    }
    switch (i.action) {
      case 'create':
        lines.push(`+ create ${what}${via}`);
        break;
      case 'update':
        if (changes.length) lines.push(...changes.map((c) => `~ update ${i.resource}: ${c}`));
        else lines.push(`~ update ${what}${via}${why}`);
        break;
      case 'replace':
        lines.push(`-/+ replace ${what}${via}${why}`, ...changes.map((c) => `    ${c}`));
        break;
      case 'retry':
        lines.push(`~ retry ${what}${via}${why}`);
        break;
      case 'delete':
        lines.push(`- delete ${i.resource} (${i.type})${why}`);
        break;
      case 'noop':
        lines.push(`  ${what}: no change`);
        break;
    }
  }
  for (const e of plan.errors) lines.push(`! error: ${e}`);
  const changing = counts.create + counts.update + counts.replace + counts.retry + counts.delete;
  lines.push(
    '',
    changing === 0 && plan.errors.length === 0
      ? `No changes: the resources of ${where} match the application.`
      : `Plan for ${where}: ${counts.create} to create, ${counts.update + counts.retry} to update, ${counts.replace} to replace, ${counts.delete} to delete, ${counts.noop} unchanged.`,
  );
  return lines.join('\n').replace(/^\n/, '');
}

function driftText(drift: Drift): string {
  if (drift.items.length === 0) return '';
  const rows = drift.items.map((d) => [
    d.application.replace(/^application:default\//, ''), d.environment, d.resource, d.type, d.status,
    [d.detail, ...d.differences.map((x) => `${x.field}: ${show(x.expected)} → ${show(x.actual)}`)].filter(Boolean).join('; '),
  ]);
  const drifted = drift.items.filter((d) => d.status !== 'in-sync').length;
  return [
    table(['APPLICATION', 'ENVIRONMENT', 'RESOURCE', 'TYPE', 'STATUS', 'DETAIL'], rows),
    '',
    drifted ? `${drifted} of ${drift.items.length} resources are not in sync.` : `All ${drift.items.length} resources are in sync.`,
  ].join('\n');
}
