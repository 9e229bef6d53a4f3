import { Command } from 'commander';
import type { GoldenPath } from '../../contracts/golden.ts';
import { parseInputs, showValue } from '../inputs.ts';
import { render, table } from '../output.ts';
import { appLabel, appRef, goldenFor } from './golden-shared.ts';
import { collect, compact, withOutput, type OutputOpts } from './shared.ts';

/** `pave apps addons APP | add APP ADDON | remove APP NAME`: what an application has beside itself. */

type NsOpts = OutputOpts & { namespace?: string };
const NS: [string, string] = ['--namespace <namespace>', 'namespace of the application (default "default")'];

export function appAddonsCommand(): Command {
  const group = new Command('addons').description('List, attach and detach the add-ons of an application made from a template');

  withOutput(group.command('list', { isDefault: true }).alias('ls').argument('<app>', 'application name').description('List the add-ons of an application (the default)'))
    .option(...NS)
    .action(async (arg: string, o: NsOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const gp = await goldenFor(cmd).goldenPath(app);
      await render(o.output, { template: gp.template, items: gp.addons }, () =>
        gp.addons.length
          ? table(['NAME', 'ADDON', 'VERSION', 'INPUTS'], gp.addons.map((a) => [a.name, a.addon, a.version, Object.entries(a.inputs).map(([k, v]) => `${k}=${showValue(v)}`).join(', ')]))
          : `${appLabel(app)} (${gp.template.name} ${gp.template.version}) has no add-ons; attach one with "pave apps addons add ${appLabel(app)} postgres".`,
      );
    });

  withOutput(
    group
      .command('add')
      .argument('<app>', 'application name')
      .argument('<addon>', 'add-on, e.g. postgres (see "pave platform addons")')
      .description('Attach an add-on; the next apply of each environment provisions it')
      .option('--name <instance>', 'instance name, unique in the application (default: the add-on name)')
      .option('--version <version>', 'version or semver range (default: the latest)')
      .option('--input <key=value>', "an input of the add-on, parsed by its type (repeatable)", collect)
      .option(...NS),
  ).action(async (arg: string, addon: string, o: NsOpts & { name?: string; version?: string; input?: string[] }, cmd: Command) => {
    const app = appRef(arg, o.namespace);
    const golden = goldenFor(cmd);
    const fields = o.input?.length ? (await golden.pattern('addons', addon, o.version)).fields : [];
    const inputs = parseInputs(o.input, fields);
    const gp = await golden.addAddon(app, compact({ addon, name: o.name, version: o.version, inputs: o.input?.length ? inputs : undefined }));
    const added = gp.addons.find((a) => a.name === (o.name ?? addon));
    await render(o.output, gp, () =>
      [`Attached ${o.name ?? addon} (${addon}${added ? ` ${added.version}` : ''}) to ${appLabel(app)}.`, ...applyHint(app, gp, 'provisions it')].join('\n'),
    );
  });

  withOutput(group.command('remove').alias('rm').argument('<app>', 'application name').argument('<name>', 'add-on instance name').description("Detach an add-on; the next apply of each environment deletes its resources"))
    .option(...NS)
    .action(async (arg: string, name: string, o: NsOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const gp = await goldenFor(cmd).removeAddon(app, name);
      await render(o.output, gp, () => [`Detached ${name} from ${appLabel(app)}.`, ...applyHint(app, gp, 'deletes its resources')].join('\n'));
    });

  return group;
}

function applyHint(app: { name: string; namespace: string }, gp: GoldenPath, what: string): string[] {
  if (!gp.environments.length) return [];
  return [`The next apply of each environment ${what}:`, ...gp.environments.map((e) => `  pave resources apply ${appLabel(app)} --env ${e.name}`)];
}
