import { expandInputs, isScoreStringField } from '../platform/placeholders.ts';
import type { AddOn } from '../platform/schema.ts';
import type { DesiredResource } from '../resources/types.ts';
import type { ScoreWorkload } from '../workloads/score.ts';
import { resourceRequirements } from '../workloads/requirements.ts';

/**
 * The resource graph an application asks for in an environment: the resources of its Score workload,
 * plus those of each attached add-on. An add-on instance with one resource contributes a node named
 * after the instance (`db`); with several, `<instance>-<resource>`. The add-on's outputs become
 * environment variables of the workload, with `${resources.<node>.<output>}` left to resolve once the
 * resources are provisioned.
 */
export interface AttachedAddOn {
  /** Instance name, e.g. `db`. */
  name: string;
  addon: AddOn;
  inputs: Record<string, unknown>;
}

export interface DesiredGraph {
  resources: DesiredResource[];
  /** Environment variables each add-on instance injects, as templates over resource outputs. */
  variables: Record<string, string>;
}

export class DesiredGraphError extends Error {}

const RESOURCE_REF = /(?<!\$)\$\{resources\.([a-z0-9-]+)\./g;

function renameRefs(value: unknown, names: Map<string, string>): unknown {
  if (typeof value === 'string') return value.replace(RESOURCE_REF, (m, n: string) => (names.has(n) ? `\${resources.${names.get(n)}.` : m));
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, names));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameRefs(v, names)]));
  return value;
}

function refsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const m of value.matchAll(RESOURCE_REF)) out.add(m[1]!);
  else if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => refsIn(v, out));
  return out;
}

/** A template's workload with its inputs filled in and the application's name set. */
export function workloadFromTemplate(workload: Record<string, unknown>, inputs: Record<string, unknown>, name: string): Record<string, unknown> {
  const expanded = expandInputs(workload, inputs, { stringAt: isScoreStringField, path: 'workload' }) as Record<string, unknown>;
  return { ...expanded, metadata: { ...((expanded.metadata as Record<string, unknown>) ?? {}), name } };
}

export function desiredGraph(application: string, workload: ScoreWorkload, addons: AttachedAddOn[]): DesiredGraph {
  const resources: DesiredResource[] = resourceRequirements(workload).map((r) => ({
    name: r.name, type: r.type, class: r.class, id: r.id, params: r.params, dependsOn: r.dependsOn, origin: 'workload',
  }));
  const taken = new Map(resources.map((r) => [r.name, 'the workload']));
  const variables: Record<string, string> = {};
  for (const a of addons) {
    const origin = `addon:${a.addon.metadata.name}@${a.addon.metadata.version}#${a.name}`;
    const own = Object.keys(a.addon.spec.resources);
    const names = new Map(own.map((n) => [n, own.length === 1 ? a.name : `${a.name}-${n}`]));
    for (const [resName, res] of Object.entries(a.addon.spec.resources)) {
      const node = names.get(resName)!;
      const by = taken.get(node);
      if (by) throw new DesiredGraphError(`add-on ${a.name} needs a resource named ${node}, which ${by} already uses; attach the add-on under another name`);
      taken.set(node, `add-on ${a.name}`);
      const expanded = expandInputs({ class: res.class ?? 'default', params: res.params ?? {} }, a.inputs, { path: `addons.${a.name}.resources.${resName}`, final: false }) as { class: unknown; params: Record<string, unknown> };
      const params = renameRefs(expanded.params, names) as Record<string, unknown>;
      resources.push({
        name: node, type: res.type, class: String(expanded.class), id: res.id ?? `${application}.${node}`, params,
        dependsOn: [...refsIn(params)].sort(), origin,
      });
    }
    const outputs = renameRefs(expandInputs(a.addon.spec.outputs, a.inputs, { path: `addons.${a.name}.outputs`, stringAt: () => true }), names) as Record<string, string>;
    for (const [k, v] of Object.entries(outputs)) {
      if (k in variables) throw new DesiredGraphError(`add-ons ${a.name} and another both set the variable ${k}`);
      variables[k] = v;
    }
  }
  return { resources, variables };
}
