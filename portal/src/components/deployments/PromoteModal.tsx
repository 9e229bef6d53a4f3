import { Button, Checkbox, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';

interface Props {
  from: string;
  /** What is released in `from`, in words. */
  releasedLabel: string;
  targets: string[];
  onClose(): void;
  onPromote(to: string, release: boolean): void;
}

/** Deploys the build released in one environment into another, with the target's own config. */
export function PromoteModal({ from, releasedLabel, targets, onClose, onPromote }: Props) {
  const [to, setTo] = useState<string | null>(targets[0] ?? null);
  const [release, setRelease] = useState(true);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (to) onPromote(to, release);
  }

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Promote {from}</Text>}>
      <form onSubmit={submit} noValidate aria-label={`Promote ${from}`}>
        <Stack gap="md">
          <Text size="sm">
            Deploys the build of {releasedLabel} into another environment, with that environment&apos;s config.
          </Text>
          <Select label="Target environment" data={targets} value={to} onChange={setTo} allowDeselect={false} comboboxProps={{ withinPortal: true }} />
          <Checkbox label="Release when healthy" checked={release} onChange={(e) => setRelease(e.currentTarget.checked)} />
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" disabled={!to}>
              Promote to {to ?? '…'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
