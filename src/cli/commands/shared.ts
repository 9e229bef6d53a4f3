import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { PaveClient } from '../client.ts';
import { resolveConnection } from '../config.ts';
import { CliError, FORMATS, type Format } from '../output.ts';

/** Helpers every command group uses: the -o option, the API client of the chosen context, parsers. */

export interface OutputOpts {
  output: Format;
}

export function withOutput(cmd: Command): Command {
  return cmd.addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS).default('table'));
}

/** The client for the context chosen with --context / $PAVE_CONTEXT / the current one, or $PAVE_URL + $PAVE_TOKEN. */
export function clientFor(cmd: Command): PaveClient {
  const { context } = cmd.optsWithGlobals<{ context?: string }>();
  const conn = resolveConnection(context);
  return new PaveClient(conn.url, conn.token);
}

/** For repeatable options: `--tag a --tag b` → ['a', 'b']. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return n;
  };
}

/** `key=value` pairs → a record. */
export function pairs(values: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!values) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new CliError(`${flag} takes key=value; got "${v}"`, 2);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/**
 * `URL[=title]` → a link. A `=` inside the URL's query (`?a=b`) is part of the URL; a title goes after
 * the last one: `https://x/?a=b=Docs`.
 */
export function parseLink(value: string): { url: string; title?: string } {
  const i = value.lastIndexOf('=');
  if (i > 0) {
    const left = value.slice(0, i);
    const query = left.includes('?') ? left.slice(left.indexOf('?') + 1) : undefined;
    const lastParam = query?.split('&').pop() ?? '';
    if (query === undefined || lastParam.includes('=')) {
      const title = value.slice(i + 1);
      return title ? { url: left, title } : { url: left };
    }
  }
  return { url: value };
}

/** Asks a yes/no question on the terminal; only when stdin is a TTY. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Refuses destructive commands without --yes unless a person at a terminal confirms. */
export async function confirmOrRefuse(yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new CliError('refusing to delete without --yes: stdin is not a terminal, so there is no one to confirm', 2);
  if (!(await confirm(question))) throw new CliError('aborted; nothing was deleted');
}

/** Drops undefined fields, so a PATCH only carries what the user gave. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
