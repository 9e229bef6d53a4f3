import { Anchor, Button, Group, Text } from '@mantine/core';
import { useMemo } from 'react';
import { Link } from 'react-router';
import type { Entity, EntityListParams } from '../api/client.ts';
import { usePagedEntities } from '../api/usePagedEntities.ts';
import { EntityTable } from './EntityTable.tsx';
import { Loading } from './Loading.tsx';
import { ProblemAlert } from './ProblemAlert.tsx';

/** The applications the team owns (the catalog's owner filter). */
export function TeamApplications({ team }: { team: Entity }) {
  const query = useMemo<EntityListParams>(() => ({ kind: 'application', owner: team.ref }), [team.ref]);
  const list = usePagedEntities(query);
  if (list.status === 'loading') return <Loading label="Loading applications" />;
  if (list.status === 'error') return <ProblemAlert error={list.error} title="The team's applications could not be loaded" onRetry={list.reload} />;
  if (list.items.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        This team owns no applications.
      </Text>
    );
  }
  const owner = team.namespace === 'default' ? team.name : team.ref;
  return (
    <>
      <EntityTable items={list.items} caption={`Applications owned by ${team.name}`} columns={['type', 'lifecycle', 'tags']} />
      <Group justify="space-between" mt="sm">
        <Anchor component={Link} to={`/applications?owner=${encodeURIComponent(owner)}`} size="sm">
          Search these in Applications
        </Anchor>
        {list.hasMore && (
          <Button variant="default" size="xs" onClick={list.loadMore} loading={list.loadingMore}>
            Load more
          </Button>
        )}
      </Group>
    </>
  );
}
