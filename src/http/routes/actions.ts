import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { AvailableAction } from '../../actions/catalog.ts';
import type { ActionService, OutputLine } from '../../actions/service.ts';
import { refOf } from '../../catalog/model.ts';
import { ActionRunSchema, ActionViewSchema, RunRequestSchema, type ActionRun, type ActionView } from '../../contracts/actions.ts';
import { NamePathSchema } from '../../contracts/catalog.ts';
import { NamespaceSchema } from '../../contracts/common.ts';
import { PaveError } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import type { ActionRunRow } from '../../store/schema.ts';
import { NDJSON } from '../ndjson.ts';
import { applicationOf, defineRoute, type Route } from '../route.ts';

const EnvName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/);
const ActionKey = z.string().regex(/^([a-z0-9][a-z0-9-]{0,61}[a-z0-9]:)?[a-z0-9]+(-[a-z0-9]+)*$/, 'must be an action id, or <add-on instance>:<id>');
const Ns = z.strictObject({ namespace: NamespaceSchema.default('default') });
const RunPath = z.strictObject({ id: z.uuid() });
const ref = (ns: string, name: string) => refOf('application', ns, name);
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

const actionView = (a: AvailableAction & { allowedHere: boolean | null }): ActionView => ({
  key: a.key, id: a.id, title: a.title, description: a.description, parameters: a.parameters, environments: a.environments, role: a.role, confirm: a.confirm,
  timeoutSeconds: Math.round(a.timeoutMs / 1000), kind: a.kind, source: a.source, addon: a.addon, allowedHere: a.allowedHere,
});

/** Streams NDJSON: each output line as {"event": line}, then {"result": run} once it ended. */
function streamRun(req: FastifyRequest, reply: FastifyReply, actions: ActionService, run: ActionRunRow, view: (r: ActionRunRow) => Promise<ActionRun>): PassThrough {
  const out = new PassThrough();
  const ctl = new AbortController();
  reply.type(NDJSON);
  reply.header('cache-control', 'no-store');
  // the run's id before its first line, so that a client that streams can also cancel it
  reply.header('location', `/api/v1/runs/${run.id}`);
  reply.header('x-pave-run', run.id);
  req.raw.on('close', () => ctl.abort());
  (async () => {
    await actions.output(run.id, (l: OutputLine) => out.write(`${JSON.stringify({ event: l })}\n`), { follow: true, signal: ctl.signal });
    out.write(`${JSON.stringify({ result: await view(await actions.wait(run.id)) })}\n`);
  })()
    .catch((err: unknown) => {
      if (err instanceof PaveError) out.write(`${JSON.stringify({ error: { type: err.type, title: err.title, status: err.status, detail: err.message } })}\n`);
      else {
        req.log.error({ err, run: run.id }, 'run stream failed');
        out.write(`${JSON.stringify({ error: { title: 'Internal error', status: 500, detail: 'an unexpected error occurred' } })}\n`);
      }
    })
    .finally(() => out.end());
  return out;
}

