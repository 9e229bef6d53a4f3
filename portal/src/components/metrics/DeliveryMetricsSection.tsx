import { Card, Group, NativeSelect, SegmentedControl, SimpleGrid, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { Section } from '../Section.tsx';
import { useMetricsApi, type DeliveryBucket, type DeliveryQuery, type DeliveryReport } from './api.ts';
import { BarChart, LineChart } from './charts.tsx';
import { bucketLabel, bucketTitle, duration, percent } from './format.ts';

const ENV_TYPES = ['production', 'staging', 'development', 'preview'] as const;
const PERIODS = [
  { value: '30d', label: 'Last 30 days' },
  { value: '90d', label: 'Last 90 days' },
  { value: '180d', label: 'Last 180 days' },
  { value: '365d', label: 'Last 365 days' },
];
const COLORS = { releases: 'var(--mantine-color-blue-6)', rollbacks: 'var(--mantine-color-orange-6)', lead: 'var(--mantine-color-teal-6)', failure: 'var(--mantine-color-red-6)', restore: 'var(--mantine-color-grape-6)' };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const rate = (n: number) => (Math.round(n * 100) / 100).toString();

function Figure({ label, value, detail, testId }: { label: string; value: string; detail: string; testId: string }) {
  return (
    <Card withBorder padding="sm" radius="md" data-testid={testId}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={`${testId}-value`}>
        {value}
      </Text>
      <Text size="xs" c="dimmed" data-testid={`${testId}-detail`}>
        {detail}
      </Text>
    </Card>
  );
}

/** The four figures and the four charts of a report. */
export function DeliveryReportView({ report }: { report: DeliveryReport }) {
  const f = report.deploymentFrequency;
  const l = report.leadTime;
  const c = report.changeFailureRate;
  const t = report.timeToRestore;
  const bucket = report.period.bucket;
  const points = report.series.map((p) => ({ start: p.start, label: bucketLabel(p.start), title: bucketTitle(p.start, bucket) }));
  const per = bucket === 'week' ? 'week' : 'day';
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm">
        <Figure
          label="Deployment frequency"
          value={bucket === 'week' ? `${rate(f.perWeek)} / week` : `${rate(f.perDay)} / day`}
          detail={`${plural(f.releases, 'release')}, ${plural(f.rollbacks, 'rollback')} in ${report.period.days} days`}
          testId="delivery-frequency"
        />
        <Figure
          label="Lead time for changes"
          value={duration(l.medianSeconds)}
          detail={l.measured ? `median; p90 ${duration(l.p90Seconds)} · ${plural(l.measured, 'build')}, ${l.fromCommit} from commit` : 'no build released'}
          testId="delivery-lead-time"
        />
        <Figure
          label="Change failure rate"
          value={percent(c.rate)}
          detail={c.changes ? `${c.failed} of ${plural(c.changes, 'change')}: ${c.rolledBack} rolled back, ${c.failedDeployment} failed deployment${c.failedDeployment === 1 ? '' : 's'} after` : 'no change released'}
          testId="delivery-failure-rate"
        />
        <Figure
          label="Time to restore"
          value={duration(t.medianSeconds)}
          detail={t.failures ? `median; ${t.restored} of ${plural(t.failures, 'failure')} restored` : 'no failure'}
          testId="delivery-restore"
        />
      </SimpleGrid>
      {f.releases === 0 && f.rollbacks === 0 ? (
        <Text size="sm" c="dimmed" data-testid="delivery-empty">
          No releases to {report.scope.environmentType} environments in this period.
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
          <BarChart
            title={`Releases per ${per}`}
            testId="delivery-chart-releases"
            kind="count"
            format={(v) => String(Math.round(v * 10) / 10)}
            points={points}
            series={[
              { name: 'releases', color: COLORS.releases, values: report.series.map((p) => (p.releases ? p.releases : null)) },
              { name: 'rollbacks', color: COLORS.rollbacks, values: report.series.map((p) => (p.rollbacks ? p.rollbacks : null)) },
            ]}
          />
          <LineChart
            title="Lead time for changes (median)"
            testId="delivery-chart-lead-time"
            kind="seconds"
            format={duration}
            points={points}
            series={[{ name: 'lead time', color: COLORS.lead, values: report.series.map((p) => p.leadTimeMedianSeconds) }]}
          />
          <BarChart
            title="Change failure rate"
            testId="delivery-chart-failure-rate"
            kind="rate"
            format={percent}
            points={points}
            series={[{ name: 'failure rate', color: COLORS.failure, values: report.series.map((p) => p.changeFailureRate) }]}
          />
          <LineChart
            title="Time to restore (median)"
            testId="delivery-chart-restore"
            kind="seconds"
            format={duration}
            points={points}
            series={[{ name: 'time to restore', color: COLORS.restore, values: report.series.map((p) => p.timeToRestoreMedianSeconds) }]}
          />
        </SimpleGrid>
      )}
      <Text size="xs" c="dimmed">
        A change is a release or promotion; it failed when it was rolled back, or when a deployment of its environment failed before the next release. Lead time runs from the build&apos;s commit (or its
        creation, for folder builds) to its first release; time to restore from the failure to the next release. Buckets are UTC {per}s.
      </Text>
    </Stack>
  );
}

