import { actionsOf } from '../actions/catalog.ts';
import type { ManagedApplication } from '../applications/service.ts';
import { desiredGraph, DesiredGraphError, workloadFromTemplate, type AttachedAddOn, type DesiredGraph } from '../applications/desired.ts';
import { DEFAULT_ENVIRONMENT_ORDER, type Exclusion, type FleetPlanApplication, type PatternKind } from '../contracts/fleet.ts';
import { PlaceholderError } from '../platform/placeholders.ts';
import type { AddOn, Template } from '../platform/schema.ts';
import type { PolicyCheck, PolicyGate } from '../policies/engine.ts';
import type { ResourceEngine } from '../resources/engine.ts';
import type { EnvironmentContext } from '../resources/types.ts';
import { validateScore, type ScoreWorkload } from '../workloads/score.ts';
import { actionsDiff, workloadDiff } from './diff.ts';
import { versionOf, type FleetAddon, type FleetApp, type FleetEnvironment } from './inventory.ts';
import { nextForAddon, nextForTemplate, type GoldenState } from './next.ts';
import { orderEnvironments } from './waves.ts';
import type { PublishedSet } from './published.ts';

/**
 * The plan of one application's upgrade: its next golden state (next.ts), the workload and the
 * variables its add-ons inject before and after, the actions it offers before and after, what the
 * resource engine would do in each environment with the new resource graph, and whether a policy
 * would deny the provisioning, the redeployments or the new add-ons. Nothing is written.
 */
export interface PlanTarget {
  kind: PatternKind;
  name: string;
  version: string;
  object: Template | AddOn;
}

export interface PlanDeps {
  engine: ResourceEngine;
  policies: PolicyGate | undefined;
  published: PublishedSet;
}

export type AppPlan = { ok: true; item: FleetPlanApplication; state: GoldenState } | { ok: false; exclusion: Exclusion };

const teamName = (team: string | null) => (team ? team.slice(team.indexOf('/') + 1) : null);

