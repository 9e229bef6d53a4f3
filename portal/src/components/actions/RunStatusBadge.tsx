import { Badge } from '@mantine/core';
import { isFinal, RUN_STATUS_COLORS, type RunStatus } from '../../api/actionParams.ts';

/** A run's status: filled once it ended, light while queued or running. */
export function RunStatusBadge({ status, size = 'sm' }: { status: RunStatus; size?: 'xs' | 'sm' | 'md' }) {
  return (
    <Badge size={size} radius="sm" tt="none" color={RUN_STATUS_COLORS[status]} variant={isFinal(status) ? 'filled' : 'light'} data-testid="run-status" data-status={status}>
      {status}
    </Badge>
  );
}
