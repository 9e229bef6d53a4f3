import { Command } from 'commander';
import { resolveConnection } from '../config.ts';
import { ActionsClient, isFinal, type ActionRun, type RunOutputLine } from '../actions-client.ts';
import { CliError, fields, info, render, table, write, type Format } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { ENV, ms, NS, when, who, type NsOpts } from './deploy.ts';
import { withOutput } from './shared.ts';

/**
 * `pave runs list|show|logs|cancel`: the recorded runs of golden actions (who ran what, where, with
 * which parameters, how it ended, and its output). Secret parameters arrive masked from the server.
 * A run is named by its id; the 8-character short id of `runs list` works with --app.
 */

/** The actions client for the context chosen with --context / $PAVE_CONTEXT / the current one, or $PAVE_URL + $PAVE_TOKEN. */
export function actionsFor(cmd: Command): ActionsClient {
  return new ActionsClient(resolveConnection(cmd.optsWithGlobals<{ context?: string }>().context));
}

// ---- rendering --------------------------------------------------------------------------------

export const shortId = (id: string) => id.slice(0, 8);
/** `application:default/shop` → `shop`; another namespace stays: `team-x/shop`. */
export const appOfRef = (ref: string) => ref.replace(/^application:/, '').replace(/^default\//, '');

/** `path=/status/503, replicas=2` (secret values come masked from the server). */
export function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** `2026-11-21T10:00:00Z line`. */
export const runLineText = (l: RunOutputLine) => `${when(l.ts)} ${l.line}`;

/** A stored output line (`<ISO time> <line>`) back into its parts. */
export function storedLine(raw: string): RunOutputLine {
  const i = raw.indexOf(' ');
  return i < 0 ? { ts: raw, line: '' } : { ts: raw.slice(0, i), line: raw.slice(i + 1) };
}

/** A run as `Label: value` lines; with `output`, its output lines under them. */
export function runText(r: ActionRun, output?: RunOutputLine[]): string {
  const parts = [
    fields([
      ['Action', `${r.action}: ${r.title}`],
      ['Environment', `${r.environment} of ${appOfRef(r.application)}`],
      ['Status', r.status],
      ['Summary', r.summary],
      ['Error', r.error],
      ['Parameters', paramsText(r.params)],
      ['By', who(r.createdBy)],
      ['Created', when(r.createdAt)],
      ['Started', when(r.startedAt)],
      ['Duration', ms(r.durationMs)],
      ['Source', `${r.source} (${r.kind})`],
      ['Id', r.id],
    ]),
  ];
  if (output) parts.push('', output.length ? 'Output:' : 'Output: (none)', ...output.map((l) => `  ${runLineText(l)}`));
  return parts.join('\n');
}

export function runsTable(items: ActionRun[]): string {
  return table(
    ['ID', 'ACTION', 'ENV', 'STATUS', 'BY', 'STARTED', 'DURATION'],
    items.map((r) => [shortId(r.id), r.action, r.environment, r.status, who(r.createdBy), when(r.startedAt ?? r.createdAt), ms(r.durationMs)]),
  );
}

/** When a run did not succeed: why, on stderr, and exit code 1. */
export function reportRun(r: ActionRun): void {
  if (r.status === 'succeeded' || !isFinal(r)) return;
  const what = `${r.action} in ${r.environment} of ${appOfRef(r.application)}`;
  if (r.status === 'failed') info(`error: ${what} failed: ${r.error ?? 'no reason given'}`);
  else if (r.status === 'timed-out') info(`error: ${what} ${r.error ?? 'timed out'}`);
  else info(`error: ${what} was ${r.error ?? 'cancelled'}`);
  process.exitCode = 1;
}

/** Writes output lines in the chosen format: text, one JSON object per line (NDJSON), or one YAML document each. */
async function lineWriter(format: Format): Promise<(l: RunOutputLine) => void> {
  if (format === 'json') return (l) => write(JSON.stringify(l));
  if (format === 'yaml') {
    const yaml = await import('yaml');
    return (l) => write(`---\n${yaml.stringify(l, { lineWidth: 0 })}`);
  }
  return (l) => write(runLineText(l));
}

// ---- run ids ----------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type RunOpts = NsOpts & { app?: string };

/** A run's full id: given as is, or found from the start of it among the runs of --app. */
export async function resolveRunId(client: ActionsClient, value: string, o: RunOpts): Promise<string> {
  if (UUID.test(value)) return value.toLowerCase();
  if (!/^[0-9a-f-]{4,36}$/i.test(value)) throw new CliError(`"${value}" is not a run id: use the id "pave runs list <app>" shows`, 2);
  if (!o.app) throw new CliError(`"${value}" is the start of a run id: add --app <app> to find it among the application's runs, or give the whole id ("pave runs list <app> -o json")`, 2);
  const app = appRef(o.app, o.namespace);
  const { items } = await client.runs(app);
  const found = items.filter((r) => r.id.startsWith(value.toLowerCase()));
  if (found.length === 1) return found[0]!.id;
  if (found.length === 0) throw new CliError(`no recent run of ${appLabel(app)} has an id starting with ${value}`);
  throw new CliError(`${found.length} runs of ${appLabel(app)} have an id starting with ${value}: give more of it`, 2);
}

/** A command of one run: `<id>`, then --app/--namespace (for short ids) and -o. */
function oneRunCommand(command: Command, description: string): Command {
  return withOutput(
    command
      .argument('<id>', 'run id (or its start, with --app)')
      .description(description)
      .option('--app <app>', 'application of the run: lets <id> be the short id "pave runs list" shows')
      .option(...NS),
  );
}

/** The output lines of a run: the stored ones once it ended, else what it printed so far. */
export async function outputOf(client: ActionsClient, r: ActionRun): Promise<RunOutputLine[]> {
  if (isFinal(r)) return r.output.map(storedLine);
  const lines: RunOutputLine[] = [];
  await client.output(r.id, { follow: false }, (l) => lines.push(l));
  return lines;
}

// ---- commands ---------------------------------------------------------------------------------

export function runsCommand(): Command {
  const group = new Command('runs').description('Runs of golden actions: who ran what where, how it ended, and the output');

  withOutput(group.command('list').alias('ls').argument('<app>', 'application name (or namespace/name)').description('Runs of an application\'s actions, newest first').option(...ENV).option(...NS))
    .action(async (arg: string, o: NsOpts & { env?: string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const { items } = await actionsFor(cmd).runs(app, o.env);
      await render(o.output, { items }, () =>
        items.length ? runsTable(items) : `No runs of ${appLabel(app)}'s actions${o.env ? ` in ${o.env}` : ''} yet; "pave actions list ${appLabel(app)}" lists what it offers.`,
      );
    });

  oneRunCommand(group.command('show'), 'One run: who started it, its parameters, how it ended, and its output').action(async (value: string, o: RunOpts, cmd: Command) => {
    const client = actionsFor(cmd);
    const r = await client.run(await resolveRunId(client, value, o));
    const output = o.output === 'table' ? await outputOf(client, r) : undefined;
    await render(o.output, r, () => runText(r, output));
  });

  oneRunCommand(group.command('logs'), 'The output of a run, `<time> <line>`; -f follows it until the run ends')
    .option('-f, --follow', 'keep printing new lines until the run ends')
    .addHelpText('after', '\nWith -o json, each line is one JSON object (NDJSON): ts, line.')
    .action(async (value: string, o: RunOpts & { follow?: boolean }, cmd: Command) => {
      const client = actionsFor(cmd);
      const id = await resolveRunId(client, value, o);
      const out = await lineWriter(o.output);
      await client.output(id, { follow: o.follow === true }, out);
    });

  oneRunCommand(group.command('cancel'), 'Cancel a queued or running run (who started it, or an admin); answers once it stopped').action(async (value: string, o: RunOpts, cmd: Command) => {
    const client = actionsFor(cmd);
    const id = await resolveRunId(client, value, o);
    info(`Cancelling run ${shortId(id)}…`);
    const r = await client.cancel(id);
    await render(o.output, r, () => runText(r));
  });

  return group;
}
