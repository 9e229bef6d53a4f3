import { Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { DeploymentsClient } from '../../api/deployments.ts';
import { useAsync } from '../../api/useAsync.ts';
import { ago } from './format.ts';

const PREVIOUS = 'previous';

interface Props {
  environment: string;
  api: DeploymentsClient;
  onClose(): void;
  onRollback(to: number | undefined): void;
}

/** Rolls back to the deployment released before the current one, or to a chosen healthy one. Warm ones switch instantly. */
export function RollbackModal({ environment, api, onClose, onRollback }: Props) {
  const history = useAsync((signal) => api.deployments(environment, signal), [api, environment]);
  const targets = (history.data?.items ?? []).filter((d) => d.status === 'healthy' && !d.released);
  const [to, setTo] = useState<string>(PREVIOUS);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    onRollback(to === PREVIOUS ? undefined : Number(to));
  }

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Roll back {environment}</Text>}>
      <form onSubmit={submit} noValidate aria-label={`Roll back ${environment}`}>
        <Stack gap="md">
          <Select
            label="Roll back to"
            data={[
              { value: PREVIOUS, label: 'The deployment released before the current one' },
              ...targets.map((d) => ({ value: String(d.number), label: `#${d.number} · build #${d.build.number} · config v${d.configVersion} · ${d.running} · ${ago(d.createdAt)}` })),
            ]}
            value={to}
            onChange={(v) => v && setTo(v)}
            allowDeselect={false}
            comboboxProps={{ withinPortal: true }}
          />
          <Text size="xs" c="dimmed">
            A deployment still warm takes traffic at once; a stopped one is started again from its build and config snapshot (never rebuilt).
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="orange">
              Roll back
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
