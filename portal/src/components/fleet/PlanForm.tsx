import { Badge, Button, Checkbox, Fieldset, Group, NativeSelect, SegmentedControl, SimpleGrid, Stack, TagsInput, Text } from '@mantine/core';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useFleetApi, type FleetPattern, type FleetPlanCreate, type FleetSelector, type PatternKind } from '../../api/fleet.ts';
import { checkFields, problemFieldErrors, toInputs, type FieldErrors, type InputValue, type InputValues } from '../../api/inputs.ts';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { InputFieldControl } from '../templates/InputFieldControl.tsx';
import { ENVIRONMENT_TYPES, KIND_LABEL } from './format.ts';
import { newInputs, parseLabelTags } from './planInputs.ts';
import { FieldErrorSummary } from '../FieldErrorSummary.tsx';

const LEGEND = { legend: { fontWeight: 650, fontSize: 'var(--mantine-font-size-md)', marginBottom: 'var(--mantine-spacing-sm)' } };
const LABELS: Record<string, string> = {
  kind: 'Kind',
  name: 'Template or add-on',
  version: 'Target version',
  'selector.applications': 'Applications',
  'selector.versions': 'From versions',
  'selector.teams': 'Teams',
  'selector.environmentTypes': 'Environment types',
  'selector.labels': 'Labels',
};
/** A problem's path to the form's: body.selector.teams[0] → selector.teams, body.inputs.region → inputs.region. */
const formPath = (p: string) => p.replace(/^(selector\.[a-zA-Z]+)(\[\d+\]|\..*)?$/, '$1');

interface Props {
  patterns: FleetPattern[];
  initial: { kind: PatternKind; name: string | null; version?: string | null; applications?: string[] };
}

/**
 * Plans an upgrade: which template or add-on, to which version (default the latest), which of its
 * applications (every field narrows; the values of one field are alternatives), and values for the
 * inputs the target version adds (an application lacking a new required input without default is
 * left out otherwise). The plan changes nothing; it opens for review.
 */
