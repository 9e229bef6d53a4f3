import { SimpleGrid, Text } from '@mantine/core';
import type { InputField } from '../../api/client.ts';
import type { FieldErrors, InputValue, InputValues } from '../../api/inputs.ts';
import { InputFieldControl } from './InputFieldControl.tsx';

interface Props {
  fields: InputField[];
  values: InputValues;
  onChange(name: string, value: InputValue): void;
  errors: FieldErrors;
  /** Path of these inputs in the form's errors, e.g. `inputs` or `addons.postgres.inputs`. */
  prefix: string;
  empty?: string;
  /** Fields per row on wide screens (default 2). */
  cols?: number;
}

/** A form's worth of typed inputs, two to a row on wide screens. */
export function InputFieldsGroup({ fields, values, onChange, errors, prefix, empty = 'No inputs to set.', cols = 2 }: Props) {
  if (fields.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <SimpleGrid cols={{ base: 1, sm: cols }} spacing="md" verticalSpacing="md">
      {fields.map((f) => (
        <InputFieldControl key={f.name} field={f} value={values[f.name]} onChange={(v) => onChange(f.name, v)} error={errors[`${prefix}.${f.name}`]} />
      ))}
    </SimpleGrid>
  );
}
