import { Badge, Text } from '@mantine/core';

const COLORS: Record<string, string> = { production: 'green', experimental: 'yellow', deprecated: 'red' };

export function LifecycleBadge({ lifecycle }: { lifecycle: string | null }) {
  if (!lifecycle) {
    return (
      <Text span size="sm" c="dimmed">
        —
      </Text>
    );
  }
  return (
    <Badge color={COLORS[lifecycle] ?? 'gray'} variant="dot" size="sm" tt="none">
      {lifecycle}
    </Badge>
  );
}
