import { Anchor, Table, Text, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import type { Entity } from '../api/client.ts';
import { displayName, entityPath } from '../api/refs.ts';
import { EntityLink } from './EntityLink.tsx';
import { KindBadge } from './KindBadge.tsx';
import { LifecycleBadge } from './LifecycleBadge.tsx';
import { TagList } from './TagList.tsx';

export type EntityColumn = 'kind' | 'owner' | 'type' | 'lifecycle' | 'tags';
const ALL: EntityColumn[] = ['kind', 'owner', 'type', 'lifecycle', 'tags'];

interface Props {
  items: Entity[];
  /** Read by screen readers before the table. */
  caption: string;
  columns?: EntityColumn[];
}

function Dash() {
  return (
    <Text span size="sm" c="dimmed">
      —
    </Text>
  );
}

export function EntityTable({ items, caption, columns = ALL }: Props) {
  const show = (c: EntityColumn) => columns.includes(c);
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table verticalSpacing="sm" highlightOnHover striped={false}>
        <caption>
          <VisuallyHidden>{caption}</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            {show('kind') && <Table.Th scope="col">Kind</Table.Th>}
            {show('owner') && <Table.Th scope="col">Owner</Table.Th>}
            {show('type') && <Table.Th scope="col">Type</Table.Th>}
            {show('lifecycle') && <Table.Th scope="col">Lifecycle</Table.Th>}
            {show('tags') && <Table.Th scope="col">Tags</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((e) => (
            <Table.Tr key={e.id} data-ref={e.ref}>
              <Table.Td maw={380}>
                <Anchor component={Link} to={entityPath(e.kind, e.namespace, e.name)} fw={600} size="sm">
                  {displayName(e)}
                </Anchor>
                {e.description && (
                  <Text size="xs" c="dimmed" lineClamp={2}>
                    {e.description}
                  </Text>
                )}
              </Table.Td>
              {show('kind') && (
                <Table.Td>
                  <KindBadge kind={e.kind} size="xs" />
                </Table.Td>
              )}
              {show('owner') && <Table.Td>{e.owner ? <EntityLink entityRef={e.owner} /> : <Dash />}</Table.Td>}
              {show('type') && (
                <Table.Td>
                  {e.type ? <Text size="sm">{e.type}</Text> : <Dash />}
                </Table.Td>
              )}
              {show('lifecycle') && (
                <Table.Td>
                  <LifecycleBadge lifecycle={e.lifecycle} />
                </Table.Td>
              )}
              {show('tags') && (
                <Table.Td>
                  <TagList tags={e.tags} />
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
