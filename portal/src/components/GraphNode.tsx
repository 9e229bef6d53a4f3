import { Badge, Box, Text } from '@mantine/core';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { Link } from 'react-router';
import { isKind, KIND_LABELS } from '../api/refs.ts';

export const NODE_WIDTH = 220;

export interface GraphNodeData extends Record<string, unknown> {
  kind: string;
  label: string;
  /** Page to open; null for the entity itself and for targets not in the catalog. */
  href: string | null;
  center: boolean;
  resolved: boolean;
}
export type EntityGraphNode = Node<GraphNodeData, 'entity'>;

// Edges run centre to centre, under the node's card, so they meet it from any side.
const hidden = { top: '50%', left: '50%', opacity: 0, pointerEvents: 'none', border: 'none', width: 1, height: 1, minWidth: 0, minHeight: 0 } as const;

export function GraphNode({ data }: NodeProps<EntityGraphNode>) {
  const color = isKind(data.kind) ? KIND_LABELS[data.kind].color : 'gray';
  const kindLabel = isKind(data.kind) ? KIND_LABELS[data.kind].one : data.kind;
  const body = (
    <>
      <Text size="10px" fw={700} tt="uppercase" c={`${color}.8`} style={{ letterSpacing: '0.05em' }}>
        {kindLabel}
      </Text>
      <Text size="sm" fw={data.center ? 700 : 600} lineClamp={2} lh={1.25} c={data.resolved ? 'dark.8' : 'dimmed'} style={{ overflowWrap: 'anywhere' }}>
        {data.label}
      </Text>
      {!data.resolved && (
        <Badge size="xs" variant="outline" color="gray" mt={2}>
          not in catalog
        </Badge>
      )}
    </>
  );
  return (
    <Box
      w={NODE_WIDTH}
      px={12}
      py={8}
      bg={data.center ? `${color}.0` : 'white'}
      style={{
        border: `${data.center ? 2 : 1}px ${data.resolved ? 'solid' : 'dashed'} var(--mantine-color-${color}-${data.center ? 6 : 4})`,
        borderLeftWidth: 4,
        borderRadius: 8,
        boxShadow: 'var(--mantine-shadow-xs)',
      }}
    >
      <Handle type="target" position={Position.Top} style={hidden} isConnectable={false} />
      <Handle type="source" position={Position.Bottom} style={hidden} isConnectable={false} />
      {data.href ? (
        <Link to={data.href} className="pave-node-link" style={{ display: 'block', color: 'inherit', textDecoration: 'none' }}>
          {body}
        </Link>
      ) : (
        body
      )}
    </Box>
  );
}
