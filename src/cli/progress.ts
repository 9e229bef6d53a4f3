import type { ApplyResultView, Resource, ResourceEventView } from '../contracts/golden.ts';
import { table } from './output.ts';

/** How resource work looks: live progress lines on stderr, and resources as tables. */

export const seconds = (ms: number) => (ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The text of one event after `  name (type) `. */
export function phaseText(e: ResourceEventView, ms: number | undefined): string {
  const took = ms === undefined ? '' : ` in ${seconds(ms)}`;
  switch (e.phase) {
    case 'provisioning':
      return `provisioning…${e.detail ? ` (${e.detail})` : ''}`;
    case 'deleting':
      return 'deleting…';
    case 'ready':
      return `ready${took}`;
    case 'deleted':
      return `deleted${took}`;
    case 'unchanged':
      return 'unchanged';
    case 'failed':
      return `failed${took}: ${e.detail ?? 'no reason given'}`;
    case 'skipped':
      return `skipped: ${e.detail ?? 'a resource it depends on is not ready'}`;
  }
}

const STARTS = new Set(['provisioning', 'deleting']);

/**
 * Prints resource events on stderr as they arrive, one line each: `  db (postgres) provisioning…`, then
 * `  db (postgres) ready in 0.3 s`. At a terminal, a resource's result completes its `provisioning…`
 * line when nothing else was printed in between.
 */
export function progressPrinter(out: { write(s: string): unknown; isTTY?: boolean } = process.stderr): { event(e: ResourceEventView, live?: boolean): void; end(): void } {
  const started = new Map<string, number>();
  let open: string | null = null;
  const close = () => {
    if (open !== null) out.write('\n');
    open = null;
  };
  return {
    event(e, live = true) {
      const key = `${e.resource}\u0000${e.type}`;
      const now = Date.now();
      if (STARTS.has(e.phase)) started.set(key, now);
      const since = started.get(key);
      // Durations the server did not give are measured here, when the events arrive as they happen.
      const ms = e.ms ?? (!live || STARTS.has(e.phase) || since === undefined ? undefined : now - since);
      const label = `  ${e.resource} (${e.type})`;
      if (out.isTTY && open === key && !STARTS.has(e.phase)) {
        out.write(` ${phaseText(e, ms)}\n`);
        open = null;
        return;
      }
      close();
      if (out.isTTY && STARTS.has(e.phase)) {
        out.write(`${label} ${e.phase === 'provisioning' ? 'provisioning…' : 'deleting…'}`);
        open = key;
      } else out.write(`${label} ${phaseText(e, ms)}\n`);
    },
    end: close,
  };
}

/** `k=v, k=v` of a resource's outputs (secret ones arrive masked from the server). */
export function outputsText(outputs: Record<string, unknown>): string {
  return Object.entries(outputs)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** Resources with their state and outputs, or their error. */
export function resourceTable(items: Resource[]): string {
  return table(
    ['NAME', 'TYPE', 'CLASS', 'STATE', 'DEFINITION', 'OUTPUTS'],
    items.map((r) => [
      r.name, r.type, r.class, r.status,
      r.definition ? `${r.definition} ${r.definitionVersion ?? ''}`.trim() : null,
      r.error ? `error: ${r.error}` : outputsText(r.outputs),
    ]),
  );
}

/** The one-line summary of an apply (or a deletion): counts per final phase. */
export function applySummary(r: ApplyResultView): string {
  const counts = new Map<string, number>();
  for (const e of r.events) if (!STARTS.has(e.phase)) counts.set(e.phase, (counts.get(e.phase) ?? 0) + 1);
  const parts = [...counts].map(([phase, n]) => `${n} ${phase}`);
  return parts.length ? parts.join(', ') : 'nothing to do';
}

/** `error: <resource>: <error>` lines, for stderr. */
export const failureLines = (r: ApplyResultView) => r.failed.map((f) => `error: ${f.resource}: ${f.error}`);
