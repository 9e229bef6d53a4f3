import { Alert, Anchor, Button, Group, Modal, Stack, Text, Tooltip } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { isFinal, useFleetApi, type Upgrade } from '../api/fleet.ts';
import { useCan } from '../api/permissions.ts';
import { ago, duration, fullTime, who } from '../components/deployments/format.ts';
import { KIND_LABEL } from '../components/fleet/format.ts';
import { UpgradeEventsLog } from '../components/fleet/UpgradeEventsLog.tsx';
import { UpgradeStatusBadge } from '../components/fleet/UpgradeStatusBadge.tsx';
import { UpgradeCounts, UpgradeWaves } from '../components/fleet/UpgradeWaves.tsx';
import { useUpgradeLive } from '../components/fleet/useUpgradeLive.ts';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';
import { Section } from '../components/Section.tsx';

type Verb = 'pause' | 'resume' | 'cancel';

/** Pause, Resume and Cancel, for platform engineers, as the upgrade's status allows. */
function Controls({ upgrade, onChanged }: { upgrade: Upgrade; onChanged: (u: Upgrade) => void }) {
  const fleet = useFleetApi();
  const can = useCan();
  const [busy, setBusy] = useState<Verb | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  if (isFinal(upgrade.status) || !can('platform.write')) return null;
  const run = async (verb: Verb) => {
    setBusy(verb);
    setError(null);
    try {
      onChanged(await fleet[verb](upgrade.id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      setConfirmCancel(false);
    }
  };
  const s = upgrade.status;
  return (
    <Stack gap="xs">
      <Group gap="xs" data-testid="upgrade-controls">
        <Tooltip label="The applications in flight finish; no other starts until you resume">
          <Button variant="default" onClick={() => void run('pause')} loading={busy === 'pause'} disabled={s !== 'running' || busy !== null}>
            Pause
          </Button>
        </Tooltip>
        <Button variant="light" onClick={() => void run('resume')} loading={busy === 'resume'} disabled={s !== 'paused' || busy !== null}>
          Resume
        </Button>
        <Button variant="light" color="red" onClick={() => setConfirmCancel(true)} disabled={s === 'cancelling' || busy !== null}>
          Cancel upgrade
        </Button>
      </Group>
      {error !== null && <ProblemAlert error={error} title="The upgrade was not changed" />}
      <Modal opened={confirmCancel} onClose={() => setConfirmCancel(false)} title="Cancel this upgrade?" centered>
        <Stack gap="md">
          <Text size="sm">
            The applications being upgraded now finish (or go back to their previous version); the {upgrade.counts.pending} not started stay on their current version. A cancelled upgrade cannot
            be resumed: make a new plan to upgrade them later.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirmCancel(false)}>
              Keep it running
            </Button>
            <Button color="red" onClick={() => void run('cancel')} loading={busy === 'cancel'}>
              Cancel upgrade
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

/** A fleet upgrade, live: status, counts, waves (canary first) with each application's and environment's state, events; pause, resume, cancel. */
export function FleetUpgradePage() {
  const { id = '' } = useParams();
  const { upgrade: u, events, error, live, update } = useUpgradeLive(id);
  const o = u?.options;
  return (
    <>
      <PageHeader
        title={u ? `Upgrade ${u.name} to ${u.version}` : 'Upgrade'}
        crumbs={[{ label: 'Fleet', to: '/fleet' }]}
        badge={u ? <UpgradeStatusBadge status={u.status} /> : undefined}
        description={
          u ? (
            <>
              {KIND_LABEL[u.kind]} {u.name}, started by {who(u.createdBy)} <span title={fullTime(u.startedAt ?? u.createdAt)}>{ago(u.startedAt ?? u.createdAt)}</span>
              {u.finishedAt && u.startedAt ? `, finished after ${duration(new Date(u.finishedAt).getTime() - new Date(u.startedAt).getTime())}` : ''}.{' '}
              <Anchor component={Link} to={`/fleet/plans/${u.plan}`} size="sm">
                The plan
              </Anchor>
            </>
          ) : undefined
        }
      />
      {!u && error === null && <Loading label="Loading the upgrade" />}
      {!u && error !== null && <ProblemAlert error={error} title="The upgrade could not be loaded" />}
      {u && (
        <Stack gap="lg" data-testid="upgrade-live" data-status={u.status} data-live={live}>
          {error !== null && (
            <Alert color="yellow" variant="light" title="Live progress is out of date">
              <Text size="sm">The last poll failed: {error instanceof Error ? error.message : String(error)}. Retrying.</Text>
            </Alert>
          )}
          {u.error && (
            <Alert color={u.status === 'failed' ? 'red' : 'orange'} variant="light" title={u.status === 'failed' ? 'The rollout stopped' : 'Stopped'} role="alert" data-testid="upgrade-error">
              {u.error}
            </Alert>
          )}
          <Section title="Progress" actions={<Controls upgrade={u} onChanged={update} />}>
            <Stack gap="md">
              <UpgradeCounts upgrade={u} />
              {o && (
                <Text size="xs" c="dimmed" data-testid="upgrade-options">
                  Canary {o.canarySize} · waves of {o.waveSize} · {o.concurrency} at a time · failure budget {o.failureBudget} · order {o.environmentOrder.join(' → ')}
                  {o.healthTimeoutSeconds ? ` · health timeout ${o.healthTimeoutSeconds} s` : ''}
                </Text>
              )}
              {(u.status === 'pausing' || u.status === 'cancelling') && (
                <Text size="sm" c="yellow.8" role="status">
                  Waiting for the applications in flight to finish…
                </Text>
              )}
            </Stack>
          </Section>
          <Section title="Waves">
            <UpgradeWaves upgrade={u} />
          </Section>
          <Section title="Events">
            <UpgradeEventsLog events={events} live={live} />
          </Section>
        </Stack>
      )}
    </>
  );
}
