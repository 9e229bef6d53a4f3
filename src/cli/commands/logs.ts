import { Command, InvalidArgumentError } from 'commander';
import type { LogLine } from '../deploy-client.ts';
import { write, type Format } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { appCommand, deployFor, selector, when, type EnvOpts } from './deploy.ts';

/**
 * `pave logs`: the log lines of an environment's processes, `<time> <type>.<replica> #<deployment> | line`,
 * with -f following new lines until Ctrl-C. Lines go to stdout (they are what was asked for).
 */

function lineCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 10_000) throw new InvalidArgumentError('must be a whole number from 0 to 10000.');
  return Number(value);
}

/** `2026-11-21T10:00:00Z web.0 #3 | line`; lines Pave wrote itself (starts, exits) are marked `[pave]`. */
export function logLineText(l: LogLine, deployment: string | null): string {
  const proc = l.type ? `${l.type}.${l.replica ?? 0}` : '-';
  return `${when(l.ts)} ${proc}${deployment ? ` ${deployment}` : ''} | ${l.stream === 'system' ? '[pave] ' : ''}${l.line}`;
}

/** Writes log lines in the chosen format: text, one JSON object per line (NDJSON), or one YAML document each. */
export async function logWriter(format: Format): Promise<(l: LogLine, text: () => string) => void> {
  if (format === 'json') return (l) => write(JSON.stringify(l));
  if (format === 'yaml') {
    const yaml = await import('yaml');
    return (l) => write(`---\n${yaml.stringify(l, { lineWidth: 0 })}`);
  }
  return (_l, text) => write(text());
}

export function logsCommand(): Command {
  return appCommand(new Command('logs'), 'Log lines of an environment\'s running deployments (or one), with process type and deployment; -f follows until Ctrl-C')
    .option('-f, --follow', 'keep printing new lines as they come, until Ctrl-C')
    .option('--tail <n>', 'how many earlier lines to print first (default 100)', lineCount)
    .option('--deployment <deployment>', 'only this deployment (number or id), also when it is stopped', selector)
    .addHelpText('after', '\nWith -o json, each line is one JSON object (NDJSON): ts, deployment (id), type, replica, stream, line.')
    .action(async (arg: string, o: EnvOpts & { follow?: boolean; tail?: number; deployment?: number | string }, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const client = deployFor(cmd);
      // Deployment ids are shown as their numbers; a deployment started while following is looked up once.
      const numbers = new Map<string, number>();
      const asked = new Set<string>();
      const lookup = async () => {
        const { items } = await client.deployments(app, o.env);
        for (const d of items) numbers.set(d.id, d.number);
      };
      await lookup().catch(() => undefined);
      const label = (id: string | undefined) => {
        if (!id) return null;
        const n = numbers.get(id);
        if (n !== undefined) return `#${n}`;
        if (!asked.has(id)) {
          asked.add(id);
          void lookup().catch(() => undefined);
        }
        return id.slice(0, 8);
      };
      const out = await logWriter(o.output);
      let count = 0;
      await client.logs(app, o.env, { follow: o.follow === true, ...(o.tail === undefined ? {} : { tail: o.tail }), ...(o.deployment === undefined ? {} : { deployment: o.deployment }) }, (l) => {
        count++;
        out(l, () => logLineText(l, label(l.deployment)));
      });
      if (count === 0 && !o.follow && o.output === 'table') process.stderr.write(`No log lines in ${o.env} of ${appLabel(app)}${o.deployment === undefined ? ' (nothing is running there)' : ` for deployment ${o.deployment}`}.\n`);
    });
}
