import { Badge, Loader } from '@mantine/core';
import type { ResourceStatus } from '../../api/client.ts';
import { STATUS_COLORS } from './status.ts';

export function ResourceStatusBadge({ status, size = 'sm' }: { status: ResourceStatus; size?: 'xs' | 'sm' | 'md' }) {
  const busy = status === 'provisioning' || status === 'deleting';
  return (
    <Badge
      color={STATUS_COLORS[status]}
      variant={status === 'ready' || status === 'failed' ? 'filled' : 'light'}
      size={size}
      radius="sm"
      tt="none"
      leftSection={busy ? <Loader size={10} color={STATUS_COLORS[status]} aria-hidden="true" /> : undefined}
      data-status={status}
    >
      {status}
    </Badge>
  );
}
