import { maxSatisfying, satisfies, valid as validSemver } from 'semver';
import type { Exclusion, FleetPlanApplication, PatternKind } from '../contracts/fleet.ts';
import { canonical, validateInputs } from '../platform/inputs.ts';
import { expandInputs, PlaceholderError } from '../platform/placeholders.ts';
import type { AddOn, InputsSchema, Template } from '../platform/schema.ts';
import type { FleetAddon, FleetApp } from './inventory.ts';

/**
 * What an application becomes on another version of its template or of an add-on, computed without
 * touching anything: its inputs carried over to the new version's schema (new inputs get their
 * defaults or the plan's values; those the platform team sets get the new version's; those no longer
 * declared are dropped), the template's add-ons (a new one attached, one whose range no longer
 * matches moved to the newest matching version, one no longer declared kept), or the add-on's
 * instances moved to the new version. An application that cannot be moved automatically is refused
 * with the reason (a new required input without default, inputs the new version rejects).
 */
export interface GoldenState {
  templateVersion: string;
  inputs: Record<string, unknown>;
  addons: FleetAddon[];
}

/** Published objects, already read from the store. */
export interface Published {
  template(name: string, version: string): Template | undefined;
  addon(name: string, version: string): AddOn | undefined;
  /** Current (not retired) versions of an add-on. */
  addonVersions(name: string): string[];
}

type InputChange = FleetPlanApplication['inputs'][number];
type AddonChange = FleetPlanApplication['addons'][number];

export type NextResult =
  | { ok: true; state: GoldenState; inputs: InputChange[]; addons: AddonChange[]; instances: string[]; warnings: string[] }
  | { ok: false; code: Exclusion['code']; reason: string };

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
type Prop = { default?: unknown; user_editable?: boolean };

/** The application's inputs carried over to `schema`; `prefix` names them in changes and reasons (e.g. `db.` for an add-on instance). */
export function carryInputs(schema: InputsSchema, current: Record<string, unknown>, given: Record<string, unknown>, prefix = ''): { ok: true; value: Record<string, unknown>; changes: InputChange[] } | { ok: false; code: Exclusion['code']; reason: string } {
  const props = (schema.properties ?? {}) as Record<string, Prop>;
  const required = new Set(schema.required ?? []);
  const candidate: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(current)) if (Object.hasOwn(props, k)) candidate[k] = v;
  const platformSet = new Set<string>();
  for (const [k, p] of Object.entries(props)) {
    if (p.user_editable === false && p.default !== undefined && !same(candidate[k], p.default)) {
      candidate[k] = structuredClone(p.default);
      platformSet.add(k);
    }
    if (!Object.hasOwn(candidate, k) && Object.hasOwn(given, k)) candidate[k] = structuredClone(given[k]);
  }
  const res = validateInputs(schema, candidate, { caller: 'platform', prefix: 'inputs' });
  if (!res.ok) {
    const missing = res.errors.filter((e) => e.message === 'is required').map((e) => e.path.slice('inputs.'.length)).filter((k) => !Object.hasOwn(current, k));
    if (missing.length) {
      const names = missing.map((m) => `${prefix}${m}`);
      return { ok: false, code: 'required-input', reason: `new required input${names.length > 1 ? 's' : ''} ${names.join(', ')} ha${names.length > 1 ? 've' : 's'} no default; give ${names.length > 1 ? 'them' : 'it'} in the plan's inputs` };
    }
    return { ok: false, code: 'invalid-input', reason: `the inputs are not valid for the new version: ${res.errors.map((e) => `${prefix}${e.path.slice('inputs.'.length)}: ${e.message}`).join('; ')}` };
  }
  const value = res.value;
  const changes: InputChange[] = [];
  for (const k of [...new Set([...Object.keys(current), ...Object.keys(value)])].sort()) {
    const p = props[k];
    const base = { name: `${prefix}${k}`, required: required.has(k), ...(p?.default !== undefined ? { default: p.default } : {}) };
    if (!Object.hasOwn(value, k)) changes.push({ ...base, change: 'removed', from: current[k], why: 'no longer an input of the new version' });
    else if (!Object.hasOwn(current, k)) changes.push({ ...base, change: 'added', to: value[k], why: Object.hasOwn(given, k) ? 'new input, given in the plan' : p?.default !== undefined ? 'new input, its default' : 'new input' });
    else if (!same(current[k], value[k])) changes.push({ ...base, change: 'changed', from: current[k], to: value[k], why: platformSet.has(k) ? 'set by the platform team (user_editable: false): the new version\'s value' : 'changed' });
  }
  return { ok: true, value, changes };
}

