import { Select } from '@mantine/core';
import type { EntityKind } from '../api/client.ts';
import { KIND_LABELS, KINDS } from '../api/refs.ts';

const DATA = [{ value: '', label: 'All kinds' }, ...KINDS.map((k) => ({ value: k, label: KIND_LABELS[k].many }))];

export function KindSelect({ value, onChange }: { value: EntityKind | null; onChange(kind: EntityKind | null): void }) {
  return (
    <Select
      label="Kind"
      data={DATA}
      value={value ?? ''}
      onChange={(v) => onChange(v ? (v as EntityKind) : null)}
      allowDeselect={false}
      w={180}
      comboboxProps={{ withinPortal: true }}
    />
  );
}
