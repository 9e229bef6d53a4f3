import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { GoldenPath } from '../../api/client.ts';
import { useApi } from '../../api/session.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';

interface Props {
  namespace: string;
  application: string;
  addon: string;
  onClose(): void;
  onRemoved(golden: GoldenPath): void;
}

/** Asks before detaching an add-on: its resources, and their data, go with the next apply. */
export function RemoveAddOnModal({ namespace, application, addon, onClose, onRemoved }: Props) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function remove() {
    setBusy(true);
    setError(null);
    try {
      onRemoved(await api.golden(namespace, application).detachAddon(addon));
    } catch (err) {
      setBusy(false);
      setError(err);
    }
  }
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Remove add-on {addon}?</Text>}>
      <Stack gap="md">
        <Text size="sm">
          The application stops asking for <b>{addon}</b>. The next apply of each environment <b>deletes its resources and the data in them</b>; the plan that follows shows
          what goes.
        </Text>
        {error !== null && <ProblemAlert error={error} title="The add-on was not removed" />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose} data-autofocus>
            Keep it
          </Button>
          <Button color="red" onClick={remove} loading={busy}>
            Remove add-on
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