/**
 * Delivery metrics of an application (DORA's four keys) for one environment type over a period, per
 * week or day: figures and charts. Shown for applications Pave manages (made from a template).
 */
export function DeliveryMetricsSection({ namespace, name }: { namespace: string; name: string }) {
  const client = useApi();
  const api = useMetricsApi();
  const [environmentType, setEnvironmentType] = useState<(typeof ENV_TYPES)[number]>('production');
  const [since, setSince] = useState('90d');
  const [bucket, setBucket] = useState<DeliveryBucket>('week');
  const managed = useAsync(
    (signal) =>
      client
        .golden(namespace, name)
        .get(signal)
        .then(
          () => true,
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return false;
            throw err;
          },
        ),
    [client, namespace, name],
  );
  const query: DeliveryQuery = { application: name, namespace, environmentType, since, bucket };
  /** Which choices the shown report answers (while a new one loads, the last one stays). */
  const key = `${environmentType}|${since}|${bucket}`;
  const report = useAsync(
    async (signal) => (managed.data ? { key, report: await api.delivery(query, signal) } : null),
    [api, namespace, name, environmentType, since, bucket, managed.data],
    { keepData: true },
  );

  if (managed.status === 'loading' || managed.data === false) return null;
  return (
    <Section
      title="Delivery metrics"
      actions={
        <Group gap="xs" align="flex-end">
          <NativeSelect
            size="xs"
            aria-label="Environment type"
            value={environmentType}
            onChange={(e) => setEnvironmentType(e.currentTarget.value as (typeof ENV_TYPES)[number])}
            data={ENV_TYPES.map((t) => ({ value: t, label: t[0]!.toUpperCase() + t.slice(1) }))}
            data-testid="delivery-env-type"
          />
          <NativeSelect size="xs" aria-label="Period" value={since} onChange={(e) => setSince(e.currentTarget.value)} data={PERIODS} data-testid="delivery-period" />
          <SegmentedControl
            size="xs"
            aria-label="Buckets"
            value={bucket}
            onChange={(v) => setBucket(v as DeliveryBucket)}
            data={[
              { value: 'week', label: 'Weeks' },
              { value: 'day', label: 'Days' },
            ]}
            data-testid="delivery-bucket"
          />
        </Group>
      }
    >
      <div data-testid="delivery-metrics" data-query={key} data-shown={report.data?.key ?? ''}>
        {managed.status === 'error' ? (
          <ProblemAlert error={managed.error} title="The delivery metrics could not be loaded" onRetry={managed.reload} />
        ) : report.status === 'error' ? (
          <ProblemAlert error={report.error} title="The delivery metrics could not be loaded" onRetry={report.reload} />
        ) : report.data ? (
          <DeliveryReportView report={report.data.report} />
        ) : (
          <Loading label="Loading the delivery metrics" />
        )}
      </div>
    </Section>
  );
}
