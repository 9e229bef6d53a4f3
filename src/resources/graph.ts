/**
 * The resource graph of one application in one environment: nodes are resources, an edge a → b means
 * a's params reference b's outputs, so b is provisioned first. Pure functions, no I/O.
 */
export interface GraphNode {
  name: string;
  dependsOn: string[];
}

export class GraphError extends Error {
  readonly cycle: string[] | undefined;
  constructor(message: string, cycle?: string[]) {
    super(message);
    this.cycle = cycle;
  }
}

/** Finds one cycle (as a closed path a → b → … → a), or undefined. */
export function findCycle(nodes: GraphNode[]): string[] | undefined {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of [...(byName.get(name)?.dependsOn ?? [])].sort()) {
      if (!byName.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const n of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const cycle = visit(n.name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Dependency order (dependencies first), deterministic: among nodes ready at the same time, by name.
 * Throws GraphError naming the cycle, or a dependency that is not in the graph.
 */
export function topologicalOrder<T extends GraphNode>(nodes: T[]): T[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const n of nodes) {
    for (const d of n.dependsOn) {
      if (!byName.has(d)) throw new GraphError(`resource ${n.name} depends on ${d}, which the application does not declare`);
    }
  }
  const cycle = findCycle(nodes);
  if (cycle) throw new GraphError(`the resources form a cycle: ${cycle.join(' → ')}`, cycle);
  const remaining = new Map(nodes.map((n) => [n.name, new Set(n.dependsOn)]));
  const out: T[] = [];
  while (remaining.size) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([name]) => name).sort();
    for (const name of ready) {
      remaining.delete(name);
      out.push(byName.get(name)!);
      for (const deps of remaining.values()) deps.delete(name);
    }
  }
  return out;
}

/** Layers of nodes that can be provisioned in parallel: each layer depends only on earlier ones. */
export function layers<T extends GraphNode>(nodes: T[]): T[][] {
  const order = topologicalOrder(nodes);
  const depth = new Map<string, number>();
  for (const n of order) depth.set(n.name, Math.max(-1, ...n.dependsOn.map((d) => depth.get(d) ?? -1)) + 1);
  const out: T[][] = [];
  for (const n of order) (out[depth.get(n.name)!] ??= []).push(n);
  return out;
}
