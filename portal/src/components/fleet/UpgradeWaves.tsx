import { Anchor, Badge, Card, Group, Progress, SimpleGrid, Stack, Text, Tooltip } from '@mantine/core';
import { Link } from 'react-router';
import type { Upgrade, UpgradeApplication } from '../../api/fleet.ts';
import { duration } from '../deployments/format.ts';
import { appName, appPath, ENV_STATE_COLORS, WAVE_STATUS_COLORS } from './format.ts';
import { AppStateBadge } from './UpgradeStatusBadge.tsx';

const COUNT_COLORS = { upgraded: 'green', failed: 'red', running: 'blue', skipped: 'gray.5', cancelled: 'gray.4' } as const;

/** The counts of an upgrade as figures and one progress bar (upgraded, failed, running, skipped, cancelled). */
export function UpgradeCounts({ upgrade }: { upgrade: Upgrade }) {
  const c = upgrade.counts;
  const pct = (n: number) => (c.total ? (n / c.total) * 100 : 0);
  return (
    <Stack gap="xs" data-testid="upgrade-counts" data-total={c.total} data-upgraded={c.upgraded} data-failed={c.failed} data-running={c.running} data-pending={c.pending} data-skipped={c.skipped} data-cancelled={c.cancelled}>
      <Progress.Root size={16} aria-label={`${c.upgraded + c.failed + c.skipped + c.cancelled} of ${c.total} applications done`}>
        {(Object.keys(COUNT_COLORS) as (keyof typeof COUNT_COLORS)[]).map((k) =>
          c[k] > 0 ? (
            <Tooltip key={k} label={`${c[k]} ${k}`}>
              <Progress.Section value={pct(c[k])} color={COUNT_COLORS[k]} animated={k === 'running'} striped={k === 'running'}>
                <Progress.Label>{c[k]}</Progress.Label>
              </Progress.Section>
            </Tooltip>
          ) : null,
        )}
      </Progress.Root>
      <Group gap="lg">
        {(['total', 'pending', 'running', 'upgraded', 'failed', 'skipped', 'cancelled'] as const).map((k) => (
          <div key={k} data-count={k}>
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              {k}
            </Text>
            <Text size="lg" fw={700} c={k === 'failed' && c.failed ? 'red.8' : k === 'upgraded' && c.upgraded ? 'green.8' : undefined}>
              {c[k]}
            </Text>
          </div>
        ))}
      </Group>
    </Stack>
  );
}

function AppRow({ a }: { a: UpgradeApplication }) {
  return (
    <li data-application={appName(a.application)} data-state={a.state} style={{ padding: '6px 0', borderTop: '1px solid var(--mantine-color-default-border)' }}>
      <Group gap="xs" justify="space-between" wrap="nowrap" align="flex-start">
        <div style={{ minWidth: 0 }}>
          <Group gap={6}>
            <Anchor component={Link} to={appPath(a.application)} size="sm" fw={600}>
              {appName(a.application)}
            </Anchor>
            <AppStateBadge state={a.state} />
            {a.durationMs !== null && (
              <Text size="xs" c="dimmed">
                {duration(a.durationMs)}
              </Text>
            )}
            {a.attempts > 1 && (
              <Text size="xs" c="dimmed">
                attempt {a.attempts}
              </Text>
            )}
          </Group>
          <Group gap={4} mt={4}>
            {a.environments.map((e) => (
              <Tooltip key={e.name} label={e.message ?? `${e.type}: ${e.state}${e.deployment ? `, deployment ${e.deployment}` : ''}`} multiline w={320} disabled={!e.message && !e.deployment}>
                <Badge size="sm" variant={e.state === 'done' ? 'light' : 'outline'} color={ENV_STATE_COLORS[e.state]} radius="sm" tt="none" data-environment={e.name} data-state={e.state}>
                  {e.name}: {e.state}
                </Badge>
              </Tooltip>
            ))}
          </Group>
          {a.error && (
            <Text size="xs" c="red.8" mt={4} data-testid="upgrade-app-error">
              {a.error}
            </Text>
          )}
        </div>
        <Text size="xs" c="dimmed" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
          {a.from} → {a.to}
        </Text>
      </Group>
    </li>
  );
}

/** The waves of an upgrade, canary first, each with its applications and their environments' states. */
export function UpgradeWaves({ upgrade }: { upgrade: Upgrade }) {
  const byApp = new Map(upgrade.applications.map((a) => [a.application, a]));
  return (
    <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="md" data-testid="upgrade-waves">
      {upgrade.waves.map((w) => {
        const apps = w.applications.map((ref) => byApp.get(ref)).filter((a) => a !== undefined);
        const done = apps.filter((a) => a.state !== 'pending' && a.state !== 'upgrading' && a.state !== 'reverting').length;
        const current = upgrade.currentWave === w.index;
        return (
          <Card
            key={w.index}
            withBorder
            padding="sm"
            component="section"
            aria-label={w.canary ? 'Canary wave' : `Wave ${w.index + (upgrade.waves[0]?.canary ? 0 : 1)}`}
            data-wave={w.index}
            data-canary={w.canary}
            data-status={w.status}
            style={current ? { borderColor: 'var(--mantine-color-blue-5)', borderWidth: 2 } : undefined}
          >
            <Group justify="space-between" mb={4}>
              <Group gap={6}>
                <Text fw={700} size="sm">
                  {w.canary ? 'Canary wave' : `Wave ${w.index + (upgrade.waves[0]?.canary ? 0 : 1)}`}
                </Text>
                <Badge size="sm" color={WAVE_STATUS_COLORS[w.status]} variant={w.status === 'running' ? 'filled' : 'light'}>
                  {w.status}
                </Badge>
              </Group>
              <Text size="xs" c="dimmed">
                {done} of {apps.length} done
              </Text>
            </Group>
            <Stack gap={0} component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
              {apps.map((a) => (
                <AppRow key={a.application} a={a} />
              ))}
            </Stack>
          </Card>
        );
      })}
    </SimpleGrid>
  );
}
