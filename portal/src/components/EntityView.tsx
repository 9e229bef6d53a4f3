import { Grid, Group, Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Entity } from '../api/client.ts';
import { displayName } from '../api/refs.ts';
import { EntityAbout } from './EntityAbout.tsx';
import { EntityLinks } from './EntityLinks.tsx';
import { KindBadge } from './KindBadge.tsx';
import { LifecycleBadge } from './LifecycleBadge.tsx';
import { PageHeader, type Crumb } from './PageHeader.tsx';
import { RelationGraphLazy } from './RelationGraphLazy.tsx';
import { RelationList } from './RelationList.tsx';
import { Section } from './Section.tsx';

export function crumbsFor(entity: Entity): Crumb[] {
  if (entity.kind === 'application') return [{ label: 'Applications', to: '/applications' }];
  if (entity.kind === 'team') return [{ label: 'Teams', to: '/teams' }];
  return [{ label: 'Catalog', to: '/catalog' }, { label: `Kind: ${entity.kind}`, to: `/catalog?kind=${entity.kind}` }];
}

/** The page of an application, user, system, domain, API or resource. */
export function EntityView({ entity, extra }: { entity: Entity; extra?: ReactNode }) {
  const relations = entity.relations ?? [];
  return (
    <>
      <PageHeader
        title={displayName(entity)}
        crumbs={crumbsFor(entity)}
        badge={
          <Group gap={6}>
            <KindBadge kind={entity.kind} size="md" />
            {entity.lifecycle && <LifecycleBadge lifecycle={entity.lifecycle} />}
          </Group>
        }
        description={entity.description}
      />
      <Stack gap="lg">
        <Grid gap="lg">
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Stack gap="lg">
              <Section title="About">
                <EntityAbout entity={entity} />
              </Section>
              <Section title="Links">
                <EntityLinks links={entity.links} />
              </Section>
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 7 }}>
            <Section title="Relations">
              <RelationList relations={relations} />
            </Section>
          </Grid.Col>
        </Grid>
        {extra}
        <Section title="Relations graph">
          <RelationGraphLazy entity={entity} />
        </Section>
      </Stack>
    </>
  );
}
