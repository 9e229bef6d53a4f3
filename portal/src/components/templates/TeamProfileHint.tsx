import { Text } from '@mantine/core';
import { parseRef } from '../../api/refs.ts';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';

const SHOWN = ['runtime', 'region', 'replicas', 'cpu', 'memory'];

/** The owner team's defaults for the environment the application starts with (its team profile). */
export function TeamProfileHint({ owner, environment }: { owner: string | null; environment: string }) {
  const api = useApi();
  const team = owner ? parseRef(owner).name : null;
  const profile = useAsync((signal) => (team ? api.teamProfile(team, signal) : Promise.resolve(null)), [api, team]);
  const env = profile.data?.environments[environment];
  if (!team || !env) return null;
  const parts = SHOWN.filter((k) => env[k] !== undefined).map((k) => `${k} ${String(env[k])}`);
  return (
    <Text size="xs" c="dimmed" mt="xs" data-testid="team-profile">
      {team}&apos;s {environment} defaults{profile.data?.profiles.length ? ` (profile ${profile.data.profiles.join(', ')})` : ''}: {parts.join(' · ') || 'none'}.
    </Text>
  );
}
