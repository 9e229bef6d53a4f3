import { Button, Fieldset, Group, SimpleGrid, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, errorMessage, type PatternSummary } from '../../api/client.ts';
import { checkFields, defaultValues, problemFieldErrors, toInputs, type FieldErrors, type InputValue, type InputValues } from '../../api/inputs.ts';
import { useApi, useSession } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import { entityPath } from '../../api/refs.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { AddOnPicker, type AddOnChoices } from './AddOnPicker.tsx';
import { InputFieldsGroup } from './InputFieldsGroup.tsx';
import { defaultOwner, TeamSelect } from './TeamSelect.tsx';
import { TeamProfileHint } from './TeamProfileHint.tsx';
import { FieldErrorSummary } from '../FieldErrorSummary.tsx';

/** What the application page reads from the navigation state to start provisioning at once. */
export interface CreatedState {
  applyEnvironment: string;
}

// The catalog's name rule (src/contracts/common.ts NAME_PATTERN); the server checks it too.
const NAME_PATTERN = /^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/;
const FIRST_ENVIRONMENT = 'development';

function checkName(name: string): string | null {
  if (!name) return 'is required';
  if (name.length > 63) return 'must be at most 63 characters';
  if (!NAME_PATTERN.test(name)) return 'must be letters and digits, with single "-", "_" or "." between them';
  return null;
}

// Legends read as the form's sub-headings.
const LEGEND = { legend: { fontWeight: 650, fontSize: 'var(--mantine-font-size-md)', marginBottom: 'var(--mantine-spacing-sm)' } };

const LABELS: Record<string, string> = { name: 'Name', owner: 'Owner team', title: 'Title', description: 'Description' };

/**
 * Creates an application from the template: its typed inputs (from the template's schema), name, owner
 * and the add-ons to attach. On success it opens the application, which provisions the first environment.
 */
