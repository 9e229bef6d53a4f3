import { JsonInput, NumberInput, Select, Switch, Text, TextInput } from '@mantine/core';
import type { ReactNode } from 'react';
import type { InputField } from '../../api/client.ts';
import { fieldHint, type InputValue } from '../../api/inputs.ts';

interface Props {
  field: InputField;
  value: InputValue;
  onChange(value: InputValue): void;
  error?: string | undefined;
}

function Description({ field }: { field: InputField }) {
  const hint = fieldHint(field);
  return (
    <>
      {!field.editable && (
        <Text span size="xs" fw={700} c="orange.8">
          Set by the platform team.{' '}
        </Text>
      )}
      {field.description}
      {hint && field.editable && (
        <Text span size="xs" c="dimmed" ff="monospace" ml={field.description ? 6 : 0}>
          ({hint})
        </Text>
      )}
    </>
  );
}

/**
 * One typed input as the control that fits its schema: Select for an enum, NumberInput for numbers,
 * Switch for booleans, JSON for arrays and objects, TextInput otherwise. Inputs set by the platform team
 * are read-only.
 */
export function InputFieldControl({ field: f, value, onChange, error }: Props) {
  const common = {
    label: f.title,
    description: (<Description field={f} />) as ReactNode,
    error,
    withAsterisk: f.required && f.editable,
    required: f.required && f.editable,
    readOnly: !f.editable,
    variant: f.editable ? 'default' : 'filled',
    'data-input': f.name,
  } as const;

  if (f.enum) {
    const options = f.enum.map((e, i) => ({ value: String(i), label: String(e) }));
    const index = f.enum.findIndex((e) => Object.is(e, value));
    return (
      <Select
        {...common}
        data={options}
        value={index >= 0 ? String(index) : null}
        onChange={(v) => onChange(v === null ? null : f.enum?.[Number(v)])}
        allowDeselect={!f.required && f.default === undefined}
        clearable={!f.required && f.default === undefined && f.editable}
        placeholder={f.editable ? 'Choose…' : undefined}
        comboboxProps={{ withinPortal: true }}
      />
    );
  }
  switch (f.type) {
    case 'integer':
    case 'number':
      return (
        <NumberInput
          {...common}
          value={typeof value === 'number' || typeof value === 'string' ? value : ''}
          onChange={onChange}
          min={f.minimum}
          max={f.maximum}
          // Out-of-range values are shown as errors rather than silently changed.
          clampBehavior="none"
          allowDecimal={f.type === 'number'}
          inputMode={f.type === 'number' ? 'decimal' : 'numeric'}
        />
      );
    case 'boolean':
      return (
        <Switch
          label={f.title}
          description={<Description field={f} />}
          error={error}
          checked={value === true}
          onChange={(e) => onChange(e.currentTarget.checked)}
          disabled={!f.editable}
          data-input={f.name}
        />
      );
    case 'array':
    case 'object':
      return (
        <JsonInput
          {...common}
          value={typeof value === 'string' ? value : JSON.stringify(value ?? (f.type === 'array' ? [] : {}), null, 2)}
          onChange={onChange}
          autosize
          minRows={2}
          placeholder={f.type === 'array' ? '[ ]' : '{ }'}
        />
      );
    default:
      return (
        <TextInput
          {...common}
          value={typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value)}
          onChange={(e) => onChange(e.currentTarget.value)}
          type={f.format === 'email' ? 'email' : f.format === 'uri' ? 'url' : 'text'}
          spellCheck={false}
          autoComplete="off"
        />
      );
  }
}
