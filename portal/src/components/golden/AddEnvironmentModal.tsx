import { Button, Group, Modal, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage, type EnvironmentType, type GoldenPath } from '../../api/client.ts';
import { problemFieldErrors, type FieldErrors } from '../../api/inputs.ts';
import { useApi } from '../../api/session.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';

// Environment names (src/contracts/golden.ts); the server checks them too.
const ENV_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
const TYPES: { value: EnvironmentType; label: string }[] = [
  { value: 'development', label: 'Development' },
  { value: 'staging', label: 'Staging' },
  { value: 'production', label: 'Production' },
  { value: 'preview', label: 'Preview (expires)' },
];

interface Props {
  namespace: string;
  application: string;
  existing: string[];
  onClose(): void;
  onCreated(golden: GoldenPath, environment: string): void;
}

/** Adds an environment; its resources are provisioned by the apply that follows its plan. */
export function AddEnvironmentModal({ namespace, application, existing, onClose, onCreated }: Props) {
  const api = useApi();
  const [name, setName] = useState('');
  const [type, setType] = useState<EnvironmentType>('staging');
  const [ttl, setTtl] = useState<number | string>(48);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFailure(null);
    const n = name.trim();
    const found: FieldErrors = {};
    if (!ENV_NAME.test(n)) found.name = 'must be 2-63 lowercase letters, digits and "-"';
    else if (existing.includes(n)) found.name = `the application already has an environment named ${n}`;
    if (type === 'preview' && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 2160)) found.ttlHours = 'must be a whole number of hours from 1 to 2160';
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const golden = await api.golden(namespace, application).createEnvironment({ name: n, type, provision: false, ...(type === 'preview' && typeof ttl === 'number' ? { ttlHours: ttl } : {}) });
      onCreated(golden, n);
    } catch (err) {
      setBusy(false);
      const mapped = problemFieldErrors(err instanceof ApiError ? err.problem : null, (p) => p === 'name' || p === 'type' || p === 'ttlHours');
      if (err instanceof ApiError && err.status === 409) mapped.fields.name = errorMessage(err);
      setErrors(mapped.fields);
      if (Object.keys(mapped.fields).length === 0 || mapped.other.length) setFailure(err);
    }
  }

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Add an environment</Text>}>
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <TextInput
            label="Name"
            description="Lowercase letters, digits and -, e.g. staging or pr-42."
            value={name}
            onChange={(e) => {
              setName(e.currentTarget.value);
              setErrors(({ name: _, ...rest }) => rest);
            }}
            error={errors.name}
            required
            withAsterisk
            data-autofocus
            spellCheck={false}
            autoComplete="off"
          />
          <Select label="Type" description="Sets the team profile's defaults and the policies that apply." data={TYPES} value={type} onChange={(v) => v && setType(v as EnvironmentType)} allowDeselect={false} error={errors.type} comboboxProps={{ withinPortal: true }} />
          {type === 'preview' && <NumberInput label="Expires after (hours)" value={ttl} onChange={setTtl} min={1} max={2160} clampBehavior="none" allowDecimal={false} error={errors.ttlHours} />}
          {failure !== null && <ProblemAlert error={failure} title="The environment was not added" />}
          <Text size="xs" c="dimmed">
            Nothing is provisioned yet: the plan that follows shows what applying it will create.
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Add environment
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
