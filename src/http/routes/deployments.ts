import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { refOf } from '../../catalog/model.ts';
import { NamePathSchema } from '../../contracts/catalog.ts';
import { NamespaceSchema } from '../../contracts/common.ts';
import {
  ArtifactRegisterSchema,
  BuildCreateSchema,
  BuildSchema,
  ConfigHistorySchema,
  ConfigSchema,
  ConfigUpdateSchema,
  DeploymentDiffSchema,
  DeploymentSchema,
  DeployRequestSchema,
  EnvironmentStatusSchema,
  LogsQuerySchema,
  PromoteRequestSchema,
  ReleaseHistorySchema,
  ReleaseRequestSchema,
  ReleaseSchema,
  RollbackRequestSchema,
  SelectorSchema,
  type LogLine,
} from '../../contracts/deployments.ts';
import { SECRET_MASK } from '../../contracts/golden.ts';
import { buildView, type BuildTarget } from '../../deployments/builds.ts';
import { validationError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { ifMatch, setEtag } from '../etag.ts';
import { NDJSON, streamWork, wantsStream } from '../ndjson.ts';
import { applicationOf, defineRoute, type PermissionRule, type RawInput, type Route } from '../route.ts';

const EnvName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/);
const EnvPath = z.strictObject({ name: NamePathSchema.shape.name, env: EnvName });
const Ns = z.strictObject({ namespace: NamespaceSchema.default('default') });
const ref = (ns: string, name: string) => refOf('application', ns, name);

const READ_APP: PermissionRule = { name: 'application.read', scope: 'application' };
const WRITE_APP: PermissionRule = { name: 'application.write', scope: 'application' };
/** `release: true` in the body also releases: that needs `release` where it deploys. */
const releasing = (i: RawInput) => (i.body as { release?: unknown } | undefined)?.release === true;
/** `<env>/<number>` or `<env>/<uuid>`: a deployment anywhere in the application. */
const DeploymentAddress = z.string().regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]\/([0-9]+|[0-9a-f-]{36})$/, 'must be <environment>/<deployment number or id>, e.g. staging/3');
const address = (s: string) => {
  const [env, sel] = s.split('/') as [string, string];
  return { env, selector: /^[0-9]+$/.test(sel) ? Number(sel) : sel };
};

/** Streams log lines as NDJSON until the client goes away (follow) or the backlog is sent. */
function streamLines(req: FastifyRequest, reply: FastifyReply, work: (onLine: (l: LogLine) => void, signal: AbortSignal) => Promise<void>): PassThrough {
  const out = new PassThrough();
  const ctl = new AbortController();
  reply.type(NDJSON);
  reply.header('cache-control', 'no-store');
  req.raw.on('close', () => ctl.abort());
  work((l) => out.write(`${JSON.stringify(l)}\n`), ctl.signal)
    .catch((err: unknown) => out.write(`${JSON.stringify({ error: { title: 'Log stream failed', status: 500, detail: (err as Error).message } })}\n`))
    .finally(() => out.end());
  return out;
}

