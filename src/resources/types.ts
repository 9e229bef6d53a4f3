/** What the resource engine is asked to converge, and what it reports. */

/** One resource an application needs in an environment (from its workload or an add-on). */
export interface DesiredResource {
  /** Name in the environment's graph, e.g. `db`; unique per environment. */
  name: string;
  type: string;
  class: string;
  /** Resource id used by definition criteria (`id`), e.g. `shop.db` or a shared id. */
  id: string;
  /** May reference other resources' outputs as `${resources.<name>.<output>}`. */
  params: Record<string, unknown>;
  dependsOn: string[];
  /** What asked for it, e.g. `workload`, `addon:postgres@1.0.0`. */
  origin: string;
}

export interface EnvironmentContext {
  environmentId: string;
  namespace: string;
  application: string;
  environment: string;
  environmentType: string;
  team: string | null;
}

export type ResourceEventPhase = 'provisioning' | 'ready' | 'unchanged' | 'failed' | 'skipped' | 'deleting' | 'deleted';

export interface ResourceEvent {
  resource: string;
  type: string;
  phase: ResourceEventPhase;
  detail?: string;
  ms?: number;
}

export type PlanAction = 'create' | 'update' | 'replace' | 'retry' | 'delete' | 'noop';

export interface PlanItem {
  resource: string;
  type: string;
  class: string;
  action: PlanAction;
  definition: string | null;
  definitionVersion: string | null;
  driver: string | null;
  /** Why: the fields that change, or the state being resumed. */
  changes: { field: string; from: unknown; to: unknown }[];
  reason: string | null;
  /** Set when the resource cannot be provisioned as asked (no matching definition, unknown driver, …). */
  error: string | null;
}

export interface Plan {
  order: string[];
  items: PlanItem[];
  errors: string[];
}

export interface ApplyResult {
  ok: boolean;
  events: ResourceEvent[];
  failed: { resource: string; error: string }[];
}

export const resourceUid = (ctx: EnvironmentContext, name: string) =>
  `${ctx.namespace === 'default' ? '' : `${ctx.namespace}.`}${ctx.application}.${ctx.environment}.${name}`;
