import { Grid, Stack } from '@mantine/core';
import type { Entity } from '../api/client.ts';
import { displayName } from '../api/refs.ts';
import { EntityAbout } from './EntityAbout.tsx';
import { crumbsFor } from './EntityView.tsx';
import { KindBadge } from './KindBadge.tsx';
import { PageHeader } from './PageHeader.tsx';
import { RelationGraphLazy } from './RelationGraphLazy.tsx';
import { Section } from './Section.tsx';
import { TeamApplications } from './TeamApplications.tsx';
import { TeamHierarchy } from './TeamHierarchy.tsx';
import { TeamMembers } from './TeamMembers.tsx';

/** A team: who is in it, what it owns, where it sits among the other teams. */
export function TeamView({ team }: { team: Entity }) {
  const relations = team.relations ?? [];
  const members = relations.filter((r) => r.type === 'hasMember');
  return (
    <>
      <PageHeader title={displayName(team)} crumbs={crumbsFor(team)} badge={<KindBadge kind="team" size="md" />} description={team.description} />
      <Stack gap="lg">
        <Grid gap="lg">
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Stack gap="lg">
              <Section title="About">
                <EntityAbout entity={team} />
              </Section>
              <Section title="Parent and child teams">
                <TeamHierarchy relations={relations} />
              </Section>
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 7 }}>
            <Section title={`Members (${members.length})`}>
              <TeamMembers members={members} />
            </Section>
          </Grid.Col>
        </Grid>
        <Section title="Applications">
          <TeamApplications team={team} />
        </Section>
        <Section title="Relations graph">
          <RelationGraphLazy entity={team} />
        </Section>
      </Stack>
    </>
  );
}
