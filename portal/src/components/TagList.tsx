import { Badge, Group, Text } from '@mantine/core';

export function TagList({ tags, empty = '—' }: { tags: string[]; empty?: string }) {
  if (tags.length === 0) {
    return (
      <Text span size="sm" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <Group gap={4} component="ul" aria-label="Tags" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {tags.map((t) => (
        <Badge key={t} component="li" color="gray" variant="light" size="sm" radius="sm" tt="none">
          {t}
        </Badge>
      ))}
    </Group>
  );
}
