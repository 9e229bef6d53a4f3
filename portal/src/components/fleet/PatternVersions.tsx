import { Anchor, Badge, Group, Stack, Table, Text, Title, Tooltip, VisuallyHidden } from '@mantine/core';
import { Link } from 'react-router';
import type { FleetPattern } from '../../api/fleet.ts';
import { ago, fullTime, who } from '../deployments/format.ts';
import { appName, appPath } from './format.ts';

/** One template or add-on: applications, environments and pins per version (newest first), and its pins with their reasons. */
export function PatternVersions({ pattern, onVersion }: { pattern: FleetPattern; onVersion: (version: string) => void }) {
  return (
    <Stack gap="md">
      <Table verticalSpacing={6} data-testid="fleet-versions" maw={720}>
        <caption>
          <VisuallyHidden>Versions of {pattern.name}, newest first</VisuallyHidden>
        </caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Version</Table.Th>
            <Table.Th scope="col" ta="right">
              Applications
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Environments
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Pinned
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {pattern.versions.map((v) => (
            <Table.Tr key={v.version} data-version={v.version} data-applications={v.applications} data-environments={v.environments} data-pinned={v.pinned} data-latest={v.latest}>
              <Table.Td>
                <Group gap={6}>
                  <Text size="sm" ff="monospace" fw={v.latest ? 700 : 400}>
                    {v.version}
                  </Text>
                  {v.latest && (
                    <Badge size="xs" color="green" variant="light">
                      latest
                    </Badge>
                  )}
                  {!v.published && (
                    <Badge size="xs" color="red" variant="light">
                      retired
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td ta="right">
                {v.applications > 0 ? (
                  <Anchor component="button" size="sm" onClick={() => onVersion(v.version)} aria-label={`Show the ${v.applications} applications on ${v.version}`}>
                    {v.applications}
                  </Anchor>
                ) : (
                  <Text span size="sm" c="dimmed">
                    0
                  </Text>
                )}
              </Table.Td>
              <Table.Td ta="right">{v.environments}</Table.Td>
              <Table.Td ta="right">{v.pinned}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>

      <section aria-labelledby="fleet-pins-title">
        <Title order={3} size="h5" mb={6} id="fleet-pins-title">
          Pins
        </Title>
        {pattern.pins.length === 0 ? (
          <Text size="sm" c="dimmed">
            No application holds {pattern.name} at its version. Owners pin an application from its page, with a reason.
          </Text>
        ) : (
          <Stack gap={6} component="ul" data-testid="fleet-pins" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {pattern.pins.map((p) => (
              <li key={p.application} data-application={appName(p.application)} data-version={p.version}>
                <Group gap="xs" wrap="nowrap" align="baseline">
                  <Anchor component={Link} to={appPath(p.application)} size="sm" fw={600}>
                    {appName(p.application)}
                  </Anchor>
                  <Badge size="sm" color="grape" variant="light" radius="sm" tt="none">
                    held at {p.version}
                  </Badge>
                  <Text size="sm">{p.reason}</Text>
                  <Tooltip label={fullTime(p.createdAt)}>
                    <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                      {who(p.createdBy)}, {ago(p.createdAt)}
                    </Text>
                  </Tooltip>
                </Group>
              </li>
            ))}
          </Stack>
        )}
      </section>
    </Stack>
  );
}
