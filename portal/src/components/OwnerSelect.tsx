import { Select } from '@mantine/core';
import { useMemo } from 'react';
import { displayName, refDisplayName } from '../api/refs.ts';
import { useApi } from '../api/session.tsx';
import { useAsync } from '../api/useAsync.ts';

/** Owner filter: one of the catalog's teams (the value is what the API's `owner` filter takes). */
export function OwnerSelect({ value, onChange }: { value: string | null; onChange(owner: string | null): void }) {
  const api = useApi();
  const teams = useAsync((signal) => api.teams.list({ limit: 500 }, signal), [api]);
  const data = useMemo(() => {
    const options = (teams.data?.items ?? []).map((t) => ({
      value: t.namespace === 'default' ? t.name : t.ref,
      label: t.title ? `${displayName(t)} (${t.name})` : displayName(t),
    }));
    if (value && !options.some((o) => o.value === value)) options.unshift({ value, label: refDisplayName(value) });
    return options;
  }, [teams.data, value]);

  return (
    <Select
      label="Owner"
      placeholder={teams.status === 'loading' ? 'Loading teams…' : 'Any owner'}
      data={data}
      value={value}
      onChange={onChange}
      searchable
      clearable
      clearButtonProps={{ 'aria-label': 'Clear owner filter' }}
      nothingFoundMessage="No such team"
      error={teams.status === 'error' ? 'Teams could not be loaded' : undefined}
      w={220}
    />
  );
}
