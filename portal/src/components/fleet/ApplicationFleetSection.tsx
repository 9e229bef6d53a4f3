import { Anchor, Badge, Button, Group, Stack, Table, Text, Title, Tooltip, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useFleetApi, type Pin } from '../../api/fleet.ts';
import { useCan } from '../../api/permissions.ts';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import { ago, fullTime, who } from '../deployments/format.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { Section } from '../Section.tsx';
import { ENV_STATE_COLORS, KIND_LABEL } from './format.ts';
import { PinModal, type PinChoice } from './PinModal.tsx';
import { AppStateBadge, UpgradeStatusBadge } from './UpgradeStatusBadge.tsx';

/**
 * An application's side of the fleet: the upgrades it went through (newest first) and its pins, with
 * pin (a reason is required) and unpin for its owners. Shown for applications made from a template.
 */
export function ApplicationFleetSection({ namespace, name }: { namespace: string; name: string }) {
  const client = useApi();
  const fleet = useFleetApi();
  const can = useCan();
  const golden = useAsync(
    (signal) =>
      client
        .golden(namespace, name)
        .get(signal)
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        }),
    [client, namespace, name],
  );
  const managed = golden.status === 'ok' && golden.data !== null;
  const history = useAsync(async (signal) => (managed ? fleet.history(namespace, name, signal) : null), [fleet, namespace, name, managed], { keepData: true });
  const owner = useAsync((signal) => client.getEntity('application', namespace, name, signal).then((e) => (e.owner?.startsWith('team:') ? e.owner : null)), [client, namespace, name]);
  const [pinning, setPinning] = useState(false);
  const [unpinning, setUnpinning] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);

  if (golden.status === 'loading') return null;
  if (golden.status === 'error') {
    return (
      <Section title="Fleet upgrades">
        <ProblemAlert error={golden.error} title="The upgrades could not be loaded" onRetry={golden.reload} />
      </Section>
    );
  }
  const g = golden.data;
  if (!g) return null;
  const mayPin = can('application.write', { team: owner.data ?? null });
  const pins = history.data?.pins ?? [];
  const items = history.data?.items ?? [];
  const pinned = new Set(pins.map((p) => `${p.kind}:${p.name}`));
  const choices: PinChoice[] = [
    { kind: 'template' as const, name: g.template.name, version: g.template.version, label: `Template ${g.template.name} at ${g.template.version}` },
    ...[...new Map(g.addons.map((a) => [a.addon, a])).values()].map((a) => ({ kind: 'addon' as const, name: a.addon, version: a.version, label: `Add-on ${a.addon} at ${a.version}` })),
  ].filter((c) => !pinned.has(`${c.kind}:${c.name}`));

  const unpin = async (p: Pin) => {
    setUnpinning(`${p.kind}:${p.name}`);
    setFailure(null);
    try {
      await fleet.unpin(namespace, name, p.kind, p.name);
      history.reload();
    } catch (err) {
      setFailure(err);
    } finally {
      setUnpinning(null);
    }
  };

  return (
    <Section
      title="Fleet upgrades"
      actions={
        mayPin && choices.length > 0 ? (
          <Button size="xs" variant="light" onClick={() => setPinning(true)} data-testid="pin-button">
            Pin a version
          </Button>
        ) : undefined
      }
    >
      <Stack gap="lg" data-testid="app-fleet">
        {history.status === 'error' && <ProblemAlert error={history.error} title="The upgrade history could not be loaded" onRetry={history.reload} />}
        {failure !== null && <ProblemAlert error={failure} title="The pin was not removed" />}

        <section aria-labelledby="app-pins-title">
          <Title order={3} size="h5" mb={6} id="app-pins-title">
            Pins
          </Title>
          {pins.length === 0 ? (
            <Text size="sm" c="dimmed">
              Not pinned: fleet upgrades of {g.template.name} and its add-ons may include this application.
            </Text>
          ) : (
            <Stack gap={6} component="ul" data-testid="app-pins" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
              {pins.map((p) => (
                <li key={`${p.kind}:${p.name}`} data-kind={p.kind} data-name={p.name} data-version={p.version}>
                  <Group gap="xs" wrap="nowrap" align="baseline">
                    <Badge color="grape" variant="light" radius="sm" tt="none">
                      {KIND_LABEL[p.kind]} {p.name} held at {p.version}
                    </Badge>
                    <Text size="sm" data-testid="pin-reason">
                      {p.reason}
                    </Text>
                    <Tooltip label={fullTime(p.createdAt)}>
                      <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                        {who(p.createdBy)}, {ago(p.createdAt)}
                      </Text>
                    </Tooltip>
                    {mayPin && (
                      <Button size="compact-xs" variant="subtle" color="red" onClick={() => void unpin(p)} loading={unpinning === `${p.kind}:${p.name}`} aria-label={`Unpin ${p.name}`}>
                        Unpin
                      </Button>
                    )}
                  </Group>
                </li>
              ))}
            </Stack>
          )}
        </section>

        <section aria-labelledby="app-upgrades-title">
          <Title order={3} size="h5" mb={6} id="app-upgrades-title">
            Upgrade history
          </Title>
          {items.length === 0 ? (
            <Text size="sm" c="dimmed">
              No fleet upgrade has touched this application yet.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={720}>
              <Table verticalSpacing="xs" data-testid="app-upgrades">
                <caption>
                  <VisuallyHidden>Fleet upgrades of {name}, newest first</VisuallyHidden>
                </caption>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Upgrade</Table.Th>
                    <Table.Th scope="col">This application</Table.Th>
                    <Table.Th scope="col">Environments</Table.Th>
                    <Table.Th scope="col">When</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((u) => (
                    <Table.Tr key={u.upgrade} data-upgrade={u.upgrade} data-state={u.state}>
                      <Table.Td>
                        <Anchor component={Link} to={`/fleet/upgrades/${u.upgrade}`} size="sm" fw={600}>
                          {u.name} {u.from} → {u.to}
                        </Anchor>
                        <Group gap={4} mt={2}>
                          <Text size="xs" c="dimmed">
                            {KIND_LABEL[u.kind]} · by {who(u.createdBy)}
                          </Text>
                          <UpgradeStatusBadge status={u.upgradeStatus} size="xs" />
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <AppStateBadge state={u.state} />
                        {u.error && (
                          <Text size="xs" c="red.8" mt={2}>
                            {u.error}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {u.environments.map((e) => (
                            <Badge key={e.name} size="sm" variant="outline" color={ENV_STATE_COLORS[e.state]} radius="sm" tt="none" title={e.message ?? undefined}>
                              {e.name}: {e.state}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <Tooltip label={fullTime(u.startedAt)} disabled={!u.startedAt}>
                          <Text size="sm">{u.startedAt ? ago(u.startedAt) : 'not started'}</Text>
                        </Tooltip>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </section>
      </Stack>

      {pinning && (
        <PinModal
          namespace={namespace}
          application={name}
          choices={choices}
          onClose={() => setPinning(false)}
          onPinned={() => {
            setPinning(false);
            history.reload();
          }}
        />
      )}
    </Section>
  );
}