class Refused extends Error {
  readonly code: Exclusion['code'];
  constructor(code: Exclusion['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The workload, the resource graph and the actions of an application in a golden state. */
export function shapeOf(app: FleetApp, template: Template, state: { inputs: Record<string, unknown>; addons: FleetAddon[] }, pub: PublishedSet): { workload: ScoreWorkload; graph: DesiredGraph; managed: ManagedApplication } {
  let raw: Record<string, unknown>;
  try {
    raw = app.workload ?? workloadFromTemplate(template.spec.workload, state.inputs, app.name);
  } catch (err) {
    if (err instanceof PlaceholderError) throw new Refused('invalid', `the workload of ${template.metadata.name} ${template.metadata.version}: ${err.message}`);
    throw err;
  }
  const checked = validateScore(raw);
  if ('errors' in checked) throw new Refused('invalid', `the workload of ${template.metadata.name} ${template.metadata.version} is not valid Score: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  const attached: AttachedAddOn[] = state.addons.map((a) => {
    const object = pub.addon(a.addon, a.version);
    if (!object) throw new Refused('invalid', `add-on ${a.addon} ${a.version} is not in the store`);
    return { name: a.name, addon: object, inputs: a.inputs };
  });
  let graph: DesiredGraph;
  try {
    graph = desiredGraph(app.name, checked.workload, attached);
  } catch (err) {
    if (err instanceof DesiredGraphError || err instanceof PlaceholderError) throw new Refused('invalid', err.message);
    throw err;
  }
  const managed: ManagedApplication = { entityId: app.entityId, ref: app.ref, namespace: app.namespace, name: app.name, team: teamName(app.team), template, workload: checked.workload, addons: attached, environments: [] };
  return { workload: checked.workload, graph, managed };
}

export function contextOf(app: FleetApp, env: { id: string; name: string; type: string }): EnvironmentContext {
  return { environmentId: env.id, namespace: app.namespace, application: app.name, environment: env.name, environmentType: env.type, team: teamName(app.team) };
}

/** The policy checks of an upgrade beyond provisioning: each redeployment and its release, and each add-on it attaches. */
function upgradeChecks(app: FleetApp, state: GoldenState, template: string, added: FleetAddon[], pub: PublishedSet): PolicyCheck[] {
  const application = { ref: app.ref, name: app.name, namespace: app.namespace, owner: app.owner, template, templateVersion: state.templateVersion, inputs: state.inputs };
  const checks: PolicyCheck[] = [];
  for (const env of app.environments) {
    const environment = { name: env.name, type: env.type };
    for (const a of added) {
      const object = pub.addon(a.addon, a.version);
      checks.push({ event: 'addon.attach', application, environment, subject: a.name, details: { addon: { name: object?.metadata.name ?? a.addon, instance: a.name, version: a.version, inputs: a.inputs } } });
    }
    if (!env.released) continue;
    checks.push({ event: 'deployment.create', application, environment, details: { deployment: { build: env.released.buildNumber, replicas: 1, release: true, promotedFrom: '' } } });
    checks.push({ event: 'release', application, environment, details: { release: { kind: 'release', deployment: 0, build: env.released.buildNumber } } });
  }
  return checks;
}

export async function planApplication(deps: PlanDeps, app: FleetApp, target: PlanTarget, given: Record<string, unknown>): Promise<AppPlan> {
  const from = versionOf(app, target.kind, target.name) ?? '';
  const refuse = (code: Exclusion['code'], reason: string): AppPlan => ({ ok: false, exclusion: { application: app.ref, name: app.name, team: app.team, from, code, reason } });
  const pub = deps.published;
  const next = target.kind === 'template' ? nextForTemplate(app, target.object as Template, given, pub) : nextForAddon(app, target.object as AddOn, given);
  if (!next.ok) return refuse(next.code, next.reason);
  const state = next.state;
  const before = pub.template(app.template, app.templateVersion);
  const after = target.kind === 'template' ? (target.object as Template) : before;
  if (!before || !after) return refuse('invalid', `template ${app.template} ${app.templateVersion} is not in the store`);
  let old: ReturnType<typeof shapeOf>;
  let now: ReturnType<typeof shapeOf>;
  try {
    now = shapeOf(app, after, state, pub);
    try {
      old = shapeOf(app, before, { inputs: app.inputs, addons: app.addons }, pub);
    } catch {
      old = { workload: { apiVersion: 'score.dev/v1b1', containers: {} } as unknown as ScoreWorkload, graph: { resources: [], variables: {} }, managed: { ...now.managed, template: before, addons: [] } };
    }
  } catch (err) {
    if (err instanceof Refused) return refuse(err.code, err.message);
    throw err;
  }
  const resources: FleetPlanApplication['resources'] = [];
  const envs = orderEnvironments(app.environments, DEFAULT_ENVIRONMENT_ORDER);
  for (const env of envs) {
    const plan = await deps.engine.plan(contextOf(app, env), now.graph.resources);
    if (plan.errors.length) {
      const denied = plan.errors.find((e) => /denied by polic/.test(e));
      return refuse(denied ? 'policy-denied' : 'invalid', `${env.name}: ${denied ?? plan.errors.join('; ')}`);
    }
    const broken = plan.items.find((i) => i.error);
    if (broken) return refuse('invalid', `${env.name}: resource ${broken.resource} cannot be provisioned: ${broken.error}`);
    for (const i of plan.items) {
      if (i.action === 'noop') continue;
      resources.push({ environment: env.name, resource: i.resource, type: i.type, action: i.action === 'retry' ? 'update' : i.action, changes: i.changes, reason: i.action === 'retry' ? `retry: ${i.reason ?? ''}` : i.reason });
    }
  }
  if (deps.policies) {
    const added = state.addons.filter((a) => !app.addons.some((b) => b.name === a.name));
    const denial = await deps.policies.denial(upgradeChecks(app, state, app.template, added, pub));
    if (denial) return refuse('policy-denied', denial);
  }
  const envView = (e: FleetEnvironment) => ({ name: e.name, type: e.type, released: e.released !== null });
  return {
    ok: true,
    state,
    item: {
      application: app.ref, name: app.name, namespace: app.namespace, team: app.team, instances: next.instances, from, to: target.version,
      environments: envs.map(envView), customWorkload: app.workload !== null,
      inputs: next.inputs,
      workload: workloadDiff({ workload: old.workload as unknown as Record<string, unknown>, variables: old.graph.variables }, { workload: now.workload as unknown as Record<string, unknown>, variables: now.graph.variables }),
      addons: next.addons, resources,
      actions: actionsDiff(actionsOf(old.managed), actionsOf(now.managed)),
      warnings: next.warnings,
    },
  };
}
