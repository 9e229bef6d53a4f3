import { Button, Group, Modal, NativeSelect, Stack, Text, Textarea } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.ts';
import { useFleetApi, type PatternKind, type Pin } from '../../api/fleet.ts';
import { problemFieldErrors, type FieldErrors } from '../../api/inputs.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';

export interface PinChoice {
  kind: PatternKind;
  name: string;
  version: string;
  label: string;
}

/** Pins the application at the version of its template or of an add-on it uses, with a reason its owners and the platform team see. */
export function PinModal({ namespace, application, choices, onClose, onPinned }: { namespace: string; application: string; choices: PinChoice[]; onClose: () => void; onPinned: (p: Pin) => void }) {
  const fleet = useFleetApi();
  const [choice, setChoice] = useState(0);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const c = choices[choice];

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFailure(null);
    // The server checks the reason (required, at most 1000 characters) and names the field when it refuses.
    if (!c) return;
    setBusy(true);
    try {
      onPinned(await fleet.pin(namespace, application, { kind: c.kind, name: c.name, reason }));
    } catch (err) {
      setBusy(false);
      const mapped = problemFieldErrors(err instanceof ApiError ? err.problem : null, (p) => p === 'reason' || p === 'name');
      const { name: nameError, ...fields } = mapped.fields;
      setErrors(nameError ? { ...fields, what: nameError } : fields);
      if (!Object.keys(mapped.fields).length || mapped.other.length) setFailure(err);
    }
  }

  return (
    <Modal opened onClose={onClose} title={`Pin ${application}`} centered size="lg">
      <form onSubmit={submit} noValidate aria-label={`Pin ${application}`}>
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            A pinned application stays on its version: upgrade plans leave it out, naming your reason. Unpin it when it is ready.
          </Text>
          <NativeSelect
            label="Hold"
            value={String(choice)}
            onChange={(e) => {
              setChoice(Number(e.currentTarget.value));
              setErrors(({ what: _, ...rest }) => rest);
            }}
            data={choices.map((x, i) => ({ value: String(i), label: x.label }))}
            error={errors.what}
            data-input="what"
          />
          <Textarea
            label="Reason"
            description="Shown to the platform team in the fleet view and in every plan that leaves it out"
            placeholder="e.g. waiting for the Q3 freeze to end"
            value={reason}
            onChange={(e) => {
              setReason(e.currentTarget.value);
              setErrors(({ reason: _, ...rest }) => rest);
            }}
            error={errors.reason}
            required
            withAsterisk
            autosize
            minRows={2}
            maxLength={1000}
            data-autofocus
            data-input="reason"
          />
          {failure !== null && <ProblemAlert error={failure} title="The application was not pinned" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={!c}>
              Pin at {c?.version ?? '…'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
