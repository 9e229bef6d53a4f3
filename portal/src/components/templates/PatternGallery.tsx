import { Center, SimpleGrid, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { PatternSummary } from '../../api/client.ts';
import type { AsyncState } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';

interface Props {
  list: AsyncState<{ items: PatternSummary[] }> & { reload(): void };
  /** "templates" or "add-ons". */
  noun: string;
  card(p: PatternSummary): ReactNode;
}

/** Cards of templates or add-ons, with loading, error and empty states. */
export function PatternGallery({ list, noun, card }: Props) {
  if (list.status === 'loading') return <Loading label={`Loading ${noun}`} />;
  if (list.status === 'error') return <ProblemAlert error={list.error} title={`The ${noun} could not be loaded`} onRetry={list.reload} />;
  if (list.data.items.length === 0) {
    return (
      <Center p="xl">
        <Text c="dimmed" role="status">
          The platform team has published no {noun} yet.
        </Text>
      </Center>
    );
  }
  const items = [...list.data.items].sort((a, b) => (a.title ?? a.name).localeCompare(b.title ?? b.name));
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="lg" component="ul" aria-label={noun} style={{ listStyle: 'none', margin: 0, padding: 0 }}>
      {items.map((p) => (
        <li key={p.name} style={{ display: 'flex', flexDirection: 'column' }}>
          {card(p)}
        </li>
      ))}
    </SimpleGrid>
  );
}
