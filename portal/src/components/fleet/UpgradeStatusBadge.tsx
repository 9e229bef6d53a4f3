import { Badge } from '@mantine/core';
import type { UpgradeAppState, UpgradeStatus } from '../../api/fleet.ts';
import { APP_STATE_COLORS, UPGRADE_STATUS_COLORS } from './format.ts';

export function UpgradeStatusBadge({ status, size = 'md' }: { status: UpgradeStatus; size?: 'xs' | 'sm' | 'md' | 'lg' }) {
  return (
    <Badge color={UPGRADE_STATUS_COLORS[status]} variant={status === 'running' ? 'filled' : 'light'} size={size} data-testid="upgrade-status" data-status={status}>
      {status}
    </Badge>
  );
}

export function AppStateBadge({ state, size = 'sm' }: { state: UpgradeAppState; size?: 'xs' | 'sm' | 'md' }) {
  return (
    <Badge color={APP_STATE_COLORS[state]} variant={state === 'upgrading' || state === 'reverting' ? 'filled' : 'light'} size={size} data-state={state}>
      {state}
    </Badge>
  );
}
