import { Group, List, Stack, Text, Title } from '@mantine/core';
import type { Entity } from '../api/client.ts';
import { compareRelationTypes, relationLabel } from '../api/refs.ts';
import { EntityLink } from './EntityLink.tsx';
import { KindBadge } from './KindBadge.tsx';

type Relation = NonNullable<Entity['relations']>[number];

export function groupRelations(relations: Relation[]): [string, Relation[]][] {
  const groups = new Map<string, Relation[]>();
  for (const r of relations) groups.set(r.type, [...(groups.get(r.type) ?? []), r]);
  return [...groups.entries()].sort(([a], [b]) => compareRelationTypes(a, b));
}

/** Relations grouped by type; targets that are not in the catalog are marked so. */
export function RelationList({ relations }: { relations: Relation[] }) {
  if (relations.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No relations.
      </Text>
    );
  }
  return (
    <Stack gap="md">
      {groupRelations(relations).map(([type, rels]) => (
        <div key={type} data-relation-type={type}>
          <Title order={3} size="h6" c="dimmed" tt="uppercase" mb={4} style={{ letterSpacing: '0.04em' }}>
            {relationLabel(type)} ({rels.length})
          </Title>
          <List spacing={4} listStyleType="none" ml={0} pl={0}>
            {rels.map((r) => (
              <List.Item key={r.targetRef}>
                <Group gap={8} wrap="nowrap">
                  <KindBadge kind={r.target?.kind ?? r.targetRef.split(':')[0] ?? ''} size="xs" />
                  <EntityLink entityRef={r.targetRef} label={r.target?.title ?? null} resolved={r.resolved} />
                </Group>
              </List.Item>
            ))}
          </List>
        </div>
      ))}
    </Stack>
  );
}
