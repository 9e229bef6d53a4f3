import { referencedResources } from './placeholders.ts';
import type { ScoreWorkload } from './score.ts';

/** The class of a resource that names none (as score-go). */
export const DEFAULT_RESOURCE_CLASS = 'default';

/** One resource a workload needs: what Pave's resource graph plans from. */
export interface ResourceRequirement {
  /** The name in the workload's `resources`, as placeholders use it. */
  name: string;
  type: string;
  /** The given class, or "default". */
  class: string;
  /** The given id (the resource is then shared), or `<workload>.<name>`. */
  id: string;
  /** True when the workload gave an id: same type, class and id is the same resource across workloads. */
  shared: boolean;
  /** score-go's resource uid: `<type>.<class>#<id>`. */
  uid: string;
  /** Params as written (placeholders unresolved); {} when none. */
  params: Record<string, unknown>;
  /** Resource metadata; {} when none. */
  metadata: Record<string, unknown>;
  /** Names of this workload's resources that the params reference, sorted: provision those first. */
  dependsOn: string[];
}

/** A workload's resources, in declaration order, with Score's defaults for class and id. */
export function resourceRequirements(workload: ScoreWorkload): ResourceRequirement[] {
  const edges = referencedResources(workload);
  return Object.entries(workload.resources ?? {}).map(([name, res]) => {
    const cls = res.class ?? DEFAULT_RESOURCE_CLASS;
    const id = res.id ?? `${workload.metadata.name}.${name}`;
    return {
      name,
      type: res.type,
      class: cls,
      id,
      shared: res.id !== undefined,
      uid: `${res.type}.${cls}#${id}`,
      params: structuredClone(res.params ?? {}),
      metadata: structuredClone(res.metadata ?? {}),
      dependsOn: [...(edges.get(name) ?? [])].sort(),
    };
  });
}
