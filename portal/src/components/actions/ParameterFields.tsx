import { PasswordInput, Stack, Text } from '@mantine/core';
import type { ParameterField } from '../../api/actionParams.ts';
import type { FieldErrors, InputValue, InputValues } from '../../api/inputs.ts';
import { InputFieldControl } from '../templates/InputFieldControl.tsx';

interface Props {
  fields: ParameterField[];
  values: InputValues;
  onChange(name: string, value: InputValue): void;
  /** Keyed `params.<name>`, as the server's field errors are (body.params.<name>). */
  errors: FieldErrors;
}

/**
 * An action's parameters as the template gallery's typed controls (enum → select, number, switch,
 * JSON, text), one to a row; a secret parameter is a password box.
 */
export function ParameterFields({ fields, values, onChange, errors }: Props) {
  if (fields.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="no-parameters">
        This action takes no parameters.
      </Text>
    );
  }
  return (
    <Stack gap="md" data-testid="action-parameters">
      {fields.map((f) =>
        f.secret ? (
          <PasswordInput
            key={f.name}
            label={f.title}
            description={
              <>
                {f.description}
                <Text span size="xs" c="dimmed" ml={f.description ? 6 : 0}>
                  (secret: masked in the run&apos;s record and output)
                </Text>
              </>
            }
            value={typeof values[f.name] === 'string' ? (values[f.name] as string) : ''}
            onChange={(e) => onChange(f.name, e.currentTarget.value)}
            error={errors[`params.${f.name}`]}
            withAsterisk={f.required}
            required={f.required}
            autoComplete="new-password"
            data-input={f.name}
          />
        ) : (
          <InputFieldControl key={f.name} field={f} value={values[f.name]} onChange={(v) => onChange(f.name, v)} error={errors[`params.${f.name}`]} />
        ),
      )}
    </Stack>
  );
}
