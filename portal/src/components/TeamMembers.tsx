import { Avatar, Group, SimpleGrid, Text } from '@mantine/core';
import type { Entity } from '../api/client.ts';
import { refDisplayName } from '../api/refs.ts';
import { EntityLink } from './EntityLink.tsx';

type Relation = NonNullable<Entity['relations']>[number];

/** The team's hasMember relations, as people. */
export function TeamMembers({ members }: { members: Relation[] }) {
  if (members.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        This team has no members.
      </Text>
    );
  }
  const sorted = [...members].sort((a, b) => (a.target?.title ?? refDisplayName(a.targetRef)).localeCompare(b.target?.title ?? refDisplayName(b.targetRef)));
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm" component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }} aria-label="Members">
      {sorted.map((m) => {
        const name = m.target?.title ?? refDisplayName(m.targetRef);
        return (
          <Group key={m.targetRef} component="li" gap="sm" wrap="nowrap" data-member={m.targetRef}>
            <Avatar name={name} color="initials" radius="xl" size={36} aria-hidden="true" />
            <div style={{ minWidth: 0 }}>
              <EntityLink entityRef={m.targetRef} label={name} resolved={m.resolved} />
              <Text size="xs" c="dimmed" truncate>
                {m.targetRef}
              </Text>
            </div>
          </Group>
        );
      })}
    </SimpleGrid>
  );
}
