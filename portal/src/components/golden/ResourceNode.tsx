import { Box, Text } from '@mantine/core';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { ResourceStatus } from '../../api/client.ts';
import { ResourceStatusBadge } from './ResourceStatusBadge.tsx';
import { STATUS_COLORS } from './status.ts';

export const RESOURCE_NODE_WIDTH = 200;
export const RESOURCE_NODE_HEIGHT = 64;

export interface ResourceNodeData extends Record<string, unknown> {
  name: string;
  type: string;
  status: ResourceStatus;
}
export type ResourceGraphNode = Node<ResourceNodeData, 'resource'>;

const hidden = { opacity: 0, pointerEvents: 'none', border: 'none', width: 1, height: 1, minWidth: 0, minHeight: 0 } as const;

/** A resource in the graph, its border and badge coloured by its state. */
export function ResourceNode({ data }: NodeProps<ResourceGraphNode>) {
  const color = STATUS_COLORS[data.status];
  return (
    <Box
      w={RESOURCE_NODE_WIDTH}
      px={12}
      py={8}
      bg={`${color}.0`}
      data-status={data.status}
      style={{ border: `1px solid var(--mantine-color-${color}-5)`, borderLeftWidth: 4, borderRadius: 8, boxShadow: 'var(--mantine-shadow-xs)' }}
    >
      <Handle type="target" position={Position.Left} style={hidden} isConnectable={false} />
      <Handle type="source" position={Position.Right} style={hidden} isConnectable={false} />
      <Text size="sm" fw={700} lineClamp={1} style={{ overflowWrap: 'anywhere' }}>
        {data.name}
      </Text>
      <Box style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', gap: 6 }}>
        <Text size="xs" c="dimmed" ff="monospace" truncate>
          {data.type}
        </Text>
        <ResourceStatusBadge status={data.status} size="xs" />
      </Box>
    </Box>
  );
}