function bestVersion(pub: Published, addon: string, range: string): string | null {
  const versions = pub.addonVersions(addon).filter((v) => validSemver(v));
  return maxSatisfying(versions, range);
}

/** The application on `version` of its template. */
export function nextForTemplate(app: FleetApp, target: Template, given: Record<string, unknown>, pub: Published): NextResult {
  const current = pub.template(app.template, app.templateVersion);
  const version = target.metadata.version!;
  const carried = carryInputs(target.spec.inputs, app.inputs, given);
  if (!carried.ok) return carried;
  const inputs = carried.value;
  const warnings: string[] = [];
  const addons: FleetAddon[] = app.addons.map((a) => ({ ...a }));
  const changes: AddonChange[] = [];
  const inputChanges = [...carried.changes];
  for (const ref of target.spec.addons) {
    let expanded: Record<string, unknown> | undefined;
    try {
      expanded = ref.inputs ? (expandInputs(ref.inputs, inputs, { final: true, path: `template.addons.${ref.name}.inputs` }) as Record<string, unknown>) : undefined;
    } catch (err) {
      if (err instanceof PlaceholderError) return { ok: false, code: 'invalid', reason: err.message };
      throw err;
    }
    const i = addons.findIndex((a) => a.name === ref.name);
    const existing = i >= 0 ? addons[i] : undefined;
    if (existing && existing.addon !== ref.addon) return { ok: false, code: 'conflict', reason: `${version} declares add-on ${ref.name} as ${ref.addon}, and the application has an add-on ${ref.name} that is ${existing.addon}; rename or detach it first` };
    if (existing && validSemver(existing.version) && satisfies(existing.version, ref.version)) continue;
    const best = bestVersion(pub, ref.addon, ref.version);
    const object = best ? pub.addon(ref.addon, best) : undefined;
    if (!best || !object) return { ok: false, code: 'invalid', reason: `${version} needs add-on ${ref.addon} ${ref.version}, and no such version is published` };
    const res = carryInputs(object.spec.inputs, existing ? existing.inputs : (expanded ?? {}), existing ? {} : (expanded ?? {}), `${ref.name}.`);
    if (!res.ok) return res;
    if (existing) inputChanges.push(...res.changes);
    const next = { name: ref.name, addon: ref.addon, version: best, inputs: res.value };
    if (existing) addons[i] = next;
    else addons.push(next);
    changes.push({ instance: ref.name, addon: ref.addon, change: existing ? 'upgraded' : 'added', from: existing?.version ?? null, to: best });
  }
  for (const ref of current?.spec.addons ?? []) {
    if (target.spec.addons.some((r) => r.name === ref.name)) continue;
    const still = addons.find((a) => a.name === ref.name);
    if (!still) continue;
    changes.push({ instance: still.name, addon: still.addon, change: 'kept', from: still.version, to: still.version });
    warnings.push(`${version} no longer declares add-on ${ref.name}; it stays attached (detach it yourself if it is no longer needed)`);
  }
  if (!current) warnings.push(`${app.template} ${app.templateVersion} is no longer in the store; its workload and actions cannot be compared`);
  return { ok: true, state: { templateVersion: version, inputs, addons }, inputs: inputChanges, addons: changes, instances: [], warnings };
}

/** The application's instances of an add-on moved to `target`'s version. */
export function nextForAddon(app: FleetApp, target: AddOn, given: Record<string, unknown>): NextResult {
  const version = target.metadata.version!;
  const name = target.metadata.name;
  const addons: FleetAddon[] = [];
  const inputs: InputChange[] = [];
  const changes: AddonChange[] = [];
  const instances: string[] = [];
  for (const a of app.addons) {
    if (a.addon !== name || a.version === version) {
      addons.push({ ...a });
      continue;
    }
    const res = carryInputs(target.spec.inputs, a.inputs, given, `${a.name}.`);
    if (!res.ok) return res;
    inputs.push(...res.changes);
    addons.push({ ...a, version, inputs: res.value });
    changes.push({ instance: a.name, addon: name, change: 'upgraded', from: a.version, to: version });
    instances.push(a.name);
  }
  return { ok: true, state: { templateVersion: app.templateVersion, inputs: app.inputs, addons }, inputs, addons: changes, instances, warnings: [] };
}

/** Whether the application already is on the target (nothing to upgrade). */
export function upToDate(app: FleetApp, kind: PatternKind, name: string, version: string): boolean {
  if (kind === 'template') return app.template === name && app.templateVersion === version;
  return app.addons.filter((a) => a.addon === name).every((a) => a.version === version);
}
