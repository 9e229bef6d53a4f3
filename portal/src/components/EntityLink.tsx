import { Anchor, Badge, Group, Text } from '@mantine/core';
import { Link } from 'react-router';
import { refDisplayName, refPath } from '../api/refs.ts';

interface Props {
  /** Full ref, kind:namespace/name. */
  entityRef: string;
  /** What to show instead of the ref's name, e.g. the entity's title. */
  label?: string | null;
  /** false: the target is not in the catalog, so there is no page to link to. */
  resolved?: boolean;
}

export function EntityLink({ entityRef, label, resolved = true }: Props) {
  const text = label ?? refDisplayName(entityRef);
  if (!resolved) {
    return (
      <Group gap={6} wrap="nowrap" component="span">
        <Text span size="sm" c="dimmed" title={entityRef}>
          {text}
        </Text>
        <Badge color="gray" variant="outline" size="xs">
          not in catalog
        </Badge>
      </Group>
    );
  }
  return (
    <Anchor component={Link} to={refPath(entityRef)} size="sm" title={entityRef}>
      {text}
    </Anchor>
  );
}
