import { ThemeIcon } from '@mantine/core';
import type { PlanItem } from '../../api/client.ts';
import { ACTIONS } from './status.ts';

/** The action's sign (+ ~ ± ↻ − =) in its colour; decorative, the action is also written out. */
export function PlanActionIcon({ action }: { action: PlanItem['action'] }) {
  const a = ACTIONS[action];
  return (
    <ThemeIcon color={a.color} variant={action === 'noop' ? 'light' : 'filled'} size={26} radius="xl" aria-hidden="true" style={{ fontWeight: 700, fontSize: 16 }}>
      {a.glyph}
    </ThemeIcon>
  );
}