/** Builds, artifacts, environment config, deployments, releases, rollbacks, promotions, status and logs. */
export function deploymentRoutes(s: Services, archiveTypes: string[], archiveLimit: number): Route[] {
  const base = '/api/v1/applications/:name';
  const { builds, deployments, configs, applications } = s;
  const target = async (appRef: string): Promise<BuildTarget> => {
    const app = await applications.managedApplication(appRef);
    const b = app.template.spec.build ?? {};
    return {
      entityId: app.entityId, ref: appRef,
      recipe: { command: typeof b.command === 'string' ? b.command : undefined, processes: b.processes && typeof b.processes === 'object' ? (b.processes as Record<string, string>) : undefined },
    };
  };
  const envId = async (appRef: string, env: string) => {
    const app = await applications.managedApplication(appRef);
    const row = app.environments.find((e) => e.name === env);
    if (!row) throw validationError(`environment ${env} of ${appRef} does not exist`, [{ path: 'path.env', message: `unknown environment (it has ${app.environments.map((e) => e.name).join(', ')})` }]);
    return { app, env: row };
  };
  const configView = async (appRef: string, env: string, reveal: boolean) => {
    const t = await envId(appRef, env);
    const cur = await configs.current(t.env.id);
    const layers = await deployments.layers(t.app, t.env, reveal).then((l) => l.layers, () => []);
    return {
      environment: env, version: cur.version, variables: cur.variables,
      secrets: Object.fromEntries(Object.keys(cur.secrets).map((k) => [k, reveal ? cur.secrets[k]! : SECRET_MASK])),
      layers, change: cur.row?.change ?? null, createdBy: cur.row?.created_by ?? null, createdAt: cur.row ? new Date(cur.row.created_at).toISOString() : null,
    };
  };
  /** An archive body, written to a temporary file for the builder; removed afterwards. */
  const spool = async (body: unknown): Promise<{ file: string; cleanup: () => Promise<void> }> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pave-upload-'));
    const file = path.join(dir, 'source.tar.gz');
    await writeFile(file, body as Buffer);
    return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
  };
  const buildResponse = async (appRef: string, started: Awaited<ReturnType<typeof builds.start>>, req: FastifyRequest, reply: FastifyReply, wait: boolean) => {
    if (wantsStream(req)) {
      return streamWork(reply, async (emit: (e: LogLine) => void) => {
        await builds.logs(started.build, emit, { follow: true });
        return buildView(await started.done, appRef);
      });
    }
    return buildView(wait ? await started.done : started.build, appRef);
  };
  const WaitQuery = Ns.extend({ wait: z.enum(['true', 'false']).default('true').describe('answer when the build is done (default), or at once with status building') });

  return [
    // ---- builds and artifacts ----
    defineRoute({
      method: 'POST', url: `${base}/builds`, operationId: 'createBuild', summary: 'Build the application from a source folder or a git repository', tag: 'builds',
      permission: WRITE_APP,
      description: `Detects Node.js (the lockfile picks npm, pnpm or yarn; the build script runs) and a Procfile (process types; release runs once before a release). The artifact is addressed by its content digest; the same source built twice reuses it. With Accept: ${NDJSON} the build log streams as {"event": line} lines, then {"result": build}.`,
      params: NamePathSchema, query: WaitQuery, body: BuildCreateSchema, errors: [404, 409], response: { status: 201, description: 'The build (failed builds too: see status and error)', schema: BuildSchema },
      handler: async ({ params, query, body, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        const source = body.path ? { kind: 'path' as const, path: body.path } : { kind: 'git' as const, url: body.git!.url, ref: body.git!.ref };
        const started = await builds.start(await target(appRef), source, body.path ? { path: body.path } : { git: body.git }, principal.userRef);
        return buildResponse(appRef, started, req, reply, query.wait === 'true') as never;
      },
    }),
    defineRoute({
      method: 'POST', url: `${base}/builds/archive`, operationId: 'createBuildFromArchive', summary: 'Build the application from an uploaded source archive (.tar.gz)', tag: 'builds',
      permission: WRITE_APP,
      description: 'What "pave build" sends: the source folder packed as a gzipped tar. Entries outside the archive\'s root are refused.',
      params: NamePathSchema, query: WaitQuery, rawBody: archiveTypes, bodyLimit: archiveLimit, errors: [404, 409, 413, 415], response: { status: 201, description: 'The build', schema: BuildSchema },
      handler: async ({ params, query, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        const t = await target(appRef);
        const { file, cleanup } = await spool(req.body);
        const started = await builds.start(t, { kind: 'archive', file }, { archive: `upload (${(req.body as Buffer).length} bytes)` }, principal.userRef, cleanup);
        return buildResponse(appRef, started, req, reply, query.wait === 'true') as never;
      },
    }),
    defineRoute({
      method: 'POST', url: `${base}/artifacts`, operationId: 'registerImage', summary: 'Register an image built by CI (pinned by digest)', tag: 'builds',
      permission: WRITE_APP,
      description: 'The CI → platform hand-off. Images run on container runtimes; the local process runtime runs builds and archives.',
      params: NamePathSchema, query: Ns, body: ArtifactRegisterSchema, errors: [404], response: { status: 201, description: 'The registered build', schema: BuildSchema },
      handler: async ({ params, query, body, principal }) => {
        const appRef = ref(query.namespace, params.name);
        return buildView(await builds.registerImage(await target(appRef), body.image, body.processes, principal.userRef), appRef);
      },
    }),
    defineRoute({
      method: 'POST', url: `${base}/artifacts/archive`, operationId: 'registerArchive', summary: 'Register an already-built archive (.tar.gz with a Procfile or package.json start script)', tag: 'builds',
      permission: WRITE_APP,
      params: NamePathSchema, query: Ns, rawBody: archiveTypes, bodyLimit: archiveLimit, errors: [404, 409, 413, 415], response: { status: 201, description: 'The registered build', schema: BuildSchema },
      handler: async ({ params, query, principal, req }) => {
        const appRef = ref(query.namespace, params.name);
        const t = await target(appRef);
        const { file, cleanup } = await spool(req.body);
        try {
          return buildView(await builds.registerArchive(t, file, undefined, principal.userRef), appRef);
        } finally {
          await cleanup();
        }
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/builds`, operationId: 'listBuilds', summary: 'Builds of an application, newest first', tag: 'builds',
      permission: READ_APP,
      params: NamePathSchema, query: Ns, errors: [404], response: { status: 200, description: 'Builds', schema: z.object({ items: z.array(BuildSchema) }) },
      handler: async ({ params, query }) => {
        const appRef = ref(query.namespace, params.name);
        const t = await target(appRef);
        return { items: (await builds.list(t.entityId)).map((b) => buildView(b, appRef)) };
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/builds/:build`, operationId: 'getBuild', summary: 'One build', tag: 'builds',
      permission: READ_APP,
      params: z.strictObject({ name: NamePathSchema.shape.name, build: SelectorSchema }), query: Ns, errors: [404], response: { status: 200, description: 'The build', schema: BuildSchema },
      handler: async ({ params, query }) => {
        const appRef = ref(query.namespace, params.name);
        return buildView(await builds.get((await target(appRef)).entityId, params.build), appRef);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/builds/:build/logs`, operationId: 'getBuildLogs', summary: 'The log of a build (NDJSON); with follow, live until it ends', tag: 'builds',
      permission: READ_APP,
      params: z.strictObject({ name: NamePathSchema.shape.name, build: SelectorSchema }), query: Ns.extend({ follow: z.enum(['true', 'false']).default('false') }), errors: [404],
      response: { status: 200, description: 'One JSON log line per line', contentType: NDJSON },
      handler: async ({ params, query, req, reply }) => {
        const b = await builds.get((await target(ref(query.namespace, params.name))).entityId, params.build);
        return streamLines(req, reply, (onLine, signal) => builds.logs(b, onLine, { follow: query.follow === 'true', signal })) as never;
      },
    }),

    // ---- environment config ----
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/config`, operationId: 'getConfig', summary: 'Variables and secrets of an environment (secrets masked), with the layers under them', tag: 'config',
      permission: [READ_APP, { name: 'secret.read', scope: 'environment', when: (i) => i.query.reveal === 'true', audit: 'secret.read' }],
      params: EnvPath, query: Ns.extend({ reveal: z.enum(['true', 'false']).default('false').describe('show secret values (needs secret.read; audited as secret.read)') }), errors: [403, 404],
      response: { status: 200, description: 'The current config version', schema: ConfigSchema },
      handler: async ({ params, query, reply }) => {
        const reveal = query.reveal === 'true';
        const view = await configView(ref(query.namespace, params.name), params.env, reveal);
        setEtag(reply, view.version);
        return view;
      },
    }),
    defineRoute({
      method: 'PATCH', url: `${base}/environments/:env/config`, operationId: 'updateConfig', summary: 'Set or unset variables and secrets (a new config version; takes effect at the next deployment)', tag: 'config',
      permission: { name: 'config.write', scope: 'environment' },
      description: 'Changes name the keys they set or unset, so concurrent changes of different keys both apply (like Heroku\'s config:set); If-Match is optional here: with the ETag (config version) last read, a change made meanwhile gets 412. The ETag of the answer is the new version.',
      params: EnvPath, query: Ns, body: ConfigUpdateSchema, errors: [404, 412],
      headers: [{ name: 'If-Match', required: false, description: 'the config version (ETag) last read; a stale one gets 412' }],
      response: { status: 200, description: 'The new config version', schema: ConfigSchema },
      handler: async ({ params, query, body, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        const t = await envId(appRef, params.env);
        const saved = await configs.update(t.env.id, body, principal.userRef, undefined, ifMatch(req, false));
        setEtag(reply, saved.version);
        return configView(appRef, params.env, false);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/config/history`, operationId: 'getConfigHistory', summary: 'Every version of an environment\'s config, with what changed (secrets masked)', tag: 'config',
      permission: READ_APP,
      params: EnvPath, query: Ns, errors: [404], response: { status: 200, description: 'Versions, newest first', schema: ConfigHistorySchema },
      handler: async ({ params, query }) => ({ items: await configs.history((await envId(ref(query.namespace, params.name), params.env)).env.id) }),
    }),

    // ---- deployments and releases ----
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/deployments`, operationId: 'deploy', summary: 'Deploy a build: start its processes with the environment\'s config and wait until healthy', tag: 'deployments',
      permission: [{ name: 'deploy', scope: 'environment' }, { name: 'release', scope: 'environment', when: releasing }],
      description: `The deployment takes no traffic until released (release: true does both). A deployment that fails its health checks is marked failed with the reason and its last log lines; what was serving keeps serving. With Accept: ${NDJSON} the progress streams.`,
      params: EnvPath, query: Ns, body: DeployRequestSchema, errors: [404, 409], response: { status: 201, description: 'The deployment (failed ones too: see status and error)', schema: DeploymentSchema },
      handler: ({ params, query, body, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        if (wantsStream(req)) return streamWork(reply, (emit) => deployments.deploy(appRef, params.env, body, principal.userRef, emit)) as never;
        return deployments.deploy(appRef, params.env, body, principal.userRef);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/deployments`, operationId: 'listDeployments', summary: 'Deployments of an environment, newest first: who, when, build, config and resource versions, result, duration', tag: 'deployments',
      permission: READ_APP,
      params: EnvPath, query: Ns, errors: [404], response: { status: 200, description: 'Deployments', schema: z.object({ items: z.array(DeploymentSchema) }) },
      handler: async ({ params, query }) => ({ items: await deployments.list(ref(query.namespace, params.name), params.env) }),
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/deployments/:deployment`, operationId: 'getDeployment', summary: 'One deployment, with its processes', tag: 'deployments',
      permission: READ_APP,
      params: EnvPath.extend({ deployment: SelectorSchema }), query: Ns, errors: [404], response: { status: 200, description: 'The deployment', schema: DeploymentSchema },
      handler: ({ params, query }) => deployments.get(ref(query.namespace, params.name), params.env, params.deployment),
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/release`, operationId: 'release', summary: 'Switch the environment\'s route to a healthy deployment, then drain the previous one', tag: 'deployments',
      permission: { name: 'release', scope: 'environment' },
      params: EnvPath, query: Ns, body: ReleaseRequestSchema, errors: [404, 409], response: { status: 200, description: 'The release', schema: ReleaseSchema },
      handler: ({ params, query, body, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        if (wantsStream(req)) return streamWork(reply, (emit) => deployments.release(appRef, params.env, body.deployment, principal.userRef, emit)) as never;
        return deployments.release(appRef, params.env, body.deployment, principal.userRef);
      },
    }),
    defineRoute({
      method: 'POST', url: `${base}/environments/:env/rollback`, operationId: 'rollback', summary: 'Release an earlier deployment: instant while it is warm, else started again from its build and snapshot (never rebuilt)', tag: 'deployments',
      permission: { name: 'release', scope: 'environment' },
      params: EnvPath, query: Ns, body: RollbackRequestSchema, errors: [404, 409], response: { status: 200, description: 'The release', schema: ReleaseSchema },
      handler: ({ params, query, body, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        if (wantsStream(req)) return streamWork(reply, (emit) => deployments.rollback(appRef, params.env, body.to, principal.userRef, emit)) as never;
        return deployments.rollback(appRef, params.env, body.to, principal.userRef);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/releases`, operationId: 'listReleases', summary: 'Release history of an environment, newest first', tag: 'deployments',
      permission: READ_APP,
      params: EnvPath, query: Ns, errors: [404], response: { status: 200, description: 'Releases', schema: ReleaseHistorySchema },
      handler: async ({ params, query }) => ({ items: await deployments.releases(ref(query.namespace, params.name), params.env) }),
    }),
    defineRoute({
      method: 'POST', url: `${base}/promote`, operationId: 'promote', summary: 'Deploy the build released in one environment into another, with that environment\'s config', tag: 'deployments',
      permission: [
        { name: 'deploy', scope: (i) => ({ kind: 'application', application: applicationOf(i), environment: String((i.body as { to?: unknown } | undefined)?.to ?? '') }) },
        { name: 'release', when: releasing, scope: (i) => ({ kind: 'application', application: applicationOf(i), environment: String((i.body as { to?: unknown } | undefined)?.to ?? '') }) },
      ],
      params: NamePathSchema, query: Ns, body: PromoteRequestSchema, errors: [404, 409], response: { status: 201, description: 'The new deployment', schema: DeploymentSchema },
      handler: ({ params, query, body, principal, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        const opts = { release: body.release, timeoutSeconds: body.timeoutSeconds };
        if (wantsStream(req)) return streamWork(reply, (emit) => deployments.promote(appRef, body.from, body.to, opts, principal.userRef, emit)) as never;
        return deployments.promote(appRef, body.from, body.to, opts, principal.userRef);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/deployments/diff`, operationId: 'diffDeployments', summary: 'What changed between two deployments: build, config (secrets masked), resources, processes', tag: 'deployments',
      permission: READ_APP,
      params: NamePathSchema, query: Ns.extend({ from: DeploymentAddress, to: DeploymentAddress }), errors: [404], response: { status: 200, description: 'The differences', schema: DeploymentDiffSchema },
      handler: ({ params, query }) => deployments.diff(ref(query.namespace, params.name), address(query.from), address(query.to)),
    }),

    // ---- status and logs ----
    defineRoute({
      method: 'GET', url: `${base}/status`, operationId: 'getApplicationStatus', summary: 'Every environment: released deployment, processes, status and URL', tag: 'deployments',
      permission: READ_APP,
      params: NamePathSchema, query: Ns, errors: [404], response: { status: 200, description: 'Environments', schema: z.object({ items: z.array(EnvironmentStatusSchema) }) },
      handler: async ({ params, query }) => ({ items: await deployments.statuses(ref(query.namespace, params.name)) }),
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/status`, operationId: 'getEnvironmentStatus', summary: 'The environment: released deployment, processes, status and URL', tag: 'deployments',
      permission: READ_APP,
      params: EnvPath, query: Ns, errors: [404], response: { status: 200, description: 'The environment', schema: EnvironmentStatusSchema },
      handler: ({ params, query }) => deployments.status(ref(query.namespace, params.name), params.env),
    }),
    defineRoute({
      method: 'GET', url: `${base}/environments/:env/logs`, operationId: 'getLogs', summary: 'Logs of an environment\'s processes (NDJSON), with process type and deployment; follow streams new lines', tag: 'deployments',
      permission: READ_APP,
      params: EnvPath, query: LogsQuerySchema, errors: [404], response: { status: 200, description: 'One JSON log line per line', contentType: NDJSON },
      handler: async ({ params, query, req, reply }) => {
        const appRef = ref(query.namespace, params.name);
        await deployments.status(appRef, params.env); // 404 before the stream starts
        return streamLines(req, reply, (onLine, signal) => deployments.logs(appRef, params.env, { tail: query.tail, follow: query.follow, deployment: query.deployment, signal }, onLine)) as never;
      },
    }),
  ];
}
