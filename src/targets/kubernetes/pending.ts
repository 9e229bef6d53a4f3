import { placeholdersIn, resolveWorkload, type ResolvedWorkload } from '../../workloads/placeholders.ts';
import type { ScoreWorkload } from '../../workloads/score.ts';

/**
 * Resolution for a review: a workload's placeholders resolved with the resource outputs there are, and
 * every output that is not there yet (a resource not provisioned) left as its own placeholder text,
 * e.g. `${resources.db.password}`, and counted as secret (it may be one). `pending` names them, so
 * that a rendering of it is shown, never applied.
 */
export interface RenderResolution extends ResolvedWorkload {
  pending: string[];
  /** Command and args entries that hold a secret output (the renderer passes them through a Secret). */
  secretArgs: { container: string; field: 'command' | 'args'; index: number }[];
}

function strings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((v: unknown) => strings(v, visit));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, visit));
}

export function resolveForRender(
  workload: ScoreWorkload,
  outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
  secretOutputs: Readonly<Record<string, readonly string[]>> = {},
): RenderResolution {
  const resources: Record<string, Record<string, unknown>> = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { ...v }]));
  const secrets: Record<string, Set<string>> = Object.fromEntries(Object.entries(secretOutputs).map(([k, v]) => [k, new Set(v)]));
  const pending = new Set<string>();
  const visit = (s: string) => {
    for (const p of placeholdersIn(s)) {
      const [root, name, ...keys] = p.parts;
      if (root !== 'resources' || !name || !keys.length || !(name in (workload.resources ?? {}))) continue;
      const own = (resources[name] ??= {});
      const key = keys.join('.');
      if (hasPath(own, keys)) continue;
      own[key] = p.text;
      (secrets[name] ??= new Set()).add(key);
      pending.add(p.text);
    }
  };
  for (const c of Object.values(workload.containers)) {
    strings(c.command, visit);
    strings(c.args, visit);
    strings(c.variables, visit);
    for (const f of Object.values(c.files ?? {})) if (f.content !== undefined && f.noExpand !== true) visit(f.content);
  }
  for (const r of Object.values(workload.resources ?? {})) strings(r.params, visit);
  const resolved = resolveWorkload(workload, { resources }, Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, [...v]])));
  const secretArgs: RenderResolution['secretArgs'] = [];
  const isSecret = (s: string) =>
    placeholdersIn(s).some((p) => {
      const [root, name, ...keys] = p.parts;
      return root === 'resources' && name !== undefined && keys.some((_, j) => secrets[name]?.has(keys.slice(0, j + 1).join('.')));
    });
  for (const [cname, c] of Object.entries(workload.containers)) {
    for (const field of ['command', 'args'] as const) c[field]?.forEach((v, index) => isSecret(v) && secretArgs.push({ container: cname, field, index }));
  }
  return { ...resolved, pending: [...pending], secretArgs };
}

/** Whether nested keys (or keys joined with dots, as placeholders allow) lead to a value. */
function hasPath(node: unknown, keys: string[]): boolean {
  if (!keys.length) return true;
  if (!node || typeof node !== 'object' || Array.isArray(node)) return false;
  for (let j = keys.length; j >= 1; j--) {
    const k = keys.slice(0, j).join('.');
    if (Object.hasOwn(node, k) && hasPath((node as Record<string, unknown>)[k], keys.slice(j))) return true;
  }
  return false;
}
