import { Badge } from '@mantine/core';
import { isKind, KIND_LABELS } from '../api/refs.ts';

export function KindBadge({ kind, size = 'sm' }: { kind: string; size?: 'xs' | 'sm' | 'md' | 'lg' }) {
  const meta = isKind(kind) ? KIND_LABELS[kind] : { one: kind, color: 'gray' };
  return (
    <Badge color={meta.color} variant="light" size={size} radius="sm">
      {meta.one}
    </Badge>
  );
}
