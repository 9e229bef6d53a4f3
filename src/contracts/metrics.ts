import { z } from 'zod';
import { NamespaceSchema } from './common.ts';
import { EnvironmentTypeSchema } from './golden.ts';

/**
 * Delivery metrics (DORA's four keys) per application, team and environment type over a period:
 * deployment frequency, lead time for changes, change failure rate and time to restore, with a time
 * series per day or week for charts. The definitions are in DELIVERY_DEFINITIONS (also the API's
 * description of GET /api/v1/metrics/delivery and the README's "Delivery metrics").
 */

export const DELIVERY_BUCKETS = ['day', 'week'] as const;
export type DeliveryBucket = (typeof DELIVERY_BUCKETS)[number];

/** What each figure means, exactly as it is computed (src/metrics/delivery.ts). */
export const DELIVERY_DEFINITIONS = {
  scope:
    'Releases of the environments of the given type (default production) of the applications in scope: one application, the applications a team owns, or all of them. ' +
    'A change is a release of kind release or promote; a rollback is not a change (it restores an earlier one) and is counted apart. A change belongs to the period (since inclusive, until exclusive) and the bucket of its release time (UTC; weeks start on Monday). What follows a change (the next release, failed deployments) is read from the whole history, also after until.',
  deploymentFrequency: 'Changes released in the period, per day and per week (count divided by the period\'s length in days, times 7 for weeks).',
  leadTime:
    'For each build\'s first change into an environment: release time minus the build\'s commit time (git builds), or minus the build\'s creation time when the commit time is unknown (folder and archive builds, registered artifacts). Median and 90th percentile, interpolated. A build released again later (restart, scale, rollback) is not measured again.',
  changeFailureRate:
    'The share of changes that failed. A change failed when, before the next release of its environment, either that next release is a rollback, or a deployment of the environment failed (its health check failed or its processes crashed before it was healthy: deployments.status = failed).',
  timeToRestore:
    'For each failed change: from the failure to the next release of its environment (which is always of a healthy deployment). The failure starts at the change\'s release when it was rolled back, else at the end of the first failed deployment after it. Median and 90th percentile, interpolated; failures not restored yet are counted but not measured.',
} as const;

const Instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const Relative = z.string().regex(/^[1-9][0-9]{0,3}[hdw]$/, 'must be an ISO 8601 date or time, or a span back from until such as 30d, 12w or 48h');

export const DeliveryQuerySchema = z.strictObject({
  application: z.string().min(1).max(300).optional().describe('one application: its name (in namespace) or ref, e.g. shop or application:default/shop'),
  namespace: NamespaceSchema.default('default').describe('the namespace of application, when it is given by name'),
  team: z.string().min(1).max(300).optional().describe('the applications a team owns: its name or ref, e.g. payments or team:default/payments'),
  environmentType: EnvironmentTypeSchema.default('production').describe('the environment type whose releases count (default production)'),
  since: z.union([Instant, Relative]).optional().describe('start of the period (inclusive): an ISO 8601 date or time, or a span back from until such as 30d, 12w or 48h (default 30d)'),
  until: Instant.optional().describe('end of the period (exclusive), ISO 8601 (default now)'),
  bucket: z.enum(DELIVERY_BUCKETS).default('week').describe('the series\' buckets: day, or week (Monday to Monday, UTC)'),
});
export type DeliveryQuery = z.input<typeof DeliveryQuerySchema>;
export type DeliveryQueryParsed = z.infer<typeof DeliveryQuerySchema>;

const Seconds = z.number().nullable();
const Count = z.number().int();

export const DeliveryPointSchema = z.object({
  start: z.string().describe('start of the bucket (ISO 8601, UTC)'),
  end: z.string().describe('end of the bucket (exclusive)'),
  releases: Count.describe('changes released in the bucket (release and promote)'),
  rollbacks: Count,
  leadTimeMedianSeconds: Seconds.describe('median lead time of the builds first released in the bucket; null without any'),
  failed: Count.describe('changes of the bucket that failed'),
  changeFailureRate: z.number().nullable().describe('failed / releases; null without releases'),
  restored: Count.describe('failed changes of the bucket that were restored'),
  timeToRestoreMedianSeconds: Seconds,
});
export type DeliveryPoint = z.infer<typeof DeliveryPointSchema>;

export const DeliveryApplicationSchema = z.object({
  application: z.string().describe('application ref'),
  team: z.string().nullable().describe('owner ref'),
  releases: Count,
  rollbacks: Count,
  leadTimeMedianSeconds: Seconds,
  failed: Count,
  changeFailureRate: z.number().nullable(),
  timeToRestoreMedianSeconds: Seconds,
});
export type DeliveryApplication = z.infer<typeof DeliveryApplicationSchema>;

export const DeliveryReportSchema = z
  .object({
    scope: z.object({
      application: z.string().nullable().describe('application ref, or null'),
      team: z.string().nullable().describe('team ref, or null'),
      environmentType: EnvironmentTypeSchema,
    }),
    period: z.object({ since: z.string(), until: z.string(), days: z.number(), bucket: z.enum(DELIVERY_BUCKETS) }),
    deploymentFrequency: z.object({
      releases: Count.describe('changes released (release and promote)'),
      rollbacks: Count,
      perDay: z.number(),
      perWeek: z.number(),
    }),
    leadTime: z.object({
      measured: Count.describe('builds whose first change into an environment fell in the period'),
      fromCommit: Count.describe('of those, builds with a known commit time (the others are measured from their creation)'),
      medianSeconds: Seconds,
      p90Seconds: Seconds,
    }),
    changeFailureRate: z.object({
      changes: Count,
      failed: Count,
      rolledBack: Count.describe('changes followed by a rollback'),
      failedDeployment: Count.describe('changes followed, before the next release, by a failed deployment'),
      rate: z.number().nullable().describe('failed / changes; null without changes'),
    }),
    timeToRestore: z.object({
      failures: Count,
      restored: Count,
      medianSeconds: Seconds,
      p90Seconds: Seconds,
    }),
    series: z.array(DeliveryPointSchema).describe('one point per bucket of the period, empty buckets included'),
    applications: z.array(DeliveryApplicationSchema).describe('the figures per application with releases in the period, by ref'),
  })
  .meta({ id: 'DeliveryReport' });
export type DeliveryReport = z.infer<typeof DeliveryReportSchema>;
