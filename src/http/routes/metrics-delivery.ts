import { refOf, toRef } from '../../catalog/model.ts';
import { DELIVERY_DEFINITIONS, DeliveryQuerySchema, DeliveryReportSchema } from '../../contracts/metrics.ts';
import type { ScopeTarget } from '../../access/rbac.ts';
import { DeliveryMetrics } from '../../metrics/delivery.ts';
import type { Db } from '../../store/db.ts';
import { defineRoute, type RawInput, type Route } from '../route.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Whose figures a request reads: one application (its owning team), one team's applications, or every
 * application (which needs application.read for every team).
 */
function scopeOf(i: RawInput): ScopeTarget {
  const application = str(i.query.application);
  if (application) return { kind: 'application', application: toRef(application, { kind: 'application', namespace: str(i.query.namespace) ?? 'default' }) ?? refOf('application', 'default', application) };
  const team = str(i.query.team);
  if (team) return { kind: 'team', team: toRef(team, { kind: 'team', namespace: 'default' }) ?? team };
  return { kind: 'global' };
}

const description = [
  'DORA\'s four keys, computed from the release and deployment history of the environments of one type (default production): for one application, the applications of one team, or all of them, over a period, with one point per day or week for charts and the figures of each application.',
  '',
  `**Scope.** ${DELIVERY_DEFINITIONS.scope}`,
  '',
  `**Deployment frequency.** ${DELIVERY_DEFINITIONS.deploymentFrequency}`,
  '',
  `**Lead time for changes.** ${DELIVERY_DEFINITIONS.leadTime}`,
  '',
  `**Change failure rate.** ${DELIVERY_DEFINITIONS.changeFailureRate}`,
  '',
  `**Time to restore.** ${DELIVERY_DEFINITIONS.timeToRestore}`,
  '',
  'Needs application.read for the application or the team; without either, for every team.',
].join('\n');

/** GET /api/v1/metrics/delivery: delivery metrics per application, team and environment type. */
export function deliveryMetricsRoutes(db: Db): Route[] {
  const metrics = new DeliveryMetrics(db);
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/metrics/delivery', operationId: 'getDeliveryMetrics', summary: 'Delivery metrics: deployment frequency, lead time, change failure rate, time to restore', tag: 'metrics',
      description,
      permission: { name: 'application.read', scope: scopeOf },
      query: DeliveryQuerySchema, errors: [400, 403, 404],
      response: { status: 200, description: 'The figures of the period, a series per bucket, and the figures per application', schema: DeliveryReportSchema },
      handler: ({ query }) => metrics.report(query),
    }),
  ];
}
