import { Alert, Badge, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { KIND_COLORS, needsConfirmation, parameterFields, runLabel, timeoutLabel } from '../../api/actionParams.ts';
import type { ActionRun, ActionsClient, ActionView } from '../../api/actions.ts';
import { ApiError } from '../../api/client.ts';
import { checkFields, defaultValues, problemFieldErrors, toInputs, type FieldErrors, type InputValues } from '../../api/inputs.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { ParameterFields } from './ParameterFields.tsx';

interface Props {
  api: ActionsClient;
  action: ActionView;
  environment: { name: string; type: string };
  onClose(): void;
  /** The run was accepted (queued or running): follow it. */
  onStarted(run: ActionRun): void;
}

const CONFIRM_KEY = 'confirm';

/**
 * Runs an action in an environment: its parameters as a generated form (defaults filled in, required
 * ones marked, checked as the schema would before sending, the server's field errors on their field),
 * and, where the action asks for it, the environment's name typed to confirm.
 */
export function RunActionModal({ api, action, environment, onClose, onStarted }: Props) {
  const fields = useMemo(() => parameterFields(action.parameters), [action.parameters]);
  const [values, setValues] = useState<InputValues>(() => defaultValues(fields));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [typed, setTyped] = useState('');
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const confirm = needsConfirmation(action, environment.type);
  const confirmed = !confirm || typed === environment.name;

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!confirmed || busy) return;
    setFailure(null);
    const found = checkFields(fields, values, 'params');
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const run = await api.start(environment.name, action.key, { params: toInputs(fields, values), ...(confirm ? { confirm: typed } : {}) });
      onStarted(run);
    } catch (err) {
      setBusy(false);
      const problem = err instanceof ApiError ? err.problem : null;
      const mapped = problemFieldErrors(problem, (p) => p.startsWith('params.') && fields.some((f) => `params.${f.name}` === p));
      if (err instanceof ApiError && err.status === 428) mapped.fields[CONFIRM_KEY] = err.message;
      setErrors(mapped.fields);
      if (Object.keys(mapped.fields).length === 0 || mapped.other.length) setFailure(err);
    }
  }

  const title = `${runLabel(action.title)} in ${environment.name}`;
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>{title}</Text>} size="lg">
      <form onSubmit={submit} noValidate aria-label={title} data-testid="run-action-form" data-action={action.key}>
        <Stack gap="md">
          <Group gap="xs">
            <Badge size="sm" radius="sm" tt="none" variant="light" color={KIND_COLORS[action.kind]}>
              {action.kind}
            </Badge>
            <Text size="xs" c="dimmed">
              {action.key} · from {action.source} · times out after {timeoutLabel(action.timeoutSeconds)}
            </Text>
          </Group>
          {action.description && <Text size="sm">{action.description}</Text>}

          <ParameterFields
            fields={fields}
            values={values}
            errors={errors}
            onChange={(n, v) => {
              setValues((s) => ({ ...s, [n]: v }));
              setErrors(({ [`params.${n}`]: _, ...rest }) => rest);
            }}
          />

          {confirm && (
            <Alert color="orange" variant="light" title={`${environment.name} is a ${environment.type} environment`}>
              <Stack gap="xs">
                <Text size="sm">
                  {action.confirm === 'always' ? 'This action always asks for confirmation.' : 'Actions in production ask for confirmation.'} Type{' '}
                  <Text span ff="monospace" fw={700}>
                    {environment.name}
                  </Text>{' '}
                  to run it there.
                </Text>
                <TextInput
                  label={`Type ${environment.name} to confirm`}
                  value={typed}
                  onChange={(e) => {
                    setTyped(e.currentTarget.value);
                    setErrors(({ [CONFIRM_KEY]: _, ...rest }) => rest);
                  }}
                  error={errors[CONFIRM_KEY]}
                  placeholder={environment.name}
                  spellCheck={false}
                  autoComplete="off"
                  data-testid="confirm-input"
                />
              </Stack>
            </Alert>
          )}

          {failure !== null && <ProblemAlert error={failure} title="The action did not start" />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={!confirmed} color={confirm ? 'red' : undefined} data-testid="run-submit">
              {confirm ? `Run in ${environment.name}` : 'Run'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
