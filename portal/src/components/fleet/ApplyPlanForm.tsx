import { ActionIcon, Badge, Button, Group, NumberInput, SimpleGrid, Stack, Text } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useFleetApi, type FleetPlan, type UpgradeCreate } from '../../api/fleet.ts';
import { problemFieldErrors, type FieldErrors } from '../../api/inputs.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { ENVIRONMENT_TYPES, plural, type EnvironmentType } from './format.ts';
import { FieldErrorSummary } from '../FieldErrorSummary.tsx';

const LABELS: Record<string, string> = {
  canarySize: 'Canary size',
  waveSize: 'Wave size',
  concurrency: 'Concurrency',
  failureBudget: 'Failure budget',
  environmentOrder: 'Environment order',
  healthTimeoutSeconds: 'Health timeout',
};

type NumberField = 'canarySize' | 'waveSize' | 'concurrency' | 'failureBudget' | 'healthTimeoutSeconds';
const LIMITS: Record<NumberField, { min: number; max: number }> = {
  canarySize: { min: 0, max: 1000 },
  waveSize: { min: 1, max: 10_000 },
  concurrency: { min: 1, max: 32 },
  failureBudget: { min: 0, max: 10_000 },
  healthTimeoutSeconds: { min: 1, max: 600 },
};

/** How many waves the options make of `n` applications (the server decides who goes in which). */
export function waveCount(n: number, canary: number, size: number): number {
  if (n <= 0) return 0;
  const first = Math.min(n, Math.max(0, canary));
  return (first > 0 ? 1 : 0) + Math.ceil((n - first) / Math.max(1, size));
}

/**
 * Applies a reviewed plan: canary size, wave size, concurrency, failure budget, the order of
 * environment types, and the health timeout of each redeployment. Starting opens the live view.
 */
export function ApplyPlanForm({ plan }: { plan: FleetPlan }) {
  const fleet = useFleetApi();
  const navigate = useNavigate();
  const [values, setValues] = useState<Record<NumberField, number | ''>>({ canarySize: 1, waveSize: 10, concurrency: 2, failureBudget: 0, healthTimeoutSeconds: '' });
  const [order, setOrder] = useState<EnvironmentType[]>([...ENVIRONMENT_TYPES]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const set = (k: NumberField, v: number | string) => {
    setValues((s) => ({ ...s, [k]: typeof v === 'number' ? v : '' }));
    setErrors(({ [k]: _, ...rest }) => rest);
  };
  const move = (i: number, by: -1 | 1) =>
    setOrder((o) => {
      const n = [...o];
      const j = i + by;
      if (j < 0 || j >= n.length) return o;
      [n[i], n[j]] = [n[j]!, n[i]!];
      return n;
    });

  function validate(): FieldErrors {
    const out: FieldErrors = {};
    for (const k of Object.keys(LIMITS) as NumberField[]) {
      const v = values[k];
      if (v === '') {
        if (k !== 'healthTimeoutSeconds') out[k] = 'is required';
        continue;
      }
      if (!Number.isInteger(v)) out[k] = 'must be a whole number';
      else if (v < LIMITS[k].min || v > LIMITS[k].max) out[k] = `must be ${LIMITS[k].min} to ${LIMITS[k].max}`;
    }
    return out;
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setFailure(null);
    const found = validate();
    setErrors(found);
    if (Object.keys(found).length) return;
    const num = (k: NumberField) => values[k] as number;
    const body: UpgradeCreate = {
      plan: plan.id,
      canarySize: num('canarySize'),
      waveSize: num('waveSize'),
      concurrency: num('concurrency'),
      failureBudget: num('failureBudget'),
      environmentOrder: order,
      ...(values.healthTimeoutSeconds !== '' ? { healthTimeoutSeconds: values.healthTimeoutSeconds } : {}),
    };
    setBusy(true);
    try {
      const u = await fleet.start(body);
      navigate(`/fleet/upgrades/${u.id}`);
    } catch (err) {
      setBusy(false);
      const mapped = problemFieldErrors(err instanceof ApiError ? err.problem : null, (p) => p in LABELS, (p) => p.replace(/\[\d+\]$/, ''));
      setErrors(mapped.fields);
      if (!Object.keys(mapped.fields).length || mapped.other.length) setFailure(err);
    }
  }

  const n = plan.applications.length;
  const canary = typeof values.canarySize === 'number' ? values.canarySize : 0;
  const waves = waveCount(n, canary, typeof values.waveSize === 'number' ? values.waveSize : 1);
  const numberInput = (k: NumberField, description: string) => (
    <NumberInput
      label={LABELS[k]}
      description={description}
      value={values[k]}
      onChange={(v) => set(k, v)}
      min={LIMITS[k].min}
      max={LIMITS[k].max}
      clampBehavior="none"
      allowDecimal={false}
      error={errors[k]}
      data-input={k}
      placeholder={k === 'healthTimeoutSeconds' ? "the server's" : undefined}
    />
  );

  return (
    <form onSubmit={submit} noValidate aria-label="Apply the plan" data-testid="apply-form">
      <Stack gap="md">
        <FieldErrorSummary errors={errors} labelOf={(path) => LABELS[path] ?? path} />
        <SimpleGrid cols={{ base: 1, sm: 2, md: 5 }} spacing="md">
          {numberInput('canarySize', 'Applications in the first wave; 0 for none')}
          {numberInput('waveSize', 'Applications per wave after it')}
          {numberInput('concurrency', 'Upgraded at once within a wave')}
          {numberInput('failureBudget', 'Failures tolerated (none in the canary)')}
          {numberInput('healthTimeoutSeconds', 'Seconds per redeployment')}
        </SimpleGrid>
        <div>
          <Text size="sm" fw={500} id="env-order-label">
            {LABELS.environmentOrder}
          </Text>
          <Text size="xs" c="dimmed" mb={6}>
            Applications whose most critical environment comes earlier go in earlier waves, and each application&apos;s environments are redeployed in this order.
          </Text>
          <Group gap="xs" component="ol" aria-labelledby="env-order-label" data-testid="env-order" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {order.map((t, i) => (
              <Group key={t} component="li" gap={2} wrap="nowrap" data-type={t}>
                <Badge variant="light" color="gray" radius="sm" tt="none" size="lg">
                  {i + 1}. {t}
                </Badge>
                <ActionIcon variant="subtle" size="sm" aria-label={`Move ${t} earlier`} disabled={i === 0} onClick={() => move(i, -1)}>
                  ←
                </ActionIcon>
                <ActionIcon variant="subtle" size="sm" aria-label={`Move ${t} later`} disabled={i === order.length - 1} onClick={() => move(i, 1)}>
                  →
                </ActionIcon>
              </Group>
            ))}
          </Group>
          {errors.environmentOrder && (
            <Text size="xs" c="red">
              {errors.environmentOrder}
            </Text>
          )}
        </div>
        {failure !== null && <ProblemAlert error={failure} title="The upgrade did not start" />}
        <Group justify="space-between">
          <Text size="sm" c="dimmed" maw={620} data-testid="apply-summary">
            {plural(n, 'application')} in {plural(waves, 'wave')}
            {canary > 0 && n > 0 ? `, the first a canary of ${Math.min(canary, n)}` : ''}. Each application&apos;s resources converge, then each environment with a release is redeployed and
            health-checked; a failed application goes back to its previous version.
          </Text>
          <Button type="submit" loading={busy} color="orange" data-testid="start-upgrade">
            Start upgrade
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
