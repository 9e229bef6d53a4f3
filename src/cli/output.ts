import { ApiError, NetworkError } from './client.ts';

/** Rendering: aligned tables for people, JSON and YAML for scripts; and how errors are reported. */

export const FORMATS = ['table', 'json', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

/** A failure of the CLI itself (usage, local files, refusals): printed as `error: message`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function write(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
}

export function info(text: string): void {
  process.stderr.write(text + '\n');
}

/** Prints `data` as JSON or YAML, or calls `table` for the human rendering. (yaml loads only when needed.) */
export async function render(format: Format, data: unknown, table: () => string): Promise<void> {
  if (format === 'json') write(JSON.stringify(data, null, 2));
  else if (format === 'yaml') write((await import('yaml')).stringify(data, { lineWidth: 0 }));
  else write(table());
}

export type Cell = string | number | boolean | null | undefined;

const cell = (v: Cell) => (v === null || v === undefined || v === '' ? '-' : String(v));

/** Aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length))).join('  ').trimEnd())
    .join('\n');
}

/** `Label:  value` lines, aligned; empty values are left out. */
export function fields(pairs: [string, Cell][]): string {
  const shown = pairs.filter(([, v]) => v !== null && v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${(k + ':').padEnd(width)}  ${String(v)}`).join('\n');
}

/** Lines for stderr describing `err`: `error: <detail>` then one line per field error. */
export function describeError(err: unknown): string[] {
  if (err instanceof ApiError) {
    const lines = [`error: ${err.detail}`, ...err.errors.map((e) => `  ${e.path}: ${e.message}`)];
    if (err.status === 401) lines.push('hint: the server rejected the token; run "pave login" again, or check PAVE_TOKEN');
    if (err.status === 403) lines.push('hint: your token lacks the permission for this');
    return lines;
  }
  if (err instanceof NetworkError || err instanceof CliError) return [`error: ${err.message}`];
  if (err instanceof Error) return [`error: ${err.message}`];
  return [`error: ${String(err)}`];
}

export function exitCodeOf(err: unknown): number {
  return err instanceof CliError ? err.exitCode : 1;
}
