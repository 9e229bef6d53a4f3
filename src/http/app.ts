import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../services.ts';
import type { Store } from '../store/db.ts';
import { installMetrics } from './metrics.ts';
import { installProblemHandlers } from './problem.ts';
import type { Grant } from '../access/principal.ts';
import { runAs, type Actor } from '../policies/actor.ts';
import { policyRoutes } from './routes/policies.ts';
import { accessRoutes } from './routes/access.ts';
import { authRoutes } from './routes/auth.ts';
import { authenticator } from './session.ts';
import { actionRoutes } from './routes/actions.ts';
import { auditRoutes } from './routes/audit.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { goldenRoutes } from './routes/golden.ts';
import { jobRoutes } from './routes/jobs.ts';
import { deliveryMetricsRoutes } from './routes/metrics-delivery.ts';
import { platformRoutes } from './routes/platform.ts';
import { renderRoutes } from './routes/render.ts';
import { runtimeRoutes } from './routes/runtime.ts';
import { systemRoutes } from './routes/system.ts';
import type { Route } from './route.ts';

export interface AppOptions {
  store: Store;
  log: Logger;
  version: string;
  bodyLimit: number;
  importBodyLimit: number;
  /** Largest source or artifact archive accepted (default 256 MiB). */
  archiveBodyLimit?: number;
  services: Services;
  /** Folder with the built portal; served at / when it exists. */
  portalDir?: string;
}

export interface PaveApp {
  app: FastifyInstance;
  services: Services;
}

const YAML = ['application/yaml', 'application/x-yaml', 'text/yaml'];
export const ARCHIVES = ['application/gzip', 'application/x-gzip'];

/** Assembles the HTTP server: the API under /api/v1, health, metrics, and the portal. */
export async function buildApp(opts: AppOptions): Promise<PaveApp> {
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
  });
  const portal = opts.portalDir ?? path.resolve(import.meta.dirname, '../../portal/dist');
  const hasPortal = existsSync(path.join(portal, 'index.html'));
  // Deep links: any other GET outside the API gets the portal, which routes on the client.
  installProblemHandlers(app, hasPortal ? (req, reply) => {
    const p = req.url.split('?')[0] ?? '';
    return req.method === 'GET' && !p.startsWith('/api/') && !p.startsWith('/assets/') ? reply.type('text/html').sendFile('index.html') : undefined;
  } : undefined);
  const metrics = installMetrics(app);
  app.addContentTypeParser(YAML, { parseAs: 'string', bodyLimit: opts.importBodyLimit }, (_req, body, done) => done(null, body));
  app.addContentTypeParser(ARCHIVES, { parseAs: 'buffer', bodyLimit: opts.archiveBodyLimit ?? 256 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  const { tokens, catalog, applications, sync, secrets } = opts.services;
  const actors = new WeakMap<FastifyRequest, Actor>();
  // A bearer token, or the portal's session cookie (with the CSRF header for changes): src/http/session.ts.
  const identify = authenticator(tokens, opts.services.auth);
  const authenticate = async (req: FastifyRequest) => {
    const principal = await identify(req);
    let grants: Promise<Grant[]> | undefined;
    actors.set(req, { user: principal.userRef, roles: principal.roles, requestId: req.id, grants: () => (grants ??= opts.services.access.withGrants(principal).then((p) => p.grants ?? [])) });
    return principal;
  };
  // The handler runs as its caller (policies read request.actor, however deep the call that checks them).
  app.addHook('preHandler', (req, _reply, done) => {
    const actor = actors.get(req);
    if (actor) runAs(actor, done);
    else done();
  });

  const routes: Route[] = [];
  routes.push(...systemRoutes(opts.store, metrics, () => routes.map((r) => r.doc), opts.version));
  routes.push(...accessRoutes(opts.store.db, tokens, opts.services.access));
  routes.push(...authRoutes({ db: opts.store.db, auth: opts.services.auth, tokens, audit: (e) => opts.services.audit.append(e) }));
  routes.push(...catalogRoutes(catalog, opts.importBodyLimit, applications.hooks()));
  routes.push(...goldenRoutes(applications, opts.services.deployments, opts.services.access, opts.services.jobs));
  routes.push(...deploymentRoutes(opts.services, ARCHIVES, opts.archiveBodyLimit ?? 256 * 1024 * 1024));
  routes.push(...renderRoutes(opts.services));
  routes.push(...runtimeRoutes(opts.services));
  routes.push(...actionRoutes(opts.store.db, opts.services.actions));
  routes.push(...auditRoutes(opts.services.audit));
  routes.push(...platformRoutes(opts.store.db, sync, secrets));
  routes.push(...policyRoutes(opts.services.policies, sync));
  routes.push(...deliveryMetricsRoutes(opts.store.db));
  routes.push(...fleetRoutes(opts.services.fleet, opts.services.access));
  routes.push(...jobRoutes(opts.services.jobs));
  // Every state-changing request (and every secret read) of an authenticated caller leaves an audit event (route.ts);
  // every route's permission is checked, in its scope, by the kernel with the role bindings (src/access/rbac.ts).
  const audit = opts.services.audit;
  const sink = Object.assign((e: Parameters<typeof audit.append>[0]) => audit.append(e), { digest: (body: unknown) => audit.digest(body) });
  for (const r of routes) r.mount(app, authenticate, sink, opts.services.access);
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="pave"');
    return payload;
  });

  // Every server runs jobs (src/jobs): its worker starts once it listens and stops with it (the server
  // process stops it earlier, to let running jobs finish while it still answers).
  const jobs = opts.services.jobs;
  app.addHook('onListen', async () => {
    const addr = app.server.address();
    await jobs.start({ version: opts.version, url: typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : null });
  });
  app.addHook('onClose', async () => jobs.stop());

  if (hasPortal) await app.register(fastifyStatic, { root: portal, wildcard: false, index: ['index.html'] });
  return { app, services: opts.services };
}