/** Golden actions: what an application offers, runs with their output, and cancellation. */
export function actionRoutes(db: Db, actions: ActionService): Route[] {
  const base = '/api/v1/applications/:name';
  const view = async (r: ActionRunRow): Promise<ActionRun> => {
    const where = await db.selectFrom('environments as e').innerJoin('entities as a', 'a.id', 'e.entity_id').select(['a.ref', 'e.name']).where('e.id', '=', r.environment_id).executeTakeFirst();
    return {
      id: r.id, application: where?.ref ?? '', environment: where?.name ?? '', action: r.action, title: r.title, source: r.source, kind: r.kind, params: r.params, status: r.status,
      summary: r.summary, result: r.result, error: r.error, output: r.output, timeoutSeconds: Math.round(r.timeout_ms / 1000), createdBy: r.created_by,
      createdAt: iso(r.created_at)!, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), durationMs: r.duration_ms,
    };
  };
  return [
    defineRoute({
      method: 'GET', url: `${base}/actions`, operationId: 'listActions', summary: 'Actions the application offers (its template\'s and its add-ons\')', tag: 'actions',
      permission: { name: 'catalog.read' },
      params: NamePathSchema, query: Ns.extend({ environment: EnvName.optional().describe('say whether each may run there') }), errors: [404],
      response: { status: 200, description: 'Actions', schema: z.object({ items: z.array(ActionViewSchema) }) },
      handler: async ({ params, query }) => ({ items: (await actions.list(ref(query.namespace, params.name), query.environment)).map(actionView) }),
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/actions/:action/runs`, operationId: 'runAction', summary: 'Run an action in an environment', tag: 'actions',
      permission: { name: 'action.run', scope: 'environment' },
      description: `Checked before anything runs: the environment type, the caller's permission (action.run for the owning team in the environment's type: team members in development, staging and preview, deployers bound for production, admins; admin-only actions need an admin), the typed confirmation (428 without it), the parameters (400 with field paths). The run is recorded and audited. Answers at once (status queued or running) unless wait=true; with Accept: ${NDJSON} the output streams as {"event": line} lines, then {"result": run}.`,
      params: z.strictObject({ name: NamePathSchema.shape.name, env: EnvName, action: ActionKey }), query: Ns.extend({ wait: z.enum(['true', 'false']).default('false') }),
      body: RunRequestSchema, errors: [403, 404, 428], response: { status: 201, description: 'The run', schema: ActionRunSchema },
      // refused by the kernel (no action.run here): audited as the actions service audits its own refusals, once
      onDenied: async ({ input, principal, req, error, audit }) => {
        audit.skip();
        await actions.refused(applicationOf(input), input.params.env ?? '', input.params.action ?? '', principal, error.message, req.id);
      },
      handler: async ({ params, query, body, principal, req, reply, audit }) => {
        // The actions service audits a run itself, richer than the kernel could (action.run: denied with the
        // reason, or started with the masked parameters, then how the run ended), under this request's id.
        // So the kernel writes no second event for the same request; it does for what is refused before the
        // service decides (400 body, 404 application, environment or action).
        const run = await actions.start(ref(query.namespace, params.name), params.env, params.action, { params: body.params, confirm: body.confirm, requestId: req.id }, principal).catch((err: unknown) => {
          if (err instanceof PaveError && (err.status === 403 || err.status === 428)) audit.skip();
          throw err;
        });
        audit.skip();
        if ((req.headers.accept ?? '').includes(NDJSON)) return streamRun(req, reply, actions, run, view) as never;
        return view(query.wait === 'true' ? await actions.wait(run.id) : run);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/runs`, operationId: 'listRuns', summary: 'Action runs of an application, newest first', tag: 'actions',
      permission: { name: 'application.read', scope: 'application' },
      params: NamePathSchema,
      query: Ns.extend({ environment: EnvName.optional(), limit: z.coerce.number().int().min(1).max(500).default(50), before: z.iso.datetime().optional().describe('runs created before this time (the createdAt of the last run of the previous page)') }),
      errors: [404],
      response: { status: 200, description: 'Runs', schema: z.object({ items: z.array(ActionRunSchema) }) },
      handler: async ({ params, query }) => ({ items: await Promise.all((await actions.runs(ref(query.namespace, params.name), query.environment, query.limit, query.before)).map(view)) }),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/runs/:id', operationId: 'getRun', summary: 'One action run', tag: 'actions',
      permission: { name: 'application.read', scope: 'run' },
      params: RunPath, errors: [404], response: { status: 200, description: 'The run', schema: ActionRunSchema },
      handler: async ({ params }) => view(await actions.get(params.id)),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/runs/:id/output', operationId: 'getRunOutput', summary: 'Output of a run (NDJSON lines); with follow, live until it ends', tag: 'actions',
      permission: { name: 'application.read', scope: 'run' },
      params: RunPath, query: z.strictObject({ follow: z.enum(['true', 'false']).default('false') }), errors: [404],
      response: { status: 200, description: 'One JSON line per output line', contentType: NDJSON },
      handler: async ({ params, query, req, reply }) => {
        await actions.get(params.id);
        const out = new PassThrough();
        const ctl = new AbortController();
        reply.type(NDJSON);
        req.raw.on('close', () => ctl.abort());
        actions
          .output(params.id, (l) => out.write(`${JSON.stringify(l)}\n`), { follow: query.follow === 'true', signal: ctl.signal })
          .catch(() => undefined)
          .finally(() => out.end());
        return out as never;
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/v1/runs/:id/cancel', operationId: 'cancelRun', summary: 'Cancel a queued or running run', tag: 'actions',
      permission: { name: 'action.run', scope: 'run' },
      params: RunPath, errors: [403, 404, 409], response: { status: 200, description: 'The run, cancelled', schema: ActionRunSchema },
      handler: async ({ params, principal }) => view(await actions.cancel(params.id, principal)),
    }),
  ];
}
