import { PassThrough } from 'node:stream';
import { can, isFullAdmin, type AccessControl } from '../../access/rbac.ts';
import type { Principal } from '../../access/principal.ts';
import { refOf } from '../../catalog/model.ts';
import { NamePathSchema } from '../../contracts/catalog.ts';
import {
  AppNsQuerySchema,
  ApplicationUpgradeListSchema,
  FleetApplicationListSchema,
  FleetApplicationsQuerySchema,
  FleetPlanCreateSchema,
  FleetPlanPathSchema,
  FleetPlanSchema,
  FleetQuerySchema,
  FleetViewSchema,
  PinCreateSchema,
  PinListSchema,
  PinPathSchema,
  PinSchema,
  UpgradeCreateSchema,
  UpgradeEventListSchema,
  UpgradeEventsQuerySchema,
  UpgradeListQuerySchema,
  UpgradeListSchema,
  UpgradePathSchema,
  UpgradeSchema,
} from '../../contracts/fleet.ts';
import { PaveError, validationError } from '../../errors.ts';
import type { FleetService } from '../../fleet/service.ts';
import { parseLabels } from '../../fleet/selector.ts';
import { NDJSON } from '../ndjson.ts';
import { defineRoute, type PermissionRule, type Route } from '../route.ts';

/**
 * Fleet upgrades over HTTP. Who may do what: the fleet view and upgrades' progress are platform
 * information (platform.read, everyone); a plan is open to every signed-in caller but holds only the
 * applications they may read (application.read), unless they hold platform.write for every team;
 * starting, pausing, resuming and cancelling an upgrade need platform.write (platform engineers and
 * admins); pins are the owning team's (application.write on the application).
 */
const PLATFORM_READ: PermissionRule = { name: 'platform.read' };
const PLATFORM_WRITE: PermissionRule = { name: 'platform.write' };
const ref = (ns: string, name: string) => refOf('application', ns, name);

