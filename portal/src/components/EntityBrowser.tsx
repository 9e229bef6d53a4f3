import { Button, Card, Center, Group, Stack, Text } from '@mantine/core';
import { useMemo } from 'react';
import { useSearchParams } from 'react-router';
import type { EntityKind, EntityListParams } from '../api/client.ts';
import { isKind } from '../api/refs.ts';
import { usePagedEntities } from '../api/usePagedEntities.ts';
import { EntityTable, type EntityColumn } from './EntityTable.tsx';
import { KindSelect } from './KindSelect.tsx';
import { Loading } from './Loading.tsx';
import { OwnerSelect } from './OwnerSelect.tsx';
import { ProblemAlert } from './ProblemAlert.tsx';
import { SearchBox } from './SearchBox.tsx';

interface Props {
  /** Lists only this kind, without a kind filter. */
  kind?: EntityKind;
  /** What the list holds, e.g. "catalog entities"; used in labels. */
  noun: string;
  columns?: EntityColumn[];
  withOwnerFilter?: boolean;
}

/** Search, filters and a growing table, all kept in the URL's query string (q, kind, owner). */
export function EntityBrowser({ kind, noun, columns, withOwnerFilter = true }: Props) {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const urlKind = params.get('kind');
  const selectedKind = kind ?? (isKind(urlKind) ? urlKind : null);
  const owner = withOwnerFilter ? params.get('owner') : null;

  const query = useMemo<EntityListParams>(
    () => ({ ...(q ? { q } : {}), ...(selectedKind ? { kind: selectedKind } : {}), ...(owner ? { owner } : {}) }),
    [q, selectedKind, owner],
  );
  const list = usePagedEntities(query);

  function setParam(name: string, value: string | null) {
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (value) n.set(name, value);
        else n.delete(name);
        return n;
      },
      { replace: true },
    );
  }

  const filtered = Boolean(q || owner || (!kind && selectedKind));
  return (
    <Stack gap="md">
      <Card withBorder padding="md" component="search" aria-label={`Search ${noun}`}>
        <Group align="flex-end" gap="md" wrap="wrap">
          <SearchBox label={`Search ${noun}`} placeholder="Name, title, description or tag" />
          {!kind && <KindSelect value={selectedKind} onChange={(k) => setParam('kind', k)} />}
          {withOwnerFilter && <OwnerSelect value={owner} onChange={(o) => setParam('owner', o)} />}
        </Group>
      </Card>

      <Card withBorder padding={0}>
        {list.status === 'loading' && <Loading label={`Loading ${noun}`} />}
        {list.status === 'error' && (
          <Stack p="md">
            <ProblemAlert error={list.error} title={`The ${noun} could not be loaded`} onRetry={list.reload} />
          </Stack>
        )}
        {list.status === 'ok' && list.items.length === 0 && (
          <Center p="xl">
            <Text c="dimmed" role="status">
              {filtered ? `No ${noun} match this search.` : `There are no ${noun} yet.`}
            </Text>
          </Center>
        )}
        {list.status === 'ok' && list.items.length > 0 && (
          <EntityTable items={list.items} caption={filtered ? `${noun} matching the search` : noun} {...(columns ? { columns } : {})} />
        )}
      </Card>

      {list.status === 'ok' && list.items.length > 0 && (
        <Group justify="space-between">
          <Text size="sm" c="dimmed" role="status" aria-live="polite">
            Showing {list.items.length} {noun}
            {list.hasMore ? '; more are available' : ''}
          </Text>
          {list.hasMore && (
            <Button variant="default" onClick={list.loadMore} loading={list.loadingMore}>
              Load more
            </Button>
          )}
        </Group>
      )}
      {list.status === 'ok' && list.error !== null && <ProblemAlert error={list.error} title="More results could not be loaded" onRetry={list.loadMore} />}
    </Stack>
  );
}
