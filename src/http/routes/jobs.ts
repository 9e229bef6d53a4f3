import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { can } from '../../access/rbac.ts';
import type { Principal } from '../../access/principal.ts';
import { JobDetailSchema, JobListQuerySchema, JobPageSchema, ServerListSchema, type JobEventView, type JobView } from '../../contracts/jobs.ts';
import { forbidden, PaveError } from '../../errors.ts';
import type { JobService } from '../../jobs/service.ts';
import type { Job, JobEvent } from '../../jobs/types.ts';
import { NDJSON } from '../ndjson.ts';
import { defineRoute, type Route } from '../route.ts';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function jobView(j: Job, hosts: ReadonlyMap<string, string> = new Map()): JobView {
  return {
    id: j.id, kind: j.kind, subject: j.subject, payload: j.payload, state: j.state, result: j.result, error: j.error, attempts: j.attempts, maxAttempts: j.maxAttempts,
    takeovers: j.takeovers, server: j.server, serverHost: j.server ? (hosts.get(j.server) ?? null) : null, leaseExpiresAt: j.state === 'running' ? iso(j.leaseExpiresAt) : null,
    heartbeatAt: iso(j.heartbeatAt), createdBy: j.createdBy, createdAt: iso(j.createdAt)!, startedAt: iso(j.startedAt), finishedAt: iso(j.finishedAt),
    durationMs: j.startedAt && j.finishedAt ? new Date(j.finishedAt).getTime() - new Date(j.startedAt).getTime() : null,
  };
}

export const jobEventView = (e: JobEvent): JobEventView => ({ id: e.id, at: new Date(e.at).toISOString(), attempt: e.attempt, server: e.server, type: e.type, data: e.data });

const problemLine = (err: unknown) =>
  err instanceof PaveError ? { type: err.type, title: err.title, status: err.status, detail: err.message } : { title: 'Internal error', status: 500, detail: 'an unexpected error occurred' };

/**
 * Streams a job as NDJSON from the store, whichever server runs it: `{"event": …}` for each event
 * `event` maps (undefined: left out), then `{"result": …}` once it ended (what `result` makes of the
 * job; throwing a PaveError turns it into `{"error": problem}`). A client that goes away stops it.
 */
export function streamJob(reply: FastifyReply, jobs: JobService, id: string, map: { event: (e: JobEvent) => unknown; result: (job: Job) => unknown }): PassThrough {
  const out = new PassThrough();
  const ctl = new AbortController();
  reply.type(NDJSON);
  reply.header('cache-control', 'no-store');
  // the response closes when the stream ended, or early when the client went away
  reply.raw.on('close', () => ctl.abort());
  const line = (v: unknown) => out.write(`${JSON.stringify(v)}\n`);
  jobs
    .follow(id, (e) => {
      const event = map.event(e);
      if (event !== undefined) line({ event });
    }, { signal: ctl.signal })
    .then((job) => {
      if (job) line({ result: map.result(job) });
    })
    .catch((err: unknown) => {
      if (!(err instanceof PaveError)) reply.log.error({ err, job: id }, 'job stream failed');
      line({ error: problemLine(err) });
    })
    .finally(() => out.end());
  return out;
}

const JobPath = z.strictObject({ id: z.uuid() });

/** Jobs and the server registry: for who may read the audit log (audit.read: admins, platform engineers); a job also for who started it. */
export function jobRoutes(jobs: JobService): Route[] {
  const hosts = async () => new Map((await jobs.servers.list()).map((s) => [s.id, `${s.host} pid ${s.pid}`]));
  /** Who may read the installation's jobs (audit.read: admins, platform engineers), and who started the job. */
  const visible = async (id: string, principal: Principal): Promise<Job> => {
    const job = await jobs.get(id);
    if (!can(principal, 'audit.read') && job.createdBy !== principal.userRef) throw forbidden('only who started a job, and those who may read the audit log (audit.read: admins, platform engineers), may see it');
    return job;
  };
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/jobs', operationId: 'listJobs', summary: 'Jobs of the installation, newest first', tag: 'jobs',
      permission: { name: 'audit.read' },
      description: 'Background work any server may run: provisioning an environment\'s resources (resources.apply), deleting an environment or an application (resources.delete), deployments with their release (deployments.run), action runs (actions.run) and fleet upgrades (fleet.upgrade). Each job is run by one server at a time; when that server stops renewing its lease (it crashed or lost the database), another takes it over: it runs it again from the start, converges it, or (a local deployment, an action run, which cannot be redone elsewhere) marks it failed.',
      query: JobListQuerySchema, response: { status: 200, description: 'A page of jobs', schema: JobPageSchema },
      handler: async ({ query }) => {
        const items = await jobs.list({ kind: query.kind, state: query.state, subject: query.subject, limit: query.limit, after: query.cursor });
        const h = await hosts();
        return { items: items.map((j) => jobView(j, h)), nextCursor: items.length === query.limit ? items[items.length - 1]!.id : null };
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/jobs/:id', operationId: 'getJob', summary: 'One job with its events', tag: 'jobs',
      permission: 'authenticated',
      description: 'Who may read the audit log (audit.read: admins, platform engineers), and the user who started the job.',
      params: JobPath, errors: [403, 404], response: { status: 200, description: 'The job and its events, in order', schema: JobDetailSchema },
      handler: async ({ params, principal }) => {
        const job = await visible(params.id, principal);
        return { ...jobView(job, await hosts()), events: (await jobs.events(job.id)).map(jobEventView) };
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/jobs/:id/events', operationId: 'followJob', summary: 'A job\'s events as NDJSON; with follow, live until it ends', tag: 'jobs',
      permission: 'authenticated',
      description: `Who may read the audit log (audit.read), and the user who started the job. One {"event": JobEvent} line per event (after the given event id), from the store, whichever server runs the job; with follow=true the stream stays open until the job ends, then a last {"result": Job} line.`,
      params: JobPath,
      query: z.strictObject({ follow: z.enum(['true', 'false']).default('false'), after: z.coerce.number().int().min(0).default(0).describe('only events after this id') }),
      errors: [403, 404], response: { status: 200, description: 'One JSON line per event', contentType: NDJSON },
      handler: async ({ params, query, reply, principal }) => {
        const job = await visible(params.id, principal);
        if (query.follow === 'true') return streamJob(reply, jobs, job.id, { event: jobEventView, result: (j) => jobView(j) }) as never;
        reply.type(NDJSON);
        return (await jobs.events(job.id, query.after)).map((e) => `${JSON.stringify({ event: jobEventView(e) })}\n`).join('') as never;
      },
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/servers', operationId: 'listServers', summary: 'The Pave servers of the installation and their heartbeats', tag: 'jobs',
      permission: { name: 'audit.read' },
      description: 'Each server registers at start and beats every third of the job lease; it is live while its last beat is younger than the lease. A server that stops normally leaves the list; one that crashed stays, not live, for a day.',
      response: { status: 200, description: 'Servers, live ones first', schema: ServerListSchema },
      handler: async () => {
        const [items, m] = await Promise.all([jobs.servers.list(), jobs.servers.multiServer()]);
        return {
          items: items.map((s) => ({ id: s.id, host: s.host, pid: s.pid, version: s.version, url: s.url, startedAt: iso(s.startedAt)!, lastSeen: iso(s.lastSeen)!, live: s.live, runningJobs: s.runningJobs, self: s.id === jobs.serverId })),
          multiServer: m.multi, reason: m.reason, leaseSeconds: jobs.settings.leaseSeconds,
        };
      },
    }),
  ];
}
