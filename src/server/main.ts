import { bootstrapAdmin } from '../access/bootstrap.ts';
import { loadConfig } from '../config.ts';
import { buildApp } from '../http/app.ts';
import { createLogger } from '../logging.ts';
import { loadJobSettings } from '../jobs/config.ts';
import { DEPLOYMENT_RUN } from '../deployments/run-job.ts';
import { parsePlatformSource } from '../platform/sync.ts';
import { builtinDrivers } from '../resources/drivers/index.ts';
import { loadSecretBox } from '../secrets/secret-box.ts';
import { createServices, LOCAL_SERVICE_SECRETS, SAMPLE_PLATFORM, type Services } from '../services.ts';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../store/db.ts';
import { VERSION } from '../version.ts';

/**
 * `npm start`: opens the store (embedded PostgreSQL in the data directory unless PAVE_DATABASE_URL is
 * set), applies migrations, creates the first admin on first start, and serves API and portal on one port.
 */
/** How long in-flight requests may take to finish once a stop signal came. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  const config = loadConfig();
  const jobSettings = loadJobSettings();
  const log = createLogger(config.logLevel);
  // Signals are handled from the start: a store that is still starting is let finish, then stopped,
  // so an early SIGTERM never leaves the embedded PostgreSQL behind.
  let closing = false;
  let store: Store | undefined;
  let services: Services | undefined;
  let app: FastifyInstance | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  const opening = openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, log });
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'stopping');
    store ??= await opening.catch(() => undefined);
    services?.sync.stop();
    if (sweeper) clearInterval(sweeper);
    // Applications keep running: their processes outlive the server, and the next start adopts them.
    await services?.router.close().catch((err: unknown) => log.error({ err }, 'error while closing the router'));
    // fleet upgrades first: applications in flight finish, nothing new starts, and each upgrade's job goes back to
    // the queue for another server (or the next start); then the job worker stops with what is left
    await services?.fleet.stop().catch((err: unknown) => log.error({ err }, 'error while stopping fleet upgrades'));
    await services?.deployments.idle();
    // no new jobs here; the running ones finish (up to PAVE_JOB_STOP_TIMEOUT) or go back to the queue for another server
    await services?.jobs.stop().catch((err: unknown) => log.error({ err }, 'error while stopping the job worker'));
    if (app) {
      // In-flight requests finish; keep-alive connections are closed as soon as they are idle, and
      // whatever is still open after the grace period is cut (its transaction rolls back).
      const server = app.server;
      const idle = setInterval(() => server.closeIdleConnections(), 200);
      const cut = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await app.close().catch((err: unknown) => log.error({ err }, 'error while closing the server'));
      clearInterval(idle);
      clearTimeout(cut);
    }
    await store?.close().catch((err: unknown) => log.error({ err }, 'error while closing the store'));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  store = await opening;
  if (closing) return;
  const { box, source: keySource } = loadSecretBox({ secretKey: config.secretKey, dataDir: config.dataDir });
  if (keySource === 'file' && store.mode === 'external') log.warn('PAVE_SECRET_KEY is not set: secrets are sealed with the key in the data directory; every replica must share one key (set PAVE_SECRET_KEY)');
  services = createServices({
    store, log, dataDir: config.dataDir, box, drivers: builtinDrivers(), platformSource: parsePlatformSource(config.platform ?? SAMPLE_PLATFORM),
    deployments: { keepWarm: config.keepWarm, warmSeconds: config.warmSeconds, healthTimeout: config.healthTimeout, stopGrace: config.stopGrace },
    jobs: jobSettings,
    auth: {
      publicUrl: config.publicUrl,
      oidc: config.oidcIssuer
        ? { issuer: config.oidcIssuer, clientId: config.oidcClientId!, clientSecret: config.oidcClientSecret, scopes: config.oidcScopes, groupsClaim: config.oidcGroupsClaim, teamMapping: config.oidcTeamMapping, displayName: config.oidcName }
        : undefined,
      session: { ttlSeconds: config.sessionTtl },
      login: { maxPerUser: config.loginMaxFailures, maxPerIp: config.loginMaxFailuresPerIp, windowSeconds: config.loginWindow },
    },
  });
  ({ app } = await buildApp({ store, log, services, version: VERSION, bodyLimit: config.bodyLimit, importBodyLimit: config.importBodyLimit }));

  const boot = await bootstrapAdmin(store.db, config.bootstrapToken);
  if (!(await services.sync.lastSync())) {
    // First start: load the platform now, so that templates are there at once.
    const report = await services.sync.sync();
    if (!config.platform) for (const [name, value] of Object.entries(LOCAL_SERVICE_SECRETS)) await services.secrets.seed(name, value);
    if (report.errors.length) log.warn({ errors: report.errors.length }, 'some platform files were rejected; see pave platform status');
  }
  if (config.platformSyncInterval > 0) services.sync.start(config.platformSyncInterval * 1000);
  // The router first, then what runs behind it: released applications answer again as soon as possible.
  const routerPort = await services.router.listen(config.routerPort, config.host);
  // Deployments whose job is still running or queued are left to it: on another live server it goes on; one whose server
  // died is taken over once its lease ran out (failed on the local runtime, converged on a cluster: src/deployments/run-job.ts).
  // Alone (no other live server), local deployments left starting by an earlier run of this server are failed now, as before.
  const peers = (await services.jobs.servers.live()).map((s) => s.id);
  const alone = peers.length === (await services.jobs.servers.deadOnThisHost(peers, services.jobs.serverId)).length;
  const active = await Promise.all((['running', 'queued'] as const).map((state) => services!.jobs.list({ kind: DEPLOYMENT_RUN, state, limit: 500 })));
  const leave = new Set(active.flat().filter((j) => !alone || (j.payload as { runtime?: string } | null)?.runtime !== 'local').map((j) => (j.payload as { deployment: string }).deployment));
  await services.deployments.reconcile({ leave });
  // Runs left open by an earlier run of this server are failed now; while other servers are live, their open
  // runs may be theirs and still going (each holds a job: a dead server's are failed by whoever finds its lease run out).
  const others = (await services.jobs.servers.live()).map((s) => s.id);
  const deadHere = await services.jobs.servers.deadOnThisHost(others, services.jobs.serverId);
  if (others.length === deadHere.length) await services.actions.failInterrupted();
  // fleet upgrades are jobs (taken over by whichever server claims them); an unfinished upgrade without one gets one
  await services.fleet.resume();
  const deployments = services.deployments;
  sweeper = setInterval(() => void deployments.sweep().catch((err: unknown) => log.error({ err }, 'sweep failed')), config.reaperInterval * 1000);
  sweeper.unref();
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  services.auth.listening(url);
  // this server joins the registry and starts taking jobs before it says it is running
  await services.jobs.start({ version: VERSION, url });
  // The banner is for the person who ran `npm start`; it goes to stdout, not the JSON log.
  const lines = [``, `  Pave ${VERSION} is running`, `  Portal:  ${url}/`, `  API:     ${url}/api/v1 (OpenAPI: ${url}/api/v1/openapi.json)`, `  Router:  http://<app>-<env>.localhost:${routerPort} (or http://localhost:${routerPort}/<app>-<env>/)`, `  Store:   ${store.mode === 'embedded' ? `embedded PostgreSQL in ${config.dataDir}` : 'external PostgreSQL'}`];
  if (boot && !boot.preset) {
    lines.push('', '  First start: an admin token was created. It is shown only this once; keep it safe:', '', `    ${boot.token}`, '', `  Sign in:  npx pave login --url ${url} --token ${boot.token}`);
  } else if (boot) {
    lines.push('', '  First start: the admin token is the one given in PAVE_BOOTSTRAP_TOKEN.');
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`pave: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
