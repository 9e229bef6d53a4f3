import { Anchor, Badge, Center, Group, NativeSelect, SegmentedControl, Stack, Table, Text, TextInput, Tooltip, VisuallyHidden } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useFleetApi, type FleetPattern } from '../../api/fleet.ts';
import { useAsync } from '../../api/useAsync.ts';
import { who } from '../deployments/format.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { appPath, ENVIRONMENT_TYPES } from './format.ts';

/** The drill-down's filters, as the page keeps them in the URL ('' is no filter). */
export interface DrillFilters {
  version: string;
  team: string;
  environmentType: string;
  /** '' all, 'true' behind only, 'false' up to date only. */
  behind: string;
}

/**
 * The applications on one template or add-on (an add-on: one row per instance), with their version, the
 * latest, their environments, pin and a running upgrade; filtered by version, team, environment type
 * and behind or not.
 */
export function FleetApplicationsTable({ pattern, filters, onFilters }: { pattern: FleetPattern; filters: DrillFilters; onFilters: (patch: Partial<DrillFilters>) => void }) {
  const fleet = useFleetApi();
  const [team, setTeam] = useState(filters.team);
  useEffect(() => setTeam(filters.team), [filters.team]);
  const key = `${pattern.kind}|${pattern.name}|${filters.version}|${filters.team}|${filters.environmentType}|${filters.behind}`;
  const list = useAsync(
    (signal) =>
      fleet.applications(
        {
          kind: pattern.kind,
          name: pattern.name,
          version: filters.version || undefined,
          team: filters.team || undefined,
          environmentType: filters.environmentType || undefined,
          behind: filters.behind === '' ? undefined : filters.behind === 'true',
        },
        signal,
      ),
    [fleet, key],
    { keepData: true },
  );
  const set = onFilters;
  const versions = pattern.versions.filter((v) => v.applications > 0 || v.version === filters.version);
  const items = list.data?.items ?? [];

  return (
    <Stack gap="sm">
      <Group align="flex-end" gap="md" wrap="wrap" component="search" aria-label={`Filter the applications on ${pattern.name}`}>
        <NativeSelect
          label="Version"
          value={filters.version}
          onChange={(e) => set({ version: e.currentTarget.value })}
          data={[{ value: '', label: 'Any version' }, ...versions.map((v) => ({ value: v.version, label: `${v.version}${v.latest ? ' (latest)' : ''} · ${v.applications}` }))]}
          data-testid="drill-version"
          style={{ flex: '0 1 180px' }}
        />
        <form
          onSubmit={(e) => {
            e.preventDefault();
            set({ team: team.trim() });
          }}
          style={{ flex: '0 1 220px' }}
        >
          <TextInput label="Team" placeholder="team name, Enter to filter" value={team} onChange={(e) => setTeam(e.currentTarget.value)} onBlur={() => team.trim() !== filters.team && set({ team: team.trim() })} data-testid="drill-team" />
        </form>
        <NativeSelect
          label="Environment type"
          value={filters.environmentType}
          onChange={(e) => set({ environmentType: e.currentTarget.value })}
          data={[{ value: '', label: 'Any' }, ...ENVIRONMENT_TYPES.map((t) => ({ value: t, label: t }))]}
          data-testid="drill-env-type"
          style={{ flex: '0 1 170px' }}
        />
        <div>
          <Text size="sm" fw={500} mb={2} id="drill-behind-label">
            Behind
          </Text>
          <SegmentedControl
            aria-labelledby="drill-behind-label"
            value={filters.behind || 'all'}
            onChange={(v) => set({ behind: v === 'all' ? '' : v })}
            data={[
              { value: 'all', label: 'All' },
              { value: 'true', label: 'Behind' },
              { value: 'false', label: 'Up to date' },
            ]}
            data-testid="drill-behind"
          />
        </div>
      </Group>

      {list.status === 'error' && <ProblemAlert error={list.error} title="The applications could not be loaded" onRetry={list.reload} />}
      {list.status === 'loading' && <Loading label={`Loading the applications on ${pattern.name}`} />}
      {list.status === 'ok' && items.length === 0 && (
        <Center p="lg">
          <Text c="dimmed" size="sm" role="status">
            No application on {pattern.name} matches these filters.
          </Text>
        </Center>
      )}
      {list.status === 'ok' && items.length > 0 && (
        <Table.ScrollContainer minWidth={760}>
          <Table verticalSpacing="xs" highlightOnHover data-testid="fleet-applications" data-query={key}>
            <caption>
              <VisuallyHidden>Applications on {pattern.name}</VisuallyHidden>
            </caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Application</Table.Th>
                <Table.Th scope="col">Team</Table.Th>
                <Table.Th scope="col">Version</Table.Th>
                <Table.Th scope="col">Environments</Table.Th>
                <Table.Th scope="col">Pin</Table.Th>
                <Table.Th scope="col">Upgrade</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((a) => (
                <Table.Tr key={`${a.application}:${a.instance ?? ''}`} data-application={a.name} data-version={a.version} data-behind={a.behind} data-pinned={a.pin !== null}>
                  <Table.Td>
                    <Anchor component={Link} to={appPath(a.application)} size="sm" fw={600}>
                      {a.namespace === 'default' ? a.name : `${a.namespace}/${a.name}`}
                    </Anchor>
                    {a.instance && (
                      <Text size="xs" c="dimmed">
                        instance {a.instance}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{a.team ? who(a.team) : '—'}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Badge variant="light" color={a.behind ? 'orange' : 'green'} radius="sm" tt="none" ff="monospace">
                        {a.version}
                      </Badge>
                      {a.behind && a.latest && (
                        <Text size="xs" c="dimmed">
                          latest {a.latest}
                        </Text>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {a.environments.length === 0 && (
                        <Text size="xs" c="dimmed">
                          none
                        </Text>
                      )}
                      {a.environments.map((e) => (
                        <Badge key={e.name} size="sm" variant="outline" color="gray" radius="sm" tt="none" title={e.type}>
                          {e.name}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    {a.pin ? (
                      <Tooltip label={`${a.pin.reason} (by ${who(a.pin.createdBy)})`} multiline w={280}>
                        <Badge color="grape" variant="light" radius="sm" tt="none" data-testid="pin-badge">
                          pinned at {a.pin.version}
                        </Badge>
                      </Tooltip>
                    ) : (
                      <Text size="xs" c="dimmed">
                        —
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {a.upgrading ? (
                      <Anchor component={Link} to={`/fleet/upgrades/${a.upgrading}`} size="sm">
                        upgrading
                      </Anchor>
                    ) : (
                      <Text size="xs" c="dimmed">
                        —
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.data?.truncated && (
        <Text size="xs" c="dimmed">
          Only the first {items.length} are shown; narrow the filters to see the rest.
        </Text>
      )}
    </Stack>
  );
}
