import { MarkerType, type Edge } from '@xyflow/react';
import { useMemo } from 'react';
import type { LiveResource } from './liveResources.ts';
import { ReadOnlyGraph } from '../ReadOnlyGraph.tsx';
import { RESOURCE_NODE_HEIGHT, RESOURCE_NODE_WIDTH, ResourceNode, type ResourceGraphNode } from './ResourceNode.tsx';

const nodeTypes = { resource: ResourceNode };
const GAP_X = 90;
const GAP_Y = 28;

/** Columns by dependency depth (what a resource depends on sits to its left), rows in name order. */
function layout(resources: LiveResource[]): { nodes: ResourceGraphNode[]; edges: Edge[] } {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle: the server refuses those, but never loop
    seen.add(name);
    const deps = (byName.get(name)?.dependsOn ?? []).filter((d) => byName.has(d));
    const d = deps.length ? Math.max(...deps.map((x) => depthOf(x, seen) + 1)) : 0;
    depth.set(name, d);
    return d;
  };
  const columns = new Map<number, LiveResource[]>();
  for (const r of [...resources].sort((a, b) => a.name.localeCompare(b.name))) {
    const d = depthOf(r.name, new Set());
    columns.set(d, [...(columns.get(d) ?? []), r]);
  }
  const tallest = Math.max(1, ...[...columns.values()].map((c) => c.length));
  const nodes: ResourceGraphNode[] = [];
  for (const [d, col] of columns) {
    const offset = ((tallest - col.length) * (RESOURCE_NODE_HEIGHT + GAP_Y)) / 2;
    col.forEach((r, i) =>
      nodes.push({
        id: r.name,
        type: 'resource',
        position: { x: d * (RESOURCE_NODE_WIDTH + GAP_X), y: offset + i * (RESOURCE_NODE_HEIGHT + GAP_Y) },
        data: { name: r.name, type: r.type, status: r.status },
        ariaLabel: `${r.name} (${r.type}): ${r.status}${r.dependsOn.length ? `, depends on ${r.dependsOn.join(', ')}` : ''}`,
      }),
    );
  }
  const edges: Edge[] = resources.flatMap((r) =>
    r.dependsOn
      .filter((d) => byName.has(d))
      .map((d) => ({
        id: `${d}->${r.name}`,
        source: d,
        target: r.name,
        markerEnd: { type: MarkerType.ArrowClosed, color: 'var(--mantine-color-gray-6)' },
        style: { stroke: 'var(--mantine-color-gray-6)' },
        animated: r.status === 'provisioning',
      })),
  );
  return { nodes, edges };
}

/** The environment's resources and what each depends on, coloured by state. */
export function ResourceGraph({ resources, environment }: { resources: LiveResource[]; environment: string }) {
  const { nodes, edges } = useMemo(() => layout(resources), [resources]);
  const height = Math.min(520, Math.max(200, Math.max(...nodes.map((n) => n.position.y)) + RESOURCE_NODE_HEIGHT + 120));
  return (
    <ReadOnlyGraph
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      height={height}
      testId="resource-graph"
      background="white"
      padding={0.25}
      maxZoom={1}
      minZoom={0.3}
      caption={`The ${nodes.length} resource${nodes.length === 1 ? '' : 's'} of ${environment}${edges.length ? '; arrows point from a resource to the ones that depend on it' : ''}. Green is ready, blue is provisioning, red failed, grey pending.`}
    />
  );
}
