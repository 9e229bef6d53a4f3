import { Command, InvalidArgumentError, Option } from 'commander';
import type { DeliveryQuery, DeliveryReport } from '../../contracts/metrics.ts';
import { fields, render, table, type Cell } from '../output.ts';
import { clientFor, compact, withOutput, type OutputOpts } from './shared.ts';

/**
 * `pave metrics`: delivery metrics (deployment frequency, lead time for changes, change failure rate,
 * time to restore) of an application, a team's applications or every application, in the environments
 * of one type, over a period; `-o json|yaml` prints the API's report (GET /api/v1/metrics/delivery).
 */

const ENV_TYPES = ['development', 'staging', 'production', 'preview'];

/** 42s, 5m 24s, 5h 24m, 2d 4h: two units at most. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const [d, h, m, sec] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (d) return h ? `${d}d ${h}h` : `${d}d`;
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  return sec ? `${m}m ${sec}s` : `${m}m`;
}

export const percent = (rate: number | null): string => (rate === null ? '-' : `${Math.round(rate * 1000) / 10}%`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const day = (iso: string) => iso.slice(0, 10);

/** An ISO 8601 date or time, or a span back (30d, 12w, 48h). */
function sinceValue(value: string): string {
  if (/^[1-9][0-9]{0,3}[hdw]$/.test(value) || !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError('must be a span back from --until such as 30d, 12w or 48h, or a date (2026-03-02) or time (2026-03-02T10:00:00Z).');
}

function untilValue(value: string): string {
  if (!Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError('must be a date (2026-03-30) or a date and time with its offset (2026-03-30T10:00:00Z).');
}

export function reportText(r: DeliveryReport): string {
  const who = r.scope.application ?? (r.scope.team ? `the applications of ${r.scope.team}` : 'all applications');
  const head = `Delivery metrics of ${who}, ${r.scope.environmentType} environments, ${day(r.period.since)} to ${day(r.period.until)} (${r.period.days} days)`;
  const f = r.deploymentFrequency;
  const l = r.leadTime;
  const c = r.changeFailureRate;
  const t = r.timeToRestore;
  const figures = fields([
    ['Deployment frequency', `${f.perWeek}/week, ${f.perDay}/day (${plural(f.releases, 'change')}, ${plural(f.rollbacks, 'rollback')})`],
    ['Lead time for changes', l.measured ? `median ${duration(l.medianSeconds)}, p90 ${duration(l.p90Seconds)} (${plural(l.measured, 'build')}, ${l.fromCommit} from their commit time)` : 'no build released in the period'],
    ['Change failure rate', c.changes ? `${percent(c.rate)} (${c.failed} of ${c.changes}: ${c.rolledBack} rolled back, ${c.failedDeployment} followed by a failed deployment)` : 'no change in the period'],
    ['Time to restore', t.failures ? `median ${duration(t.medianSeconds)}, p90 ${duration(t.p90Seconds)} (${t.restored} of ${plural(t.failures, 'failure')} restored)` : 'no failure in the period'],
  ]);
  const unit = r.period.bucket === 'week' ? 'WEEK OF' : 'DAY';
  const series = table(
    [unit, 'RELEASES', 'ROLLBACKS', 'LEAD TIME', 'FAILED', 'FAILURE RATE', 'TIME TO RESTORE'],
    r.series.map((p): Cell[] => [day(p.start), p.releases, p.rollbacks, duration(p.leadTimeMedianSeconds), p.failed, percent(p.changeFailureRate), duration(p.timeToRestoreMedianSeconds)]),
  );
  const parts = [head, '', figures, '', series];
  if (!r.scope.application && r.applications.length) {
    parts.push('', table(
      ['APPLICATION', 'TEAM', 'RELEASES', 'ROLLBACKS', 'LEAD TIME', 'FAILURE RATE', 'TIME TO RESTORE'],
      r.applications.map((a): Cell[] => [a.application, a.team, a.releases, a.rollbacks, duration(a.leadTimeMedianSeconds), percent(a.changeFailureRate), duration(a.timeToRestoreMedianSeconds)]),
    ));
  }
  parts.push('', 'Lead time and time to restore are medians (per bucket and application); see "Delivery metrics" in the README for the definitions.');
  return parts.join('\n');
}

type MetricsOpts = OutputOpts & { app?: string; namespace?: string; team?: string; envType: string; since?: string; until?: string; bucket: 'day' | 'week' };

export function metricsCommand(): Command {
  return withOutput(
    new Command('metrics')
      .description('Delivery metrics: deployment frequency, lead time for changes, change failure rate and time to restore, per day or week')
      .option('--app <name>', 'one application (a name, or a ref such as application:default/shop)')
      .option('--namespace <namespace>', 'the namespace of --app (default: default)')
      .option('--team <team>', 'the applications a team owns (a name or ref)')
      .addOption(new Option('--env-type <type>', 'the environment type whose releases count').choices(ENV_TYPES).default('production'))
      .option('--since <when>', 'start of the period: a span back from --until (30d, 12w, 48h) or a date or time (default 30d)', sinceValue)
      .option('--until <when>', 'end of the period, exclusive (default now)', untilValue)
      .addOption(new Option('--bucket <bucket>', 'one row per day or per week (weeks start on Monday, UTC)').choices(['day', 'week']).default('week')),
  ).action(async (o: MetricsOpts, cmd: Command) => {
    const query: DeliveryQuery = compact({
      application: o.app, namespace: o.namespace, team: o.team, environmentType: o.envType as DeliveryQuery['environmentType'], since: o.since, until: o.until, bucket: o.bucket,
    });
    const r = await clientFor(cmd).json<DeliveryReport>('GET', '/api/v1/metrics/delivery', { query: query as Record<string, string> });
    await render(o.output, r, () => reportText(r));
  });
}
