import { Select } from '@mantine/core';
import { useMemo } from 'react';
import { displayName, parseRef } from '../../api/refs.ts';
import { useApi, useSession } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';

interface Props {
  value: string | null;
  onChange(team: string | null): void;
  error?: string | undefined;
}

/** The owning team: one of the catalog's teams, the signed-in user's own first. The value is what `owner` takes. */
export function TeamSelect({ value, onChange, error }: Props) {
  const api = useApi();
  const { me } = useSession();
  const teams = useAsync((signal) => api.teams.list({ limit: 500 }, signal), [api]);
  const mine = useMemo(() => new Set(me?.teams ?? []), [me]);
  const data = useMemo(() => {
    const options = (teams.data?.items ?? []).map((t) => ({
      value: t.namespace === 'default' ? t.name : t.ref,
      label: t.title ? `${displayName(t)} (${t.name})` : displayName(t),
      mine: mine.has(t.ref),
    }));
    const groups = [
      { group: 'Your teams', items: options.filter((o) => o.mine) },
      { group: 'Other teams', items: options.filter((o) => !o.mine) },
    ].filter((g) => g.items.length > 0);
    return groups.length === 1 ? (groups[0]?.items ?? []) : groups;
  }, [teams.data, mine]);

  return (
    <Select
      label="Owner team"
      description="The team that owns the application; its members may change it."
      placeholder={teams.status === 'loading' ? 'Loading teams…' : 'Choose a team'}
      data={data}
      value={value}
      onChange={onChange}
      searchable
      required
      withAsterisk
      allowDeselect={false}
      nothingFoundMessage="No such team"
      error={error ?? (teams.status === 'error' ? 'Teams could not be loaded' : undefined)}
      comboboxProps={{ withinPortal: true }}
      data-input="owner"
    />
  );
}

/** The first team the user is a member of, as an `owner` value. */
export function defaultOwner(teams: string[] | undefined): string | null {
  const first = teams?.[0];
  if (!first) return null;
  const r = parseRef(first);
  return r.namespace === 'default' ? r.name : first;
}