export function fleetRoutes(fleet: FleetService, access: AccessControl): Route[] {
  /** The applications a caller may see in a plan: all for platform writers, else those they may read. */
  const visibleTo = async (p: Principal) => {
    if (isFullAdmin(p) || can(await access.withGrants(p), 'platform.write', {})) return undefined;
    return (refs: string[]) => access.readable(p, 'application.read', refs);
  };
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/fleet', operationId: 'getFleet', summary: 'Versions of every template and add-on in use, and which applications are behind', tag: 'fleet',
      permission: PLATFORM_READ, query: FleetQuerySchema,
      response: { status: 200, description: 'Per template and add-on: applications and environments per version, the latest, how many are behind, the pins', schema: FleetViewSchema },
      handler: async ({ query }) => ({ items: await fleet.view(query) }),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/fleet/applications', operationId: 'listFleetApplications', summary: 'Applications on a template or add-on, with their version, the latest and their pin', tag: 'fleet',
      permission: PLATFORM_READ, query: FleetApplicationsQuerySchema,
      response: { status: 200, description: 'One row per application (or add-on instance)', schema: FleetApplicationListSchema },
      handler: async ({ query }) => {
        const raw = query.label === undefined ? [] : Array.isArray(query.label) ? query.label : [query.label];
        const labels = parseLabels(raw);
        if ('bad' in labels) throw validationError(`label ${labels.bad} is not key=value`, [{ path: 'query.label', message: 'must be key=value' }]);
        return fleet.applications({ kind: query.kind, name: query.name, version: query.version, team: query.team, environmentType: query.environmentType, labels: raw.length ? labels.labels : undefined, behind: query.behind, limit: query.limit });
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/fleet/plans', operationId: 'createFleetPlan', summary: 'Plan the upgrade of applications to a version of a template or add-on', tag: 'fleet',
      description: 'Changes nothing but records the plan, so that the upgrade applies exactly what was reviewed. Per application: the inputs (new ones with their defaults), the workload, the add-ons, the resources each environment would create, change or delete, and the actions added or removed. Applications that cannot be upgraded automatically (pinned, a new required input without default, a policy that would deny) are listed under excluded with the reason.',
      permission: 'authenticated', audit: false, body: FleetPlanCreateSchema, errors: [400],
      response: { status: 201, description: 'The plan', schema: FleetPlanSchema },
      handler: async ({ body, principal, reply }) => {
        const plan = await fleet.plan(body, principal.userRef, await visibleTo(principal));
        reply.header('location', `/api/v1/fleet/plans/${plan.id}`);
        return plan;
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/fleet/plans/:id', operationId: 'getFleetPlan', summary: 'A recorded plan', tag: 'fleet',
      permission: 'authenticated', params: FleetPlanPathSchema, errors: [404],
      response: { status: 200, description: 'The plan (the applications the caller may read)', schema: FleetPlanSchema },
      handler: async ({ params, principal }) => fleet.getPlan(params.id, await visibleTo(principal)),
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/fleet/upgrades', operationId: 'startFleetUpgrade', summary: 'Apply a plan: upgrade its applications in waves', tag: 'fleet',
      description: 'The upgrade runs in the background: a canary wave, then waves of waveSize, concurrency applications at a time, applications whose most critical environment comes first in environmentOrder first. Each application is upgraded atomically: its resources converge and each environment with a release is redeployed (the released build, the new config and workload), health-checked and released; on failure it is put back on its previous version and what was released keeps serving. Failures beyond failureBudget (or any in the canary wave) stop the rollout. Follow it with GET …/events?follow=true.',
      permission: PLATFORM_WRITE, body: UpgradeCreateSchema, errors: [404, 409],
      response: { status: 201, description: 'The upgrade, started', schema: UpgradeSchema },
      handler: async ({ body, principal, reply }) => {
        const u = await fleet.start(body, { user: principal.userRef, roles: principal.roles });
        reply.header('location', `/api/v1/fleet/upgrades/${u.id}`);
        return u;
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/fleet/upgrades', operationId: 'listFleetUpgrades', summary: 'Upgrades, newest first', tag: 'fleet',
      permission: PLATFORM_READ, query: UpgradeListQuerySchema,
      response: { status: 200, description: 'Upgrades', schema: UpgradeListSchema },
      handler: async ({ query }) => ({ items: await fleet.list(query) }),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/fleet/upgrades/:id', operationId: 'getFleetUpgrade', summary: 'An upgrade: its waves and each application\'s state', tag: 'fleet',
      permission: PLATFORM_READ, params: UpgradePathSchema, errors: [404],
      response: { status: 200, description: 'The upgrade', schema: UpgradeSchema },
      handler: ({ params }) => fleet.get(params.id),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/fleet/upgrades/:id/events', operationId: 'listFleetUpgradeEvents', summary: 'An upgrade\'s progress: events after a seq, or followed live', tag: 'fleet',
      description: `Poll with ?after=<the last seq seen>. With follow=true (and Accept: ${NDJSON}) the events stream as {"event": …} lines until the upgrade ends, then one {"result": upgrade} line.`,
      permission: PLATFORM_READ, params: UpgradePathSchema, query: UpgradeEventsQuerySchema, errors: [404],
      response: { status: 200, description: 'Events', schema: UpgradeEventListSchema },
      handler: async ({ params, query, req, reply }) => {
        if (!query.follow) return fleet.eventsAfter(params.id, query.after, query.limit);
        await fleet.get(params.id);
        const out = new PassThrough();
        const ctl = new AbortController();
        reply.type(NDJSON);
        reply.header('cache-control', 'no-store');
        req.raw.on('close', () => ctl.abort());
        fleet
          .follow(params.id, query.after, (e) => out.write(`${JSON.stringify({ event: e })}\n`), ctl.signal)
          .then((u) => out.write(`${JSON.stringify({ result: u })}\n`))
          .catch((err: unknown) => {
            if (err instanceof PaveError) out.write(`${JSON.stringify({ error: { type: err.type, title: err.title, status: err.status, detail: err.message } })}\n`);
            else {
              req.log.error({ err }, 'upgrade event stream failed');
              out.write(`${JSON.stringify({ error: { title: 'Internal error', status: 500, detail: 'an unexpected error occurred' } })}\n`);
            }
          })
          .finally(() => out.end());
        return out as never;
      },
    }),
    ...(['pause', 'resume', 'cancel'] as const).map((verb) =>
      defineRoute({
        method: 'POST', url: `/api/v1/fleet/upgrades/:id/${verb}`, operationId: `${verb}FleetUpgrade`, tag: 'fleet',
        summary: verb === 'pause' ? 'Pause: the applications in flight finish, no other starts' : verb === 'resume' ? 'Resume a paused upgrade' : 'Cancel: the applications in flight finish, the others are not upgraded',
        permission: PLATFORM_WRITE, params: UpgradePathSchema, errors: [404, 409],
        response: { status: 200, description: 'The upgrade', schema: UpgradeSchema },
        handler: ({ params, principal }) =>
          verb === 'pause' ? fleet.pauseUpgrade(params.id, principal.userRef) : verb === 'resume' ? fleet.resumeUpgrade(params.id, principal.userRef) : fleet.cancelUpgrade(params.id, principal.userRef),
      }),
    ),
    defineRoute({
      method: 'GET', url: '/api/v1/applications/:name/upgrades', operationId: 'listApplicationUpgrades', summary: 'The fleet upgrades an application went through, and its pins', tag: 'fleet',
      permission: { name: 'application.read', scope: 'application' }, params: NamePathSchema, query: AppNsQuerySchema, errors: [404],
      response: { status: 200, description: 'Upgrades, newest first, and pins', schema: ApplicationUpgradeListSchema },
      handler: ({ params, query }) => fleet.history(ref(query.namespace, params.name)),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/applications/:name/pins', operationId: 'listApplicationPins', summary: 'The versions an application is pinned at', tag: 'fleet',
      permission: { name: 'application.read', scope: 'application' }, params: NamePathSchema, query: AppNsQuerySchema, errors: [404],
      response: { status: 200, description: 'Pins', schema: PinListSchema },
      handler: async ({ params, query }) => ({ items: await fleet.pins(ref(query.namespace, params.name)) }),
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/applications/:name/pins', operationId: 'pinApplication', summary: 'Pin an application at the version of a template or add-on it uses (upgrades leave it out)', tag: 'fleet',
      permission: { name: 'application.write', scope: 'application' }, params: NamePathSchema, query: AppNsQuerySchema, body: PinCreateSchema, errors: [404, 409],
      response: { status: 201, description: 'The pin', schema: PinSchema },
      handler: ({ params, query, body, principal }) => fleet.pin(ref(query.namespace, params.name), body, principal.userRef),
    }),
    defineRoute({
      method: 'DELETE', url: '/api/v1/applications/:name/pins/:kind/:pattern', operationId: 'unpinApplication', summary: 'Remove a pin', tag: 'fleet',
      permission: { name: 'application.write', scope: 'application' }, params: PinPathSchema, query: AppNsQuerySchema, errors: [404],
      response: { status: 200, description: 'The pin removed', schema: PinSchema },
      handler: ({ params, query }) => fleet.unpin(ref(query.namespace, params.name), params.kind, params.pattern),
    }),
  ];
}
