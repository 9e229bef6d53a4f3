import { sql, type RawBuilder } from 'kysely';
import { toRef } from '../catalog/model.ts';
import type { DeliveryApplication, DeliveryBucket, DeliveryPoint, DeliveryQueryParsed, DeliveryReport } from '../contracts/metrics.ts';
import { notFound, validationError } from '../errors.ts';
import type { Db } from '../store/db.ts';

/**
 * Delivery metrics (DORA's four keys) computed in SQL over releases, deployments and builds; the
 * definitions are DELIVERY_DEFINITIONS (src/contracts/metrics.ts). One query per metric, each grouped
 * three ways at once (GROUPING SETS): the whole scope, each bucket of the series, each application.
 * Nothing is kept: the figures are read from the history every time, so they are never stale.
 */

const DAY_MS = 86_400_000;
/** At most this many buckets in a series (a year of days, ten years of weeks). */
const MAX_BUCKETS: Record<DeliveryBucket, number> = { day: 366, week: 522 };

export interface DeliveryScope {
  application: string | null;
  team: string | null;
  environmentType: string;
  since: Date;
  until: Date;
  bucket: DeliveryBucket;
}

/** A span back from `until`: 30d, 12w, 48h. */
function spanMs(s: string): number | null {
  const m = /^([1-9][0-9]{0,3})([hdw])$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * { h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }[m[2] as 'h' | 'd' | 'w'];
}

/** The start of the bucket holding `d` (UTC; weeks start on Monday, as PostgreSQL's date_trunc). */
export function bucketStart(d: Date, bucket: DeliveryBucket): Date {
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (bucket === 'day') return new Date(day);
  return new Date(day - ((d.getUTCDay() + 6) % 7) * DAY_MS);
}

/** Every bucket from the one holding `since` to the one holding the last instant before `until`. */
export function buckets(since: Date, until: Date, bucket: DeliveryBucket): { start: Date; end: Date }[] {
  const step = bucket === 'day' ? DAY_MS : 7 * DAY_MS;
  const out: { start: Date; end: Date }[] = [];
  for (let t = bucketStart(since, bucket).getTime(); t < until.getTime(); t += step) out.push({ start: new Date(t), end: new Date(t + step) });
  return out;
}

/** The period of a query: until (default now), since (an instant, or a span back from until; default 30 days). */
export function periodOf(q: { since?: string | undefined; until?: string | undefined; bucket: DeliveryBucket }, now = new Date()): { since: Date; until: Date } {
  const until = q.until ? new Date(q.until) : now;
  const span = q.since ? spanMs(q.since) : 30 * DAY_MS;
  const since = span !== null ? new Date(until.getTime() - span) : new Date(q.since!);
  if (!(since.getTime() < until.getTime())) throw validationError('since must be before until', [{ path: 'query.since', message: `must be before until (${until.toISOString()})` }]);
  const n = buckets(since, until, q.bucket).length;
  if (n > MAX_BUCKETS[q.bucket]) {
    throw validationError(`the period has ${n} ${q.bucket}s; at most ${MAX_BUCKETS[q.bucket]} fit in a series`, [{ path: 'query.bucket', message: `at most ${MAX_BUCKETS[q.bucket]} ${q.bucket}s: shorten the period${q.bucket === 'day' ? ' or use bucket=week' : ''}` }]);
  }
  return { since, until };
}

/** Seconds, to the millisecond (percentiles are interpolated in floating point). */
const secs = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);
const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** One row of a grouped query: the whole scope (both grouping flags 1), a bucket, or an application. */
interface Grouped {
  g_bucket: number;
  g_application: number;
  bucket: Date | null;
  application: string | null;
  team: string | null;
}

function split<T extends Grouped>(rows: T[]): { total: T | undefined; byBucket: Map<string, T>; byApplication: Map<string, T> } {
  const byBucket = new Map<string, T>();
  const byApplication = new Map<string, T>();
  let total: T | undefined;
  for (const r of rows) {
    if (r.g_bucket === 0 && r.bucket) byBucket.set(new Date(r.bucket).toISOString(), r);
    else if (r.g_application === 0 && r.application) byApplication.set(r.application, r);
    else if (r.g_bucket === 1 && r.g_application === 1) total = r;
  }
  return { total, byBucket, byApplication };
}

export class DeliveryMetrics {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Resolves a query to a scope: application and team refs (that must exist), period, bucket. */
  async scope(q: DeliveryQueryParsed, now = new Date()): Promise<DeliveryScope> {
    const { since, until } = periodOf(q, now);
    let application: string | null = null;
    let team: string | null = null;
    if (q.application) {
      application = toRef(q.application, { kind: 'application', namespace: q.namespace }) ?? null;
      if (!application?.startsWith('application:')) throw validationError(`${q.application} is not an application`, [{ path: 'query.application', message: 'must be an application name or ref' }]);
      const found = await this.db.selectFrom('entities').select('id').where('ref', '=', application).executeTakeFirst();
      if (!found) throw notFound(`application ${application}`);
    }
    if (q.team) {
      team = toRef(q.team, { kind: 'team', namespace: 'default' }) ?? null;
      if (!team?.startsWith('team:')) throw validationError(`${q.team} is not a team`, [{ path: 'query.team', message: 'must be a team name or ref' }]);
      const found = await this.db.selectFrom('entities').select('id').where('ref', '=', team).executeTakeFirst();
      if (!found) throw notFound(`team ${team}`);
    }
    return { application, team, environmentType: q.environmentType, since, until, bucket: q.bucket };
  }

