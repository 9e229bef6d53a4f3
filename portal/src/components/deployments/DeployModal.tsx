import { Alert, Button, Checkbox, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { Build, DeployOptions } from '../../api/deployments.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { ago, shortDigest } from './format.ts';

interface Props {
  environment: string;
  builds: { status: 'loading' | 'error' | 'ok'; items: Build[]; error: unknown; reload(): void };
  onClose(): void;
  onDeploy(opts: DeployOptions): void;
}

/** Chooses a successful build to deploy (the newest by default) and whether to release it once healthy. */
export function DeployModal({ environment, builds, onClose, onDeploy }: Props) {
  const usable = builds.items.filter((b) => b.status === 'succeeded' && b.artifact?.kind === 'local');
  const [chosen, setChosen] = useState<string | null>(null);
  const [release, setRelease] = useState(true);
  const value = chosen ?? (usable[0] ? String(usable[0].number) : null);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!value) return;
    onDeploy({ build: Number(value), release });
  }

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Deploy to {environment}</Text>}>
      <form onSubmit={submit} noValidate aria-label={`Deploy to ${environment}`}>
        <Stack gap="md">
          {builds.status === 'loading' && builds.items.length === 0 && <Loading label="Loading the builds" />}
          {builds.status === 'error' && <ProblemAlert error={builds.error} title="The builds could not be loaded" onRetry={builds.reload} />}
          {builds.status === 'ok' && usable.length === 0 && (
            <Alert color="yellow" variant="light" title="Nothing to deploy yet">
              There is no successful build of this application. Build it first.
            </Alert>
          )}
          {usable.length > 0 && (
            <Select
              label="Build"
              description="Its processes start with the environment's current config; it takes no traffic until released."
              data={usable.map((b) => ({ value: String(b.number), label: `#${b.number} · ${shortDigest(b.artifact?.digest)} · ${ago(b.createdAt)}${b.reused ? ' · reused' : ''}` }))}
              value={value}
              onChange={setChosen}
              allowDeselect={false}
              comboboxProps={{ withinPortal: true }}
              data-testid="deploy-build"
            />
          )}
          <Checkbox label="Release when healthy" description="Switch the environment's route to it as soon as its health checks pass." checked={release} onChange={(e) => setRelease(e.currentTarget.checked)} />
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" disabled={!value}>
              {release ? 'Deploy and release' : 'Deploy'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
