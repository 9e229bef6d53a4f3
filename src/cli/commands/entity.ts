import { Command } from 'commander';
import type { Entity, EntityKind } from '../../contracts/catalog.ts';
import { ApiError, type KindBodies, type KindPath, type PaveClient } from '../client.ts';
import { CliError, render } from '../output.ts';
import { COLUMNS, entityDetails } from '../render.ts';
import { addListOptions, runList, type ListOpts } from './list.ts';
import { clientFor, collect, compact, confirmOrRefuse, pairs, parseLink, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave teams|users|apps list|show|create|edit|delete`: one builder, with each kind adding its own
 * flags (`options`) and turning them into the fields of its create/update schema (`body`).
 */

export type Mode = 'create' | 'edit';

/** Flags every writable kind has (the contracts' common metadata). */
export interface CommonOpts extends OutputOpts {
  namespace?: string;
  title?: string;
  description?: string;
  tag?: string[];
  link?: string[];
  label?: string[];
  annotation?: string[];
}

export interface KindSpec<K extends KindPath, O> {
  command: string;
  path: K;
  kind: EntityKind;
  noun: string;
  plural: string;
  options(cmd: Command, mode: Mode): void;
  body(opts: O & CommonOpts): KindBodies[K]['update'];
}

const LIST_FLAGS_NOTE = 'Repeatable flags (--tag, --link, …) replace the whole list.';

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--namespace <namespace>', 'namespace (default "default")')
    .option('--title <title>', 'display title')
    .option('--description <text>', 'description')
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .option('--link <url[=title]>', 'link, optionally titled (repeatable)', collect)
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--annotation <key=value>', 'annotation (repeatable)', collect);
}

function commonBody(o: CommonOpts) {
  return compact({
    title: o.title,
    description: o.description,
    tags: o.tag,
    links: o.link?.map(parseLink),
    labels: pairs(o.label, '--label'),
    annotations: pairs(o.annotation, '--annotation'),
  });
}

/** `ns/name` or `name` (with --namespace). */
export function splitName(arg: string, namespace: string | undefined): { namespace: string; name: string } {
  const i = arg.indexOf('/');
  return i > 0 ? { namespace: arg.slice(0, i), name: arg.slice(i + 1) } : { namespace: namespace ?? 'default', name: arg };
}

export function entityCommand<K extends KindPath, O>(spec: KindSpec<K, O>): Command {
  const group = new Command(spec.command).description(`Manage ${spec.plural}`);
  const refOf = (ns: string, name: string) => `${spec.kind}:${ns}/${name}`.toLowerCase();

  addListOptions(group.command('list').alias('ls').description(`List ${spec.plural}`)).action(async (o: ListOpts, cmd: Command) => {
    const client = clientFor(cmd);
    await runList(o, (q) => client.list(spec.path, q), COLUMNS[spec.kind]!, spec.plural, `pave ${spec.command} list`);
  });

  withOutput(group.command('show').argument('<name>', `${spec.noun} name, or namespace/name`).description(`Show ${article(spec.noun)} with its relations`))
    .option('--namespace <namespace>', 'namespace (default "default")')
    .action(async (arg: string, o: OutputOpts & { namespace?: string }, cmd: Command) => {
      const { namespace, name } = splitName(arg, o.namespace);
      const e = await clientFor(cmd).get(spec.path, name, namespace);
      await render(o.output, e, () => entityDetails(e));
    });

  const create = group.command('create').argument('<name>', `${spec.noun} name`).description(`Create ${article(spec.noun)}`);
  addCommonOptions(create);
  spec.options(create, 'create');
  withOutput(create).action(async (arg: string, o: O & CommonOpts, cmd: Command) => {
    const { namespace, name } = splitName(arg, o.namespace);
    const body = { name, namespace, ...commonBody(o), ...spec.body(o) } as KindBodies[K]['create'];
    const e = await clientFor(cmd).create(spec.path, body);
    await render(o.output, e, () => `Created ${e.ref} (version ${e.version})`);
  });

  const edit = group
    .command('edit')
    .argument('<name>', `${spec.noun} name, or namespace/name`)
    .description(`Change fields of ${article(spec.noun)} (reads it, then writes with If-Match). ${LIST_FLAGS_NOTE}`);
  addCommonOptions(edit);
  spec.options(edit, 'edit');
  edit.option('--if-match <version>', 'only change it if it is still at this version (default: the version just read)', positiveInt('--if-match'));
  withOutput(edit).action(async (arg: string, o: O & CommonOpts & { ifMatch?: number }, cmd: Command) => {
    const { namespace, name } = splitName(arg, o.namespace);
    const patch = { ...commonBody(o), ...spec.body(o) } as KindBodies[K]['update'];
    if (Object.keys(patch).length === 0) throw new CliError(`nothing to change: give at least one field flag (see "pave ${spec.command} edit --help")`, 2);
    const { entity: e, changed } = await editEntity(clientFor(cmd), spec.path, refOf(namespace, name), name, namespace, patch, o.ifMatch);
    await render(o.output, e, () => (changed ? `Updated ${e.ref} (version ${e.version})` : `No change: ${e.ref} already had these values (version ${e.version})`));
  });

  const del = group
    .command('delete')
    .alias('rm')
    .argument('<name>', `${spec.noun} name, or namespace/name`)
    .description(`Delete ${article(spec.noun)}`)
    .option('--namespace <namespace>', 'namespace (default "default")')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)');
  withOutput(del).action(async (arg: string, o: OutputOpts & { namespace?: string; yes?: boolean }, cmd: Command) => {
    const { namespace, name } = splitName(arg, o.namespace);
    const ref = refOf(namespace, name);
    await confirmOrRefuse(o.yes, `Delete ${ref}?`);
    await clientFor(cmd).remove(spec.path, name, namespace);
    await render(o.output, { deleted: ref }, () => `Deleted ${ref}`);
  });

  return group;
}

/** GET (for the version), then PATCH with If-Match; a 412 becomes a plain "changed by someone else". */
export async function editEntity<K extends KindPath>(
  client: PaveClient,
  path: K,
  ref: string,
  name: string,
  namespace: string,
  patch: KindBodies[K]['update'],
  ifMatch?: number,
): Promise<{ entity: Entity; changed: boolean }> {
  const version = ifMatch ?? (await client.get(path, name, namespace)).version;
  try {
    const entity = await client.update(path, name, namespace, version, patch);
    return { entity, changed: entity.version !== version };
  } catch (err) {
    if (err instanceof ApiError && err.status === 412) {
      throw new CliError(`${ref} was changed by someone else since version ${version} was read; nothing was written. Run the command again to apply your change to the current version.`);
    }
    throw err;
  }
}

const article = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