  /** The report of a query (see DeliveryReportSchema). */
  async report(q: DeliveryQueryParsed, now = new Date()): Promise<DeliveryReport> {
    return this.compute(await this.scope(q, now));
  }

  async compute(s: DeliveryScope): Promise<DeliveryReport> {
    const [frequency, lead, failure, restore] = await Promise.all([this.frequency(s), this.leadTime(s), this.changeFailure(s), this.restore(s)]);
    const F = split(frequency);
    const L = split(lead);
    const C = split(failure);
    const R = split(restore);
    const days = (s.until.getTime() - s.since.getTime()) / DAY_MS;
    const releases = F.total?.releases ?? 0;

    const series: DeliveryPoint[] = buckets(s.since, s.until, s.bucket).map(({ start, end }) => {
      const k = start.toISOString();
      const f = F.byBucket.get(k);
      const c = C.byBucket.get(k);
      const r = R.byBucket.get(k);
      return {
        start: k, end: end.toISOString(),
        releases: f?.releases ?? 0, rollbacks: f?.rollbacks ?? 0,
        leadTimeMedianSeconds: secs(L.byBucket.get(k)?.median),
        failed: c?.failed ?? 0, changeFailureRate: c ? ratio(c.failed, c.changes) : null,
        restored: r?.restored ?? 0, timeToRestoreMedianSeconds: secs(r?.median),
      };
    });
    const applications: DeliveryApplication[] = [...F.byApplication.values()]
      .sort((a, b) => (a.application ?? '').localeCompare(b.application ?? ''))
      .map((f) => {
        const app = f.application!;
        const c = C.byApplication.get(app);
        return {
          application: app, team: f.team, releases: f.releases, rollbacks: f.rollbacks,
          leadTimeMedianSeconds: secs(L.byApplication.get(app)?.median),
          failed: c?.failed ?? 0, changeFailureRate: c ? ratio(c.failed, c.changes) : null,
          timeToRestoreMedianSeconds: secs(R.byApplication.get(app)?.median),
        };
      });
    return {
      scope: { application: s.application, team: s.team, environmentType: s.environmentType as DeliveryReport['scope']['environmentType'] },
      period: { since: s.since.toISOString(), until: s.until.toISOString(), days: round3(days), bucket: s.bucket },
      deploymentFrequency: { releases, rollbacks: F.total?.rollbacks ?? 0, perDay: round3(releases / days), perWeek: round3((releases / days) * 7) },
      leadTime: { measured: L.total?.measured ?? 0, fromCommit: L.total?.from_commit ?? 0, medianSeconds: secs(L.total?.median), p90Seconds: secs(L.total?.p90) },
      changeFailureRate: {
        changes: C.total?.changes ?? 0, failed: C.total?.failed ?? 0, rolledBack: C.total?.rolled_back ?? 0, failedDeployment: C.total?.failed_deployment ?? 0,
        rate: ratio(C.total?.failed ?? 0, C.total?.changes ?? 0),
      },
      timeToRestore: { failures: R.total?.failures ?? 0, restored: R.total?.restored ?? 0, medianSeconds: secs(R.total?.median), p90Seconds: secs(R.total?.p90) },
      series,
      applications,
    };
  }

  // ---- the queries -------------------------------------------------------------------------------

  /**
   * The releases of the environments in scope from the start of the period on (up to now: the next
   * release of each is read from the whole history after it), with the next release's time and kind.
   */
  private releases(s: DeliveryScope): RawBuilder<unknown> {
    return sql`
      SELECT r.id, r.environment_id, r.kind, r.created_at, d.build_id, a.ref AS application, a.owner_ref AS team,
             lead(r.created_at) OVER w AS next_at, lead(r.kind) OVER w AS next_kind
        FROM releases r
        JOIN environments e ON e.id = r.environment_id
        JOIN entities a ON a.id = e.entity_id
        JOIN deployments d ON d.id = r.deployment_id
       WHERE e.type = ${s.environmentType}
         AND r.created_at >= ${s.since}
         ${s.application ? sql`AND a.ref = ${s.application}` : sql``}
         ${s.team ? sql`AND a.owner_ref = ${s.team}` : sql``}
      WINDOW w AS (PARTITION BY r.environment_id ORDER BY r.created_at, r.id)`;
  }

