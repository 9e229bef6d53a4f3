import type { AvailableAction } from '../actions/catalog.ts';
import { canonical } from '../platform/inputs.ts';

/**
 * Pure diffs of what an upgrade changes in an application: values (a workload, the variables add-ons
 * inject) as flat paths, and the actions it offers, by key.
 */
export interface ValueChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** Every leaf that differs between `a` and `b`, as dotted paths under `prefix`; arrays are compared whole. */
export function diffValues(a: unknown, b: unknown, prefix = ''): ValueChange[] {
  const out: ValueChange[] = [];
  const walk = (x: unknown, y: unknown, path: string, opened = false) => {
    if (isPlain(x) && isPlain(y)) {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
        const p = path ? `${path}.${k}` : k;
        // a new (or gone) object is shown by its members: `resources.data`, not all of `resources`
        if (!Object.hasOwn(x, k)) !opened && isPlain(y[k]) && Object.keys(y[k]).length ? walk({}, y[k], p, true) : out.push({ path: p, change: 'added', to: y[k] });
        else if (!Object.hasOwn(y, k)) !opened && isPlain(x[k]) && Object.keys(x[k]).length ? walk(x[k], {}, p, true) : out.push({ path: p, change: 'removed', from: x[k] });
        else walk(x[k], y[k], p);
      }
      return;
    }
    if (!same(x, y)) {
      if (x === undefined) out.push({ path, change: 'added', to: y });
      else if (y === undefined) out.push({ path, change: 'removed', from: x });
      else out.push({ path, change: 'changed', from: x, to: y });
    }
  };
  walk(a, b, prefix);
  return out;
}

/** The workload's diff, without its name (the application's, unchanged), and the variables add-ons inject (under `variables.`). */
export function workloadDiff(before: { workload: Record<string, unknown>; variables: Record<string, string> }, after: { workload: Record<string, unknown>; variables: Record<string, string> }): ValueChange[] {
  const strip = (w: Record<string, unknown>) => {
    const { metadata, ...rest } = w;
    const m = isPlain(metadata) ? Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'name')) : undefined;
    return m && Object.keys(m).length ? { ...rest, metadata: m } : rest;
  };
  return [...diffValues(strip(before.workload), strip(after.workload)), ...diffValues(before.variables, after.variables, 'variables')];
}

/** What an action is, for telling whether it changed (its key and source version aside). */
const actionShape = (a: AvailableAction) => ({ title: a.title, parameters: a.parameters, environments: a.environments, role: a.role, confirm: a.confirm, timeoutMs: a.timeoutMs, run: a.run });

export function actionsDiff(before: readonly AvailableAction[], after: readonly AvailableAction[]): { added: string[]; removed: string[]; changed: string[] } {
  const a = new Map(before.map((x) => [x.key, x]));
  const b = new Map(after.map((x) => [x.key, x]));
  return {
    added: [...b.keys()].filter((k) => !a.has(k)).sort(),
    removed: [...a.keys()].filter((k) => !b.has(k)).sort(),
    changed: [...b.keys()].filter((k) => a.has(k) && !same(actionShape(a.get(k)!), actionShape(b.get(k)!))).sort(),
  };
}
