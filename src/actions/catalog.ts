import type { ManagedApplication } from '../applications/service.ts';
import type { Action } from '../platform/schema.ts';

/**
 * The actions an application offers: its template's, and each attached add-on's (only where the
 * add-on is attached). An add-on's resources are named in the application's graph after the
 * instance (`cache`, or `cache-<resource>` when the add-on has several); its actions are rewritten to
 * those names here, so that the runner only ever sees the application's own resource names.
 */
export interface AvailableAction {
  /** What to run it by: the action's id, or `<add-on instance>:<id>` when two sources offer the same id. */
  key: string;
  id: string;
  title: string;
  description: string | null;
  parameters: Action['parameters'];
  environments: string[];
  role: Action['role'];
  confirm: Action['confirm'];
  timeoutMs: number;
  kind: 'operation' | 'http' | 'command' | 'lifecycle';
  /** e.g. `template node-service@1.0.0` or `add-on redis@1.0.0 as cache`. */
  source: string;
  addon: string | null;
  run: Action['run'];
  /** `${resources.<name>.*}` names of the action's source mapped to the application's resource names. */
  resourceNames: Record<string, string>;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
export const durationMs = (d: string) => Number(d.slice(0, -1)) * UNIT_MS[d.slice(-1) as keyof typeof UNIT_MS];

const kindOf = (run: Action['run']): AvailableAction['kind'] => (run.operation ? 'operation' : run.http ? 'http' : run.command !== undefined ? 'command' : 'lifecycle');

export function actionsOf(app: ManagedApplication): AvailableAction[] {
  const out: AvailableAction[] = [];
  const t = app.template;
  const workloadNames = Object.keys(app.workload.resources ?? {});
  for (const a of t.spec.actions ?? []) {
    out.push(available(a, `template ${t.metadata.name}@${t.metadata.version}`, null, Object.fromEntries(workloadNames.map((n) => [n, n]))));
  }
  for (const addon of app.addons) {
    const own = Object.keys(addon.addon.spec.resources);
    const names = Object.fromEntries(own.map((n) => [n, own.length === 1 ? addon.name : `${addon.name}-${n}`]));
    for (const a of addon.addon.spec.actions ?? []) out.push(available(a, `add-on ${addon.addon.metadata.name}@${addon.addon.metadata.version} as ${addon.name}`, addon.name, names));
  }
  // an id offered twice (two add-on instances, or an add-on and the template) is run by <instance>:<id>
  const count = new Map<string, number>();
  for (const a of out) count.set(a.id, (count.get(a.id) ?? 0) + 1);
  for (const a of out) if (a.addon && count.get(a.id)! > 1) a.key = `${a.addon}:${a.id}`;
  return out;
}

function available(a: Action, source: string, addon: string | null, resourceNames: Record<string, string>): AvailableAction {
  const run = a.run.operation ? { ...a.run, operation: { ...a.run.operation, resource: resourceNames[a.run.operation.resource] ?? a.run.operation.resource } } : a.run;
  return {
    key: a.id, id: a.id, title: a.title, description: a.description ?? null, parameters: a.parameters, environments: a.environments, role: a.role, confirm: a.confirm,
    timeoutMs: durationMs(a.timeout), kind: kindOf(a.run), source, addon, run, resourceNames,
  };
}

/** Finds an action by key, by `<instance>:<id>`, or by id when only one source offers it. */
export function findAction(list: AvailableAction[], key: string): AvailableAction | undefined {
  return list.find((a) => a.key === key) ?? list.find((a) => a.addon !== null && `${a.addon}:${a.id}` === key);
}