  /** The bucket of a time column, as timestamptz (UTC). */
  private bucket(s: DeliveryScope, column: RawBuilder<unknown>): RawBuilder<Date> {
    return sql<Date>`(date_trunc(${s.bucket}, ${column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
  }

  private inPeriod(s: DeliveryScope, column: RawBuilder<unknown>): RawBuilder<boolean> {
    return sql<boolean>`${column} >= ${s.since} AND ${column} < ${s.until}`;
  }

  private readonly grouping = sql`
    GROUPING(bucket)::int AS g_bucket, GROUPING(application)::int AS g_application, bucket, application, max(team) AS team`;
  private readonly sets = sql`GROUP BY GROUPING SETS ((), (bucket), (application))`;

  /** Deployment frequency: changes (release, promote) and rollbacks released in the period. */
  private async frequency(s: DeliveryScope) {
    const { rows } = await sql<Grouped & { releases: number; rollbacks: number }>`
      WITH rel AS (${this.releases(s)})
      SELECT ${this.grouping},
             count(*) FILTER (WHERE kind <> 'rollback')::int AS releases,
             count(*) FILTER (WHERE kind = 'rollback')::int AS rollbacks
        FROM (SELECT rel.*, ${this.bucket(s, sql`created_at`)} AS bucket FROM rel WHERE ${this.inPeriod(s, sql`created_at`)}) x
      ${this.sets}`.execute(this.db);
    return rows;
  }

  /** Lead time: each build's first change into an environment, minus its commit time (or creation time). */
  private async leadTime(s: DeliveryScope) {
    const { rows } = await sql<Grouped & { measured: number; from_commit: number; median: number | null; p90: number | null }>`
      WITH rel AS (${this.releases(s)}),
      -- the changes of the period that are their build's first into their environment (earlier ones may be before the period)
      firsts AS (
        SELECT environment_id, build_id, created_at, application, team
          FROM rel
         WHERE kind <> 'rollback' AND ${this.inPeriod(s, sql`created_at`)}
           AND NOT EXISTS (
             SELECT 1 FROM releases r2 JOIN deployments d2 ON d2.id = r2.deployment_id
              WHERE r2.environment_id = rel.environment_id AND r2.kind <> 'rollback' AND d2.build_id = rel.build_id
                AND (r2.created_at, r2.id) < (rel.created_at, rel.id)))
      SELECT ${this.grouping},
             count(*)::int AS measured,
             count(commit_time)::int AS from_commit,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_time) AS median,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY lead_time) AS p90
        FROM (
          SELECT f.application, f.team, b.commit_time, ${this.bucket(s, sql`f.created_at`)} AS bucket,
                 greatest(0, extract(epoch FROM f.created_at - coalesce(b.commit_time, b.created_at)))::float8 AS lead_time
            FROM firsts f JOIN builds b ON b.id = f.build_id) x
      ${this.sets}`.execute(this.db);
    return rows;
  }

  /** The changes of the period, whether each was rolled back, and when the first failed deployment after it ended. */
  private changes(s: DeliveryScope): RawBuilder<unknown> {
    return sql`
      SELECT rel.*, ${this.bucket(s, sql`rel.created_at`)} AS bucket,
             coalesce(rel.next_kind = 'rollback', false) AS rolled_back,
             (SELECT min(coalesce(d.finished_at, d.created_at)) FROM deployments d
               WHERE d.environment_id = rel.environment_id AND d.status = 'failed'
                 AND d.created_at > rel.created_at AND (rel.next_at IS NULL OR d.created_at < rel.next_at)) AS failed_at
        FROM rel
       WHERE rel.kind <> 'rollback' AND ${this.inPeriod(s, sql`rel.created_at`)}`;
  }

  /** Change failure rate: changes followed by a rollback, or by a failed deployment before the next release. */
  private async changeFailure(s: DeliveryScope) {
    const { rows } = await sql<Grouped & { changes: number; failed: number; rolled_back: number; failed_deployment: number }>`
      WITH rel AS (${this.releases(s)}), chg AS (${this.changes(s)})
      SELECT ${this.grouping},
             count(*)::int AS changes,
             count(*) FILTER (WHERE rolled_back OR failed_at IS NOT NULL)::int AS failed,
             count(*) FILTER (WHERE rolled_back)::int AS rolled_back,
             count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed_deployment
        FROM chg
      ${this.sets}`.execute(this.db);
    return rows;
  }

  /** Time to restore: from each failure (rolled back: the release; else the first failed deployment) to the next release. */
  private async restore(s: DeliveryScope) {
    const { rows } = await sql<Grouped & { failures: number; restored: number; median: number | null; p90: number | null }>`
      WITH rel AS (${this.releases(s)}), chg AS (${this.changes(s)})
      SELECT ${this.grouping},
             count(*)::int AS failures,
             count(next_at)::int AS restored,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY restore) AS median,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY restore) AS p90
        FROM (
          SELECT bucket, application, team, next_at,
                 -- GREATEST ignores NULLs: a failure not restored yet (no next release) stays NULL, which the percentiles skip
                 CASE WHEN next_at IS NOT NULL THEN greatest(0, extract(epoch FROM next_at - CASE WHEN rolled_back THEN created_at ELSE failed_at END))::float8 END AS restore
            FROM chg WHERE rolled_back OR failed_at IS NOT NULL) x
      ${this.sets}`.execute(this.db);
    return rows;
  }
}
