import { text } from 'node:stream/consumers';
import { Command, Option } from 'commander';
import type { PatternSummary, SyncReportView } from '../../contracts/golden.ts';
import type { PatternKind, PlatformObject, PlatformObjectKind } from '../golden-client.ts';
import { allowedText, showValue } from '../inputs.ts';
import { CliError, fields, info, render, table } from '../output.ts';
import { goldenFor } from './golden-shared.ts';
import { confirmOrRefuse, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave platform …`: the golden paths a platform team publishes (templates, add-ons, resource types and
 * definitions, team profiles), syncing them from their folder or repository, and platform secrets.
 */

const OBJECT_KINDS: Record<string, PlatformObjectKind> = {
  'resource-types': 'ResourceType',
  'resource-definitions': 'ResourceDefinition',
  'team-profiles': 'TeamProfile',
};

export function platformCommand(): Command {
  const group = new Command('platform').description('Golden paths: sync the platform, browse templates, add-ons and objects, manage platform secrets');

  withOutput(group.command('sync').description('Load the platform from its folder or git repository now (exit code 1 when a file is rejected)')).action(
    async (o: OutputOpts, cmd: Command) => {
      const report = await goldenFor(cmd).sync();
      await render(o.output, report, () => syncSummary(report));
      if (report.errors.length > 0) process.exitCode = 1;
    },
  );

  withOutput(group.command('status').description('Where the platform comes from and how its last sync went')).action(async (o: OutputOpts, cmd: Command) => {
    const s = await goldenFor(cmd).status();
    await render(o.output, s, () => {
      const last = s.lastSync;
      const head = fields([
        ['Source', s.source],
        ['Last sync', last ? (last.finishedAt ?? 'running') : 'never'],
        ['Revision', last?.revision],
        ['Loaded', last?.loaded],
        ['Published', last?.published],
        ['Errors', last ? last.errors.length : undefined],
      ]);
      const errors = (last?.errors ?? []).map((e) => `  ${errorLine(e as SyncReportView['errors'][number])}`);
      return [head, ...(errors.length ? ['', 'Errors:', ...errors] : [])].join('\n');
    });
  });

  group.addCommand(patternCommand('templates', 'template'));
  group.addCommand(patternCommand('addons', 'add-on'));

  withOutput(
    group
      .command('objects')
      .description('List the current resource types, resource definitions or team profiles')
      .addOption(new Option('--kind <kind>', 'which objects').choices(Object.keys(OBJECT_KINDS)).makeOptionMandatory()),
  ).action(async (o: OutputOpts & { kind: string }, cmd: Command) => {
    const kind = OBJECT_KINDS[o.kind]!;
    const { items } = await goldenFor(cmd).objects(kind);
    await render(o.output, { items }, () => (items.length ? objectTable(kind, items) : `No ${o.kind.replace('-', ' ')} are published.`));
  });

  group.addCommand(secretsCommand());
  return group;
}

/** `pave platform templates|addons [list]` and `… show NAME [--version V]`. */
function patternCommand(kind: PatternKind, noun: string): Command {
  const group = new Command(kind).description(`Browse the published ${noun}s`);
  withOutput(group.command('list', { isDefault: true }).alias('ls').description(`List the published ${noun}s (the default)`)).action(
    async (o: OutputOpts, cmd: Command) => {
      const { items } = await goldenFor(cmd).patterns(kind);
      await render(o.output, { items }, () =>
        items.length
          ? table(
              ['NAME', 'VERSION', 'TITLE', 'TAGS', 'APPS', 'DESCRIPTION'],
              items.map((p) => [p.name, p.version, p.title, p.tags.join(','), p.applications, p.description]),
            )
          : `No ${noun}s are published; a platform team adds them to the platform folder and runs "pave platform sync".`,
      );
    },
  );
  withOutput(
    group
      .command('show')
      .argument('<name>', `${noun} name`)
      .description(`Show ${noun === 'add-on' ? 'an' : 'a'} ${noun}: its inputs, what it provisions, and its readme`)
      .option('--version <version>', 'this version (or semver range) instead of the latest'),
  ).action(async (name: string, o: OutputOpts & { version?: string }, cmd: Command) => {
    const p = await goldenFor(cmd).pattern(kind, name, o.version);
    await render(o.output, p, () => patternDetails(p));
  });
  return group;
}

export function patternDetails(p: PatternSummary): string {
  const head = fields([
    ['Name', p.name],
    ['Version', p.version],
    ['Versions', p.versions.join(', ')],
    ['Title', p.title],
    ['Description', p.description],
    ['Tags', p.tags.join(', ')],
    ['Add-ons', p.addons.map((a) => (a.name === a.addon ? `${a.addon} ${a.version}` : `${a.name} (${a.addon} ${a.version})`)).join(', ')],
    ['Resources', p.resources.map((r) => `${r.name} (${r.type})`).join(', ')],
    ['Outputs', p.outputs.join(', ')],
    ['Applications', p.applications],
  ]);
  const inputs = p.fields.length
    ? table(
        ['NAME', 'TYPE', 'DEFAULT', 'ALLOWED', 'EDITABLE', 'DESCRIPTION'],
        p.fields.map((f) => [f.name + (f.required ? ' *' : ''), f.type, showValue(f.default), allowedText(f), f.editable ? 'yes' : 'no (platform team)', f.description ?? f.title]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')
    : '  (none)';
  return [head, '', 'Inputs:', inputs, ...(p.readme ? ['', p.readme.trimEnd()] : [])].join('\n');
}

function syncSummary(r: SyncReportView): string {
  const lines = [
    `Synced ${r.source}${r.revision ? ` at ${r.revision}` : ''}: ${r.loaded} loaded, ${r.published.length} published, ${r.unchanged} unchanged, ${r.retired.length} retired, ${r.errors.length} rejected`,
  ];
  if (r.published.length) lines.push('', 'Published:', ...r.published.map((p) => `  ${p.kind} ${p.name} ${p.version}`));
  if (r.retired.length) lines.push('', 'Retired:', ...r.retired.map((p) => `  ${p.kind} ${p.name}`));
  if (r.errors.length) lines.push('', 'Errors:', ...r.errors.map((e) => `  ${errorLine(e)}`));
  return lines.join('\n');
}

/** `file:line: path: message`. */
const errorLine = (e: SyncReportView['errors'][number]) => `${e.file}${e.line === null ? '' : `:${e.line}`}: ${e.path ? `${e.path}: ` : ''}${e.message}`;

function objectTable(kind: PlatformObjectKind, items: PlatformObject[]): string {
  const spec = (o: PlatformObject) => o.spec as Record<string, unknown>;
  switch (kind) {
    case 'ResourceType':
      return table(
        ['NAME', 'VERSION', 'OUTPUTS', 'DESCRIPTION'],
        items.map((o) => {
          const outputs = (spec(o).outputs ?? {}) as Record<string, { secret?: boolean }>;
          return [o.name, o.version, Object.entries(outputs).map(([k, v]) => (v.secret ? `${k} (secret)` : k)).join(', '), spec(o).description as string | undefined];
        }),
      );
    case 'ResourceDefinition':
      return table(
        ['NAME', 'VERSION', 'TYPE', 'DRIVER', 'CRITERIA', 'SOURCE'],
        items.map((o) => {
          const criteria = (spec(o).criteria ?? []) as Record<string, unknown>[];
          const shown = criteria.map((c) => Object.entries(c).map(([k, v]) => `${k}=${showValue(v)}`).join(',') || '*').join(' | ') || '*';
          return [o.name, o.version, spec(o).type as string, spec(o).driver as string, shown, o.source];
        }),
      );
    case 'TeamProfile':
      return table(
        ['NAME', 'VERSION', 'TEAM', 'DEFAULT TEMPLATE', 'ENVIRONMENT TYPES'],
        items.map((o) => [o.name, o.version, spec(o).team as string, spec(o).defaultTemplate as string | undefined, Object.keys((spec(o).environments ?? {}) as object).join(', ')]),
      );
  }
}

/** `pave platform secrets list|set|delete`: values go in, never out. */
function secretsCommand(): Command {
  const group = new Command('secrets').description('Manage platform secrets, which resource definitions reference as {secretRef: NAME} (admins)');

  withOutput(group.command('list', { isDefault: true }).alias('ls').description('List platform secrets (names only, never values)')).action(
    async (o: OutputOpts, cmd: Command) => {
      const { items } = await goldenFor(cmd).secrets();
      await render(o.output, { items }, () => (items.length ? table(['NAME', 'UPDATED', 'UPDATED BY'], items.map((s) => [s.name, s.updatedAt, s.updatedBy])) : 'No platform secrets.'));
    },
  );

  withOutput(
    group
      .command('set')
      .argument('<name>', 'secret name, e.g. prod-postgres-admin')
      .description('Set a platform secret (stored encrypted); the value comes from --value, --from-env, or stdin')
      .option('--value <value>', 'the value (visible in your shell history and process list: prefer --from-env or stdin)')
      .option('--from-env <var>', 'read the value from this environment variable'),
  ).action(async (name: string, o: OutputOpts & { value?: string; fromEnv?: string }, cmd: Command) => {
    if (o.value !== undefined && o.fromEnv !== undefined) throw new CliError('give the value with one of --value, --from-env or stdin, not several', 2);
    let value: string;
    if (o.value !== undefined) value = o.value;
    else if (o.fromEnv !== undefined) {
      const v = process.env[o.fromEnv];
      if (v === undefined) throw new CliError(`environment variable ${o.fromEnv} is not set`, 2);
      value = v;
    } else {
      if (process.stdin.isTTY) info('Type the value, then press Enter and Ctrl-D:');
      value = (await text(process.stdin)).replace(/\r?\n$/, '');
    }
    if (value === '') throw new CliError('the value is empty; nothing was stored', 2);
    await goldenFor(cmd).setSecret(name, value);
    await render(o.output, { name, set: true }, () => `Set platform secret ${name} (stored encrypted).`);
  });

  withOutput(
    group.command('delete').alias('rm').argument('<name>', 'secret name').description('Delete a platform secret').option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)'),
  ).action(async (name: string, o: OutputOpts & { yes?: boolean }, cmd: Command) => {
    await confirmOrRefuse(o.yes, `Delete platform secret ${name}? Resource definitions that reference it stop working.`);
    await goldenFor(cmd).deleteSecret(name);
    await render(o.output, { deleted: name }, () => `Deleted platform secret ${name}.`);
  });

  return group;
}
