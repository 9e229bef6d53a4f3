import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../../api/session.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';

interface Props {
  namespace: string;
  application: string;
  environment: string;
  /** How many resources the environment has, to say what goes. */
  resources: number;
  onClose(): void;
  onDeleted(): void;
}

/** Deletes an environment and every resource in it, after the user types its name. */
export function DeleteEnvironmentModal({ namespace, application, environment, resources, onClose, onDeleted }: Props) {
  const api = useApi();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await api.golden(namespace, application).deleteEnvironment(environment);
      onDeleted();
    } catch (err) {
      setBusy(false);
      setError(err);
    }
  }
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Delete environment {environment}?</Text>}>
      <Stack gap="md">
        <Text size="sm">
          {resources > 0 ? (
            <>
              Pave deletes its <b>{resources}</b> resource{resources === 1 ? '' : 's'}, <b>with their data</b>, then the environment. This cannot be undone.
            </>
          ) : (
            'It has no resources; only the environment goes.'
          )}
        </Text>
        <TextInput label={`Type ${environment} to confirm`} value={typed} onChange={(e) => setTyped(e.currentTarget.value)} data-autofocus autoComplete="off" spellCheck={false} />
        {error !== null && <ProblemAlert error={error} title="The environment was not deleted" />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose}>
            Keep it
          </Button>
          <Button color="red" onClick={remove} loading={busy} disabled={typed !== environment}>
            Delete environment
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
