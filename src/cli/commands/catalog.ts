import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Command, InvalidArgumentError } from 'commander';
import type { EntityKind, ImportResult } from '../../contracts/catalog.ts';
import { findFiles, importFiles } from '../importer.ts';
import { CliError, info, render, table, write } from '../output.ts';
import { COLUMNS, entityDetails } from '../render.ts';
import { addListOptions, runList, type ListOpts } from './list.ts';
import { clientFor, withOutput, type OutputOpts } from './shared.ts';

/** `pave catalog import|export|list|show`: the whole catalog, any kind, and Backstage descriptors. */

/** The contracts' ENTITY_KINDS (kept here so the CLI does not load zod at start-up), plus Backstage's names. */
const KINDS = ['team', 'user', 'application', 'system', 'domain', 'api', 'resource'] as const satisfies readonly EntityKind[];
const BACKSTAGE: Record<string, EntityKind> = { group: 'team', component: 'application' };

const KIND_CHOICES = `${KINDS.join(', ')} (or Backstage's group, component)`;
const kindOf = (value: string): EntityKind | undefined => BACKSTAGE[value.toLowerCase()] ?? KINDS.find((x) => x === value.toLowerCase());

export function parseKind(value: string): EntityKind {
  const kind = kindOf(value);
  if (!kind) throw new InvalidArgumentError(`must be one of ${KIND_CHOICES}.`);
  return kind;
}
const collectKind = (v: string, prev: EntityKind[] | undefined) => [...(prev ?? []), parseKind(v)];

/** `kind:namespace/name` or `kind:name` → its parts. */
export function parseEntityRef(input: string): { kind: EntityKind; namespace: string; name: string } {
  const m = /^([A-Za-z]+):(?:([a-z0-9-]+)\/)?([^/]+)$/.exec(input);
  if (!m) throw new CliError(`"${input}" is not a reference: use KIND:NAMESPACE/NAME, e.g. application:default/checkout`, 2);
  const kind = kindOf(m[1]!);
  if (!kind) throw new CliError(`unknown kind "${m[1]}" in "${input}": use one of ${KIND_CHOICES}`, 2);
  return { kind, namespace: m[2] ?? 'default', name: m[3]! };
}

export function catalogCommand(): Command {
  const group = new Command('catalog').description('Import, export, list and show catalog entities of any kind');

  withOutput(
    group
      .command('import')
      .argument('<path...>', 'descriptor files, or folders to search for *.yaml / *.yml')
      .description('Import Backstage catalog-info.yaml descriptors (exit code 1 when a document fails)')
      .option('--dry-run', 'validate and report without writing'),
  ).action(async (paths: string[], o: OutputOpts & { dryRun?: boolean }, cmd: Command) => {
    const client = clientFor(cmd);
    const files = await findFiles(paths);
    if (files.length === 0) throw new CliError(`no *.yaml or *.yml files in ${paths.join(', ')}`);
    const result = await importFiles(client, files, o.dryRun === true, progressReporter());
    await render(o.output, result, () => summary(result, files.length));
    if (result.failed > 0) process.exitCode = 1;
  });

  withOutput(
    group
      .command('export')
      .description('Export the catalog as multi-document Backstage YAML')
      .option('-f, --file <file>', 'write to this file instead of stdout')
      .option('--kind <kind>', 'only this kind (repeatable)', collectKind)
      .option('--owner <team>', 'only entities owned by this team')
      .option('--namespace <namespace>', 'only this namespace'),
  ).action(async (o: OutputOpts & { file?: string; kind?: EntityKind[]; owner?: string; namespace?: string }, cmd: Command) => {
    const res = await clientFor(cmd).exportCatalog({
      ...(o.kind ? { kind: o.kind } : {}), ...(o.owner ? { owner: o.owner } : {}), ...(o.namespace ? { namespace: o.namespace } : {}),
    });
    if (o.output === 'json') {
      const { parseAllDocuments } = await import('yaml');
      const json = JSON.stringify(parseAllDocuments(await res.text()).map((d) => d.toJS() as unknown), null, 2) + '\n';
      if (o.file) await writeFile(o.file, json);
      else write(json);
    } else if (res.body) {
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      if (o.file) await pipeline(body, createWriteStream(o.file));
      else await pipeline(body, process.stdout, { end: false });
    }
    if (o.file) info(`Wrote ${o.file}`);
  });

  const list = group.command('list').alias('ls').description('List and search entities of any kind');
  list.option('--kind <kind>', 'only this kind (repeatable)', collectKind);
  addListOptions(list).action(async (o: ListOpts & { kind?: EntityKind[] }, cmd: Command) => {
    const client = clientFor(cmd);
    await runList(o, (q) => client.listEntities({ ...q, ...(o.kind ? { kind: o.kind } : {}) }), COLUMNS.entity!, 'entities', 'pave catalog list');
  });

  withOutput(group.command('show').argument('<ref>', 'KIND:NAMESPACE/NAME, or KIND:NAME in the default namespace').description('Show any entity with its relations')).action(
    async (ref: string, o: OutputOpts, cmd: Command) => {
      const { kind, namespace, name } = parseEntityRef(ref);
      const e = await clientFor(cmd).getEntity(kind, namespace, name);
      await render(o.output, e, () => entityDetails(e));
    },
  );

  return group;
}

/** Progress on stderr: one updating line at a terminal, plain lines otherwise. */
function progressReporter(): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  return (done, total) => {
    if (tty) process.stderr.write(`\rImporting ${total} files… ${done}/${total}${done === total ? '\n' : ''}`);
    else if (done === 0) info(`Importing ${total} files…`);
    else info(`${done}/${total} files sent`);
  };
}

const UNRESOLVED_SHOWN = 20;

/** Counts, then every error as `file#document: path: message`, then the first unresolved relations. */
function summary(r: ImportResult, files: number): string {
  const lines = [
    `${r.dryRun ? 'Dry run (nothing was written)' : 'Imported'}: ${files} files`,
    table(['', ''], [
      ['created', r.created], ['updated', r.updated], ['unchanged', r.unchanged],
      ['failed', r.failed], ['skipped', r.skipped], ['unresolved', r.unresolvedCount],
    ]).split('\n').slice(1).map((l) => `  ${l}`).join('\n'),
  ];
  if (r.errors.length) {
    lines.push('', 'Errors:');
    for (const e of r.errors) lines.push(`  ${e.location}#${e.document}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
  }
  if (r.unresolved.length) {
    lines.push('', 'Unresolved relations (targets not in the catalog):');
    for (const u of r.unresolved.slice(0, UNRESOLVED_SHOWN)) lines.push(`  ${u.source} ${u.type} ${u.target}`);
    if (r.unresolvedCount > UNRESOLVED_SHOWN) lines.push(`  … and ${r.unresolvedCount - UNRESOLVED_SHOWN} more (see -o json)`);
  }
  return lines.join('\n');
}