export function PlanForm({ patterns, initial }: Props) {
  const fleet = useFleetApi();
  const navigate = useNavigate();
  const form = useRef<HTMLFormElement>(null);
  const [kind, setKind] = useState<PatternKind>(initial.kind);
  const [name, setName] = useState<string>(initial.name ?? '');
  const [version, setVersion] = useState<string>(initial.version ?? '');
  const [applications, setApplications] = useState<string[]>(initial.applications ?? []);
  const [versions, setVersions] = useState<string[]>([]);
  const [teams, setTeams] = useState<string[]>([]);
  const [envTypes, setEnvTypes] = useState<string[]>([]);
  const [labels, setLabels] = useState<string[]>([]);
  const [inputs, setInputs] = useState<InputValues>({});
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [focusError, setFocusError] = useState(0);

  useEffect(() => {
    if (focusError) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusError]);

  const ofKind = patterns.filter((p) => p.kind === kind);
  const pattern = ofKind.find((p) => p.name === name) ?? null;
  const publishedVersions = pattern?.versions.filter((v) => v.published) ?? [];
  const target = version || pattern?.latest || '';
  const inUse = (pattern?.versions ?? []).filter((v) => v.applications > 0 && v.version !== target).map((v) => v.version);

  // The target version's inputs, and those of the versions in use: the inputs the upgrade adds.
  const schemas = useAsync(
    async (signal) => {
      if (!pattern || !target) return null;
      const [t, ...used] = await Promise.all([fleet.pattern(kind, pattern.name, target, signal), ...inUse.map((v) => fleet.pattern(kind, pattern.name, v, signal).catch(() => null))]);
      return { target: t, added: newInputs(t.fields, used.filter((u) => u !== null).map((u) => u.fields)) };
    },
    [fleet, kind, pattern?.name, target, inUse.join(',')],
  );
  const added = schemas.data?.added ?? [];
  // Suggestions for the selector: the applications and teams on this template or add-on.
  const onPattern = useAsync(async (signal) => (pattern ? fleet.applications({ kind, name: pattern.name, limit: 5000 }, signal) : null), [fleet, kind, pattern?.name]);
  const appOptions = useMemo(() => [...new Set((onPattern.data?.items ?? []).map((a) => (a.namespace === 'default' ? a.name : a.application)))].sort(), [onPattern.data]);
  const teamOptions = useMemo(() => [...new Set((onPattern.data?.items ?? []).flatMap((a) => (a.team ? [a.team.replace(/^team:default\//, '')] : [])))].sort(), [onPattern.data]);

  const clear = (path: string) =>
    setErrors((e) => {
      if (!(path in e)) return e;
      const { [path]: _, ...rest } = e;
      return rest;
    });

  function validate(): FieldErrors {
    const out: FieldErrors = {};
    if (!name) out.name = 'is required';
    const bad = parseLabelTags(labels).bad;
    if (bad.length) out['selector.labels'] = `must be key=value (${bad.join(', ')})`;
    const given = added.filter((f) => touched.has(f.name));
    // only what was given is checked: an input left empty takes its default (or leaves the application out)
    Object.assign(out, checkFields(given.map((f) => ({ ...f, required: false })), inputs, 'inputs'));
    return out;
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFailure(null);
    const found = validate();
    setErrors(found);
    if (Object.keys(found).length) {
      setFocusError((n) => n + 1);
      return;
    }
    const selector: FleetSelector = {};
    if (applications.length) selector.applications = applications;
    if (versions.length) selector.versions = versions;
    if (teams.length) selector.teams = teams;
    if (envTypes.length) selector.environmentTypes = envTypes as FleetSelector['environmentTypes'];
    if (labels.length) selector.labels = parseLabelTags(labels).labels;
    const given = toInputs(added.filter((f) => touched.has(f.name)), inputs);
    const body: FleetPlanCreate = { kind, name, selector, ...(version ? { version } : {}), ...(Object.keys(given).length ? { inputs: given } : {}) };
    setBusy(true);
    try {
      const plan = await fleet.createPlan(body);
      navigate(`/fleet/plans/${plan.id}`);
    } catch (err) {
      setBusy(false);
      const problem = err instanceof ApiError ? err.problem : null;
      const mapped = problemFieldErrors(problem, (p) => p in LABELS || p.startsWith('inputs.'), formPath);
      setErrors(mapped.fields);
      if (Object.keys(mapped.fields).length) setFocusError((n) => n + 1);
      if (!Object.keys(mapped.fields).length || mapped.other.length) setFailure(err);
    }
  }

  const labelOf = (path: string) => {
    const input = /^inputs\.(.+)$/.exec(path);
    if (input) return `Input ${added.find((f) => f.name === input[1])?.title ?? input[1]}`;
    return LABELS[path] ?? path;
  };
  const setInput = (input: string, v: InputValue) => {
    setInputs((s) => ({ ...s, [input]: v }));
    setTouched((t) => new Set(t).add(input));
    clear(`inputs.${input}`);
  };

  return (
    <form ref={form} onSubmit={submit} noValidate aria-label="Plan an upgrade" data-testid="plan-form">
      <Stack gap="lg">
        <FieldErrorSummary errors={errors} labelOf={labelOf} />

        <Fieldset legend="What to upgrade" variant="unstyled" styles={LEGEND}>
          <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
            <div>
              <Text size="sm" fw={500} mb={4} id="plan-kind-label">
                Kind
              </Text>
              <SegmentedControl
                aria-labelledby="plan-kind-label"
                value={kind}
                onChange={(v) => {
                  setKind(v as PatternKind);
                  setName('');
                  setVersion('');
                  clear('name');
                }}
                data={[
                  { value: 'template', label: KIND_LABEL.template },
                  { value: 'addon', label: KIND_LABEL.addon },
                ]}
                fullWidth
              />
            </div>
            <NativeSelect
              label={LABELS.name}
              value={name}
              onChange={(e) => {
                setName(e.currentTarget.value);
                setVersion('');
                setInputs({});
                setTouched(new Set());
                clear('name');
              }}
              data={[{ value: '', label: 'Choose…' }, ...ofKind.map((p) => ({ value: p.name, label: `${p.title ?? p.name}${p.behind ? ` (${p.behind} behind)` : ''}` }))]}
              error={errors.name}
              required
              withAsterisk
              data-input="name"
            />
            <NativeSelect
              label={LABELS.version}
              description="Default: the latest published"
              value={version}
              onChange={(e) => {
                setVersion(e.currentTarget.value);
                clear('version');
              }}
              data={[{ value: '', label: pattern?.latest ? `Latest (${pattern.latest})` : 'Latest' }, ...publishedVersions.map((v) => ({ value: v.version, label: `${v.version}${v.latest ? ' (latest)' : ''}` }))]}
              error={errors.version}
              disabled={!pattern}
              data-input="version"
            />
          </SimpleGrid>
        </Fieldset>

        <Fieldset legend="Which applications" variant="unstyled" styles={LEGEND}>
          <Text size="sm" c="dimmed" mb="sm">
            Leave everything empty for every application on {pattern?.name ?? 'it'}. Each field narrows the selection; the values in one field are alternatives.
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="md">
            <TagsInput
              label={LABELS['selector.applications']}
              description="Names, or refs in another namespace"
              placeholder="Type a name, Enter"
              data={appOptions}
              value={applications}
              onChange={(v) => {
                setApplications(v);
                clear('selector.applications');
              }}
              error={errors['selector.applications']}
              clearable
              data-input="selector.applications"
            />
            <TagsInput
              label={LABELS['selector.versions']}
              description="Versions to upgrade from: exact, or a range like 1.x"
              placeholder="e.g. 1.x"
              data={inUse}
              value={versions}
              onChange={(v) => {
                setVersions(v);
                clear('selector.versions');
              }}
              error={errors['selector.versions']}
              clearable
              data-input="selector.versions"
            />
            <TagsInput
              label={LABELS['selector.teams']}
              description="Owning teams"
              placeholder="Type a team, Enter"
              data={teamOptions}
              value={teams}
              onChange={(v) => {
                setTeams(v);
                clear('selector.teams');
              }}
              error={errors['selector.teams']}
              clearable
              data-input="selector.teams"
            />
            <TagsInput
              label={LABELS['selector.labels']}
              description="Catalog labels the application must all have"
              placeholder="key=value, Enter"
              value={labels}
              onChange={(v) => {
                setLabels(v);
                clear('selector.labels');
              }}
              error={errors['selector.labels']}
              clearable
              data-input="selector.labels"
            />
            <Checkbox.Group
              label={LABELS['selector.environmentTypes']}
              description="Applications with at least one environment of these types"
              value={envTypes}
              onChange={(v) => {
                setEnvTypes(v);
                clear('selector.environmentTypes');
              }}
              error={errors['selector.environmentTypes']}
            >
              <Group gap="md" mt={6}>
                {ENVIRONMENT_TYPES.map((t) => (
                  <Checkbox key={t} value={t} label={t} />
                ))}
              </Group>
            </Checkbox.Group>
          </SimpleGrid>
        </Fieldset>

        <Fieldset legend={`Inputs ${pattern?.name ?? ''} ${target} adds`} variant="unstyled" styles={LEGEND}>
          {!pattern ? (
            <Text size="sm" c="dimmed">
              Choose a template or add-on first.
            </Text>
          ) : schemas.status === 'loading' ? (
            <Loading label="Loading the inputs of the target version" />
          ) : schemas.status === 'error' ? (
            <ProblemAlert error={schemas.error} title="The inputs of the target version could not be loaded" onRetry={schemas.reload} />
          ) : added.length === 0 ? (
            <Text size="sm" c="dimmed" data-testid="plan-no-new-inputs">
              {target} adds no input the versions in use lack.
            </Text>
          ) : (
            <Stack gap="sm" data-testid="plan-new-inputs">
              <Text size="sm" c="dimmed">
                Given values go to every selected application that lacks the input. Left empty, an input takes its default; an application missing a required input without default is left out of
                the plan.
              </Text>
              <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="md">
                {added.map((f) => (
                  <div key={f.name}>
                    <InputFieldControl field={{ ...f, required: false }} value={inputs[f.name] ?? (f.type === 'boolean' ? f.default ?? false : '')} onChange={(v) => setInput(f.name, v)} error={errors[`inputs.${f.name}`]} />
                    <Group gap={4} mt={4}>
                      {f.required && f.default === undefined ? (
                        <Badge size="xs" color="orange" variant="light">
                          required, no default
                        </Badge>
                      ) : f.default !== undefined ? (
                        <Badge size="xs" color="gray" variant="light" tt="none">
                          default {typeof f.default === 'string' ? f.default : JSON.stringify(f.default)}
                        </Badge>
                      ) : null}
                    </Group>
                  </div>
                ))}
              </SimpleGrid>
            </Stack>
          )}
        </Fieldset>

        {failure !== null && <ProblemAlert error={failure} title="The plan could not be made" />}

        <Group justify="space-between">
          <Text size="sm" c="dimmed" maw={560}>
            Planning changes nothing: it records, per application, what the upgrade would change, for you to review before applying it.
          </Text>
          <Button type="submit" loading={busy} disabled={!name} data-testid="make-plan">
            Make the plan
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
