import { Text } from '@mantine/core';
import { Background, Controls, ReactFlow, type Edge, type Node, type NodeMouseHandler, type NodeTypes } from '@xyflow/react';
import type { ReactNode } from 'react';

/**
 * A graph to look at, not to edit (the relations of an entity, the resources of an environment): fitted
 * to its frame, nothing draggable, connectable or selectable, page scrolling left alone; a caption under it.
 */
export function ReadOnlyGraph<N extends Node>(props: {
  nodes: N[];
  edges: Edge[];
  nodeTypes: NodeTypes;
  height: number;
  testId: string;
  caption: ReactNode;
  padding: number;
  maxZoom: number;
  minZoom: number;
  background?: string;
  onNodeClick?: NodeMouseHandler<N>;
}) {
  return (
    <figure style={{ margin: 0 }}>
      <div style={{ height: props.height, border: '1px solid var(--mantine-color-gray-3)', borderRadius: 8, ...(props.background ? { background: props.background } : {}) }} data-testid={props.testId}>
        <ReactFlow
          nodes={props.nodes}
          edges={props.edges}
          nodeTypes={props.nodeTypes}
          fitView
          fitViewOptions={{ padding: props.padding, maxZoom: props.maxZoom }}
          minZoom={props.minZoom}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          zoomOnScroll={false}
          preventScrolling={false}
          {...(props.onNodeClick ? { onNodeClick: props.onNodeClick } : {})}
          proOptions={{ hideAttribution: false }}
        >
          <Background gap={24} color="var(--mantine-color-gray-3)" />
          <Controls showInteractive={false} position="bottom-right" />
        </ReactFlow>
      </div>
      <figcaption>
        <Text size="xs" c="dimmed" mt={6}>
          {props.caption}
        </Text>
      </figcaption>
    </figure>
  );
}
