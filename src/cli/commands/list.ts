import type { Command } from 'commander';
import type { Entity } from '../../contracts/catalog.ts';
import type { Page } from '../../contracts/common.ts';
import type { ListQuery } from '../client.ts';
import { info, render, table, type Cell } from '../output.ts';
import { compact, positiveInt, withOutput, type OutputOpts } from './shared.ts';

/** The list options and rendering shared by `pave teams|users|apps list` and `pave catalog list`. */

export interface ListOpts extends OutputOpts {
  owner?: string;
  type?: string;
  lifecycle?: string;
  tag?: string;
  system?: string;
  namespace?: string;
  search?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
  kind?: string[];
}

export function addListOptions(cmd: Command): Command {
  return withOutput(
    cmd
      .option('--owner <team>', 'owned by this team (name or ref)')
      .option('--type <type>', 'of this type (service, website, library, team, …)')
      .option('--lifecycle <lifecycle>', 'in this lifecycle (experimental, production, deprecated, …)')
      .option('--tag <tag>', 'carrying this tag')
      .option('--system <system>', 'part of this system (name or ref)')
      .option('--namespace <namespace>', 'in this namespace')
      .option('-q, --search <text>', 'full-text search on name, title, description and tags')
      .option('--limit <n>', 'page size, 1 to 500 (default 50)', positiveInt('--limit', 500))
      .option('--cursor <cursor>', 'continue from a previous page')
      .option('--all', 'follow the cursors and list every match'),
  );
}

export function queryOf(o: ListOpts): ListQuery {
  return compact({
    owner: o.owner, type: o.type, lifecycle: o.lifecycle, tag: o.tag, system: o.system, namespace: o.namespace,
    q: o.search, limit: o.limit ?? (o.all ? 500 : undefined), cursor: o.cursor,
  }) as ListQuery;
}

/** Fetches one page (or all with --all) and prints it; `-o json|yaml` prints `{items, nextCursor}`. */
export async function runList(
  o: ListOpts,
  fetchPage: (q: ListQuery) => Promise<Page<Entity>>,
  columns: { headers: string[]; row(e: Entity): Cell[] },
  noun: string,
  again: string,
): Promise<void> {
  const query = queryOf(o);
  const items: Entity[] = [];
  let next: string | null = null;
  let cursor = query.cursor;
  do {
    const page = await fetchPage(compact({ ...query, cursor }) as ListQuery);
    items.push(...page.items);
    next = page.nextCursor;
    cursor = next ?? undefined;
  } while (o.all && cursor);
  await render(o.output, { items, nextCursor: next }, () => (items.length ? table(columns.headers, items.map((e) => columns.row(e))) : ''));
  if (o.output !== 'table') return;
  if (items.length === 0) info(`No ${noun} found.`);
  if (next) info(`More ${noun}: add --cursor ${next} (or --all) to "${again}".`);
}
