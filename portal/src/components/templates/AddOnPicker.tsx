import { Box, Checkbox, Code, Group, Stack, Text } from '@mantine/core';
import type { PatternSummary } from '../../api/client.ts';
import type { FieldErrors, InputValue, InputValues } from '../../api/inputs.ts';
import { InputFieldsGroup } from './InputFieldsGroup.tsx';

export type AddOnChoices = Record<string, { on: boolean; values: InputValues }>;

interface Props {
  addons: PatternSummary[];
  choices: AddOnChoices;
  onToggle(addon: string, on: boolean): void;
  onChange(addon: string, input: string, value: InputValue): void;
  errors: FieldErrors;
}

/** Add-ons to attach, each with its own inputs once chosen. */
export function AddOnPicker({ addons, choices, onToggle, onChange, errors }: Props) {
  return (
    <Stack gap="sm" component="ul" aria-label="Available add-ons" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
      {addons.map((a) => {
        const choice = choices[a.name];
        const on = choice?.on ?? false;
        return (
          <Box
            component="li"
            key={a.name}
            p="sm"
            data-addon-choice={a.name}
            style={{ border: `1px solid var(--mantine-color-${on ? 'blue-4' : 'gray-3'})`, borderRadius: 'var(--mantine-radius-md)', background: on ? 'var(--mantine-color-blue-0)' : undefined }}
          >
            <Checkbox
              checked={on}
              onChange={(e) => onToggle(a.name, e.currentTarget.checked)}
              label={
                <Text span fw={600} size="sm">
                  {a.title ?? a.name}{' '}
                  <Text span size="xs" c="dimmed" ff="monospace" fw={400}>
                    {a.name} {a.version}
                  </Text>
                </Text>
              }
              description={
                <>
                  {a.description}
                  {a.outputs.length > 0 && (
                    <Group component="span" gap={4} mt={4} wrap="wrap">
                      <Text span size="xs" c="dimmed">
                        Injects
                      </Text>
                      {[...a.outputs].sort().map((o) => (
                        <Code key={o} fz="xs">
                          {o}
                        </Code>
                      ))}
                    </Group>
                  )}
                </>
              }
            />
            {on && a.fields.length > 0 && (
              <Box mt="sm" ml={32} role="group" aria-label={`${a.title ?? a.name} inputs`}>
                <InputFieldsGroup fields={a.fields} values={choice?.values ?? {}} onChange={(input, v) => onChange(a.name, input, v)} errors={errors} prefix={`addons.${a.name}.inputs`} />
              </Box>
            )}
          </Box>
        );
      })}
    </Stack>
  );
}
