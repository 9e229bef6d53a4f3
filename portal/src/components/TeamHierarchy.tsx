import { DataList, Group, Text } from '@mantine/core';
import type { Entity } from '../api/client.ts';
import { EntityLink } from './EntityLink.tsx';

type Relation = NonNullable<Entity['relations']>[number];

function Teams({ rels, none }: { rels: Relation[]; none: string }) {
  if (rels.length === 0) {
    return (
      <Text span size="sm" c="dimmed">
        {none}
      </Text>
    );
  }
  return (
    <Group gap="xs">
      {rels.map((r) => (
        <EntityLink key={r.targetRef} entityRef={r.targetRef} label={r.target?.title ?? null} resolved={r.resolved} />
      ))}
    </Group>
  );
}

/** Parent (childOf) and child (parentOf) teams. */
export function TeamHierarchy({ relations }: { relations: Relation[] }) {
  return (
    <DataList orientation="horizontal" labelWidth={110} gap="xs" size="sm">
      <DataList.Item>
        <DataList.ItemLabel>Parent</DataList.ItemLabel>
        <DataList.ItemValue>
          <Teams rels={relations.filter((r) => r.type === 'childOf')} none="None (top level)" />
        </DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>Children</DataList.ItemLabel>
        <DataList.ItemValue>
          <Teams rels={relations.filter((r) => r.type === 'parentOf')} none="None" />
        </DataList.ItemValue>
      </DataList.Item>
    </DataList>
  );
}
