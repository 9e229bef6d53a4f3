import { Text } from '@mantine/core';
import { type Edge } from '@xyflow/react';
import { useMemo } from 'react';
import { useNavigate } from 'react-router';
import type { Entity } from '../api/client.ts';
import { compareRelationTypes, displayName, entityPath, parseRef, refDisplayName, relationLabel } from '../api/refs.ts';
import { GraphNode, NODE_WIDTH, type EntityGraphNode } from './GraphNode.tsx';
import { ringPositions } from './graphLayout.ts';
import { ReadOnlyGraph } from './ReadOnlyGraph.tsx';

const NODE_W = NODE_WIDTH;
const NODE_H = 56;
const nodeTypes = { entity: GraphNode };

interface Neighbour {
  ref: string;
  kind: string;
  label: string;
  resolved: boolean;
  types: string[];
}

/** The entity's neighbours, one per target, with every relation type that links to it. */
function neighbours(entity: Entity): Neighbour[] {
  const byRef = new Map<string, Neighbour>();
  for (const r of entity.relations ?? []) {
    const n = byRef.get(r.targetRef);
    if (n) {
      n.types.push(r.type);
      continue;
    }
    const t = r.target;
    byRef.set(r.targetRef, {
      ref: r.targetRef,
      kind: t?.kind ?? parseRef(r.targetRef).kind,
      label: t ? displayName(t) : refDisplayName(r.targetRef),
      resolved: r.resolved,
      types: [r.type],
    });
  }
  // Group neighbours by relation type so each kind of relation sits together around the circle.
  return [...byRef.values()].sort((a, b) => compareRelationTypes(a.types[0] ?? '', b.types[0] ?? '') || a.label.localeCompare(b.label));
}

/** Lays neighbours out on a ring around the entity; the ring grows with their number. */
function layout(entity: Entity, around: Neighbour[]): { nodes: EntityGraphNode[]; edges: Edge[] } {
  const ring = ringPositions(around.length, NODE_W, NODE_H);
  const nodes: EntityGraphNode[] = [
    {
      id: entity.ref,
      type: 'entity',
      position: { x: -NODE_W / 2, y: -NODE_H / 2 },
      data: { kind: entity.kind, label: displayName(entity), href: null, center: true, resolved: true },
      ariaLabel: `${entity.kind} ${displayName(entity)} (this page)`,
    },
  ];
  const edges: Edge[] = [];
  around.forEach((n, i) => {
    const at = ring[i] ?? { x: 0, y: 0 };
    const target = parseRef(n.ref);
    const label = n.types.map(relationLabel).join(', ');
    nodes.push({
      id: n.ref,
      type: 'entity',
      position: { x: at.x - NODE_W / 2, y: at.y - NODE_H / 2 },
      data: { kind: n.kind, label: n.label, href: n.resolved ? entityPath(target.kind, target.namespace, target.name) : null, center: false, resolved: n.resolved },
      ariaLabel: `${label}: ${n.kind} ${n.label}${n.resolved ? '' : ' (not in catalog)'}`,
    });
    edges.push({
      id: `${entity.ref}->${n.ref}`,
      source: entity.ref,
      target: n.ref,
      type: 'straight',
      label,
      labelBgPadding: [6, 3],
      labelBgBorderRadius: 4,
      labelStyle: { fontSize: 11, fill: 'var(--mantine-color-gray-8)' },
      labelBgStyle: { fill: 'var(--mantine-color-gray-0)' },
      style: { stroke: 'var(--mantine-color-gray-5)', strokeDasharray: n.resolved ? undefined : '5 4' },
    });
  });
  return { nodes, edges };
}

/** The entity in the middle, what it relates to around it, edges labelled with the relation type. */
export function RelationGraph({ entity }: { entity: Entity }) {
  const navigate = useNavigate();
  const { nodes, edges } = useMemo(() => layout(entity, neighbours(entity)), [entity]);
  if (nodes.length === 1) {
    return (
      <Text size="sm" c="dimmed">
        Nothing to draw: this entity has no relations.
      </Text>
    );
  }
  return (
    <ReadOnlyGraph
      key={entity.ref}
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      height={nodes.length > 11 ? 640 : 460}
      testId="relations-graph"
      padding={0.15}
      maxZoom={1.1}
      minZoom={0.2}
      onNodeClick={(e, node) => {
        // A click on the node's own link navigates already.
        if (node.data.href && !(e.target instanceof Element && e.target.closest('a'))) navigate(node.data.href);
      }}
      caption={`${displayName(entity)} and the ${nodes.length - 1} ${nodes.length === 2 ? 'entity' : 'entities'} it relates to. Select one to open its page; dashed ones are not in the catalog.`}
    />
  );
}
