import { Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage, type GoldenPath, type PatternSummary } from '../../api/client.ts';
import { checkFields, defaultValues, problemFieldErrors, toInputs, type FieldErrors, type InputValues } from '../../api/inputs.ts';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { InputFieldsGroup } from '../templates/InputFieldsGroup.tsx';

// Add-on instance names (src/contracts/golden.ts); the server checks them too.
const INSTANCE_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;

interface Props {
  namespace: string;
  application: string;
  attached: string[];
  onClose(): void;
  onAttached(golden: GoldenPath): void;
}

/** Attaches an add-on: which one, an optional instance name, and its inputs. */
export function AddAddOnModal({ namespace, application, attached, onClose, onAttached }: Props) {
  const api = useApi();
  const addons = useAsync((signal) => api.addons.list(signal), [api]);
  const [chosen, setChosen] = useState<PatternSummary | null>(null);
  const [instance, setInstance] = useState('');
  const [values, setValues] = useState<InputValues>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const choose = (name: string | null) => {
    const a = addons.data?.items.find((x) => x.name === name) ?? null;
    setChosen(a);
    setValues(a ? defaultValues(a.fields) : {});
    setErrors({});
    setFailure(null);
  };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFailure(null);
    if (!chosen) {
      setErrors({ addon: 'Choose an add-on' });
      return;
    }
    const name = instance.trim() || chosen.name;
    const found: FieldErrors = checkFields(chosen.fields, values, 'inputs');
    if (!INSTANCE_NAME.test(name)) found.name = 'must be 2-63 lowercase letters, digits and "-"';
    else if (attached.includes(name)) found.name = `the application already has an add-on named ${name}; choose another name`;
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const golden = await api.golden(namespace, application).attachAddon({ addon: chosen.name, ...(instance.trim() ? { name } : {}), inputs: toInputs(chosen.fields, values) });
      onAttached(golden);
    } catch (err) {
      setBusy(false);
      const problem = err instanceof ApiError ? err.problem : null;
      const mapped = problemFieldErrors(problem, (p) => p === 'name' || p === 'addon' || p.startsWith('inputs.'));
      if (err instanceof ApiError && err.status === 409) mapped.fields.name = errorMessage(err);
      setErrors(mapped.fields);
      if (Object.keys(mapped.fields).length === 0 || mapped.other.length) setFailure(err);
    }
  }

  const taken = new Set(attached);
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Add an add-on</Text>} size="lg">
      {addons.status === 'loading' && <Loading label="Loading add-ons" />}
      {addons.status === 'error' && <ProblemAlert error={addons.error} title="The add-ons could not be loaded" onRetry={addons.reload} />}
      {addons.status === 'ok' && (
        <form onSubmit={submit} noValidate>
          <Stack gap="md">
            <Select
              label="Add-on"
              placeholder="Choose an add-on"
              data={addons.data.items.map((a) => ({ value: a.name, label: `${a.title ?? a.name} (${a.name}${taken.has(a.name) ? ', attached' : ''})` }))}
              value={chosen?.name ?? null}
              onChange={choose}
              error={errors.addon}
              required
              withAsterisk
              searchable
              data-autofocus
              comboboxProps={{ withinPortal: true }}
            />
            {chosen && (
              <>
                <Text size="sm" c="dimmed">
                  {chosen.description} It injects {chosen.outputs.length ? chosen.outputs.join(', ') : 'no variables'}.
                </Text>
                <TextInput
                  label="Instance name"
                  description={`Unique in the application; the resource is named after it. Defaults to ${chosen.name}.`}
                  placeholder={chosen.name}
                  value={instance}
                  onChange={(e) => {
                    setInstance(e.currentTarget.value);
                    setErrors(({ name: _, ...rest }) => rest);
                  }}
                  error={errors.name}
                  spellCheck={false}
                  autoComplete="off"
                />
                <InputFieldsGroup
                  fields={chosen.fields}
                  values={values}
                  onChange={(n, v) => {
                    setValues((s) => ({ ...s, [n]: v }));
                    setErrors(({ [`inputs.${n}`]: _, ...rest }) => rest);
                  }}
                  errors={errors}
                  prefix="inputs"
                  empty="This add-on has no inputs."
                  cols={1}
                />
              </>
            )}
            {failure !== null && <ProblemAlert error={failure} title="The add-on was not added" />}
            <Text size="xs" c="dimmed">
              Adding records the add-on; the plan that follows shows what applying will provision in this environment.
            </Text>
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={busy}>
                Add add-on
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