export function CreateApplicationForm({ template }: { template: PatternSummary }) {
  const api = useApi();
  const { me } = useSession();
  const navigate = useNavigate();
  const addons = useAsync((signal) => api.addons.list(signal), [api]);
  const form = useRef<HTMLFormElement>(null);

  const [name, setName] = useState('');
  const [owner, setOwner] = useState<string | null>(() => defaultOwner(me?.teams));
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [inputs, setInputs] = useState<InputValues>(() => defaultValues(template.fields));
  const [choices, setChoices] = useState<AddOnChoices>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [focusError, setFocusError] = useState(0);

  // After a failed submit, take the keyboard to the first field in error.
  useEffect(() => {
    if (!focusError) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusError]);

  const available = addons.data?.items ?? [];
  const chosen = available.filter((a) => choices[a.name]?.on);

  const clear = (path: string) =>
    setErrors((e) => {
      if (!(path in e)) return e;
      const { [path]: _, ...rest } = e;
      return rest;
    });

  function validate(): FieldErrors {
    const out: FieldErrors = {};
    const n = checkName(name.trim());
    if (n) out.name = n;
    if (!owner) out.owner = 'is required';
    Object.assign(out, checkFields(template.fields, inputs, 'inputs'));
    for (const a of chosen) Object.assign(out, checkFields(a.fields, choices[a.name]?.values ?? {}, `addons.${a.name}.inputs`));
    return out;
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFailure(null);
    const found = validate();
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setFocusError((n) => n + 1);
      return;
    }
    setBusy(true);
    const submitted = chosen.map((a) => a.name);
    try {
      const entity = await api.applications.create({
        name: name.trim(),
        owner: owner ?? '',
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(description.trim() ? { description: description.trim() } : {}),
        template: template.name,
        templateVersion: template.version,
        inputs: toInputs(template.fields, inputs),
        addons: chosen.map((a) => ({ addon: a.name, inputs: toInputs(a.fields, choices[a.name]?.values ?? {}) })),
      });
      const state: CreatedState = { applyEnvironment: FIRST_ENVIRONMENT };
      navigate(entityPath('application', entity.value.namespace, entity.value.name), { state });
    } catch (err) {
      setBusy(false);
      const problem = err instanceof ApiError ? err.problem : null;
      const known = (p: string) => p in LABELS || p.startsWith('inputs.') || /^addons\.[^.]+\.inputs\./.test(p);
      // body.addons[0].inputs.size → addons.postgres.inputs.size: the server counts the add-ons sent.
      const rename = (p: string) => p.replace(/^addons\[(\d+)\]/, (m, i: string) => (submitted[Number(i)] ? `addons.${submitted[Number(i)]}` : m));
      const mapped = problemFieldErrors(problem, known, rename);
      if (err instanceof ApiError && err.status === 409 && !problem?.errors?.length) mapped.fields.name = errorMessage(err);
      setErrors(mapped.fields);
      if (Object.keys(mapped.fields).length > 0) setFocusError((n) => n + 1);
      if (Object.keys(mapped.fields).length === 0 || mapped.other.length > 0) setFailure(err);
    }
  }

  const setInput = (input: string, v: InputValue) => {
    setInputs((s) => ({ ...s, [input]: v }));
    clear(`inputs.${input}`);
  };
  const toggleAddon = (addon: string, on: boolean) => {
    const fields = available.find((a) => a.name === addon)?.fields ?? [];
    setChoices((c) => ({ ...c, [addon]: { on, values: c[addon]?.values ?? defaultValues(fields) } }));
  };
  const setAddonInput = (addon: string, input: string, v: InputValue) => {
    setChoices((c) => ({ ...c, [addon]: { on: true, values: { ...(c[addon]?.values ?? {}), [input]: v } } }));
    clear(`addons.${addon}.inputs.${input}`);
  };

  /** "Port", "PostgreSQL: Size": how the summary names the field at a path. */
  const labelOf = (path: string): string => {
    const own = /^inputs\.(.+)$/.exec(path);
    if (own) return template.fields.find((f) => f.name === own[1])?.title ?? own[1] ?? path;
    const addon = /^addons\.([^.]+)\.inputs\.(.+)$/.exec(path);
    if (addon) {
      const a = available.find((x) => x.name === addon[1]);
      return `${a?.title ?? addon[1]}: ${a?.fields.find((f) => f.name === addon[2])?.title ?? addon[2]}`;
    }
    return LABELS[path] ?? path;
  };
  return (
    <form ref={form} onSubmit={submit} noValidate aria-label={`Create an application from ${template.title ?? template.name}`}>
      <Stack gap="lg">
        <FieldErrorSummary errors={errors} labelOf={labelOf} />

        <Fieldset legend="Application" variant="unstyled" styles={LEGEND}>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="md">
            <TextInput
              label="Name"
              description="Letters, digits and single - _ . between them; unique in the catalog."
              placeholder="e.g. checkout-api"
              value={name}
              onChange={(e) => {
                setName(e.currentTarget.value);
                clear('name');
              }}
              error={errors.name}
              required
              withAsterisk
              maxLength={63}
              spellCheck={false}
              autoComplete="off"
              data-input="name"
            />
            <TeamSelect
              value={owner}
              onChange={(v) => {
                setOwner(v);
                clear('owner');
              }}
              error={errors.owner}
            />
            <TextInput label="Title" description="How the portal names it; defaults to the name." value={title} onChange={(e) => setTitle(e.currentTarget.value)} error={errors.title} maxLength={200} />
            <Textarea label="Description" description="What it does, in a sentence." value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} autosize minRows={1} maxRows={4} maxLength={4000} />
          </SimpleGrid>
          <TeamProfileHint owner={owner} environment={FIRST_ENVIRONMENT} />
        </Fieldset>

        <Fieldset legend={`Inputs of ${template.name} ${template.version}`} variant="unstyled" styles={LEGEND}>
          <InputFieldsGroup fields={template.fields} values={inputs} onChange={setInput} errors={errors} prefix="inputs" empty="This template has no inputs." />
        </Fieldset>

        <Fieldset legend="Add-ons" variant="unstyled" styles={LEGEND}>
          <Text size="sm" c="dimmed" mb="sm">
            What the application needs beside itself. Each add-on is provisioned in every environment and injects its variables. You can add or remove them later.
          </Text>
          {addons.status === 'loading' && <Loading label="Loading add-ons" />}
          {addons.status === 'error' && <ProblemAlert error={addons.error} title="The add-ons could not be loaded" onRetry={addons.reload} />}
          {addons.status === 'ok' &&
            (available.length === 0 ? (
              <Text size="sm" c="dimmed">
                The platform team has published no add-ons.
              </Text>
            ) : (
              <AddOnPicker addons={available} choices={choices} onToggle={toggleAddon} onChange={setAddonInput} errors={errors} />
            ))}
        </Fieldset>

        {failure !== null && <ProblemAlert error={failure} title="The application was not created" />}

        <Group justify="space-between" align="center">
          <Text size="sm" c="dimmed" maw={520}>
            Pave registers the application, then provisions its {FIRST_ENVIRONMENT} environment
            {chosen.length > 0 ? ` with ${chosen.map((a) => a.title ?? a.name).join(', ')}` : ''}.
          </Text>
          <Button type="submit" loading={busy} size="md">
            Create application
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
