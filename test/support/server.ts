import { bootstrapAdmin } from '../../src/access/bootstrap.ts';
import { buildApp, type PaveApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/logging.ts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlatformSource } from '../../src/platform/sync.ts';
import { builtinDrivers } from '../../src/resources/drivers/index.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import type { AuthSettings } from '../../src/access/auth.ts';
import { createServices, LOCAL_SERVICE_SECRETS, SAMPLE_PLATFORM, type DeploymentSettings } from '../../src/services.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { createTestDatabase } from './postgres.ts';

export const ADMIN_TOKEN = 'pave_test-admin-token-0123456789abcdef';

export interface TestServer extends PaveApp {
  url: string;
  /** The router's base URL (http://127.0.0.1:<port>). */
  routerUrl: string;
  dataDir: string;
  token: string;
  store: Store;
  /** fetch against the server with the admin token (override with headers.authorization). */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/** A real Pave server on a random loopback port, on a fresh database, with a known admin token. */
export interface TestServerOptions {
  databaseUrl?: string;
  bodyLimit?: number;
  importBodyLimit?: number;
  /** Capture the server's JSON log lines (at `logLevel`, default info) instead of discarding them. */
  logStream?: { write(line: string): void };
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Folder of a built portal to serve (default: portal/dist, when built). */
  portalDir?: string;
  /** Platform source to sync at start (default: the sample platform, with this machine's local services as secrets); null: none. */
  platform?: string | null;
  /** Deployment settings (keep-warm, health timeout, grace). */
  deployments?: Partial<DeploymentSettings>;
  /** Data directory to use (default: a fresh temporary one, removed at close). */
  dataDir?: string;
  /** Identity settings: an OIDC provider (see test/support/oidc.ts), session lifetime, login limits, public URL. */
  auth?: AuthSettings;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = opts.databaseUrl ? undefined : await createTestDatabase();
  const log = opts.logStream
    ? createLogger(opts.logLevel ?? 'info', opts.logStream)
    : createLogger(process.env.PAVE_TEST_LOG === '1' ? 'debug' : 'silent');
  const store = await openStore({ dataDir: '/nonexistent', databaseUrl: opts.databaseUrl ?? db!.url, log, poolSize: 10 });
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'pave-data-'));
  const services = createServices({
    store, log, dataDir, box: new SecretBox(randomBytes(32)), drivers: builtinDrivers(),
    platformSource: parsePlatformSource(opts.platform ?? SAMPLE_PLATFORM),
    deployments: { healthTimeout: 15, stopGrace: 2, ...opts.deployments },
    ...(opts.auth ? { auth: opts.auth } : {}),
  });
  const routerPort = await services.router.listen(0);
  if (opts.platform !== null) {
    await services.sync.sync();
    if (opts.platform === undefined) for (const [k, v] of Object.entries(LOCAL_SERVICE_SECRETS)) await services.secrets.seed(k, v);
  }
  const pave = await buildApp({ store, log, services, version: 'test', bodyLimit: opts.bodyLimit ?? 1024 * 1024, importBodyLimit: opts.importBodyLimit ?? 64 * 1024 * 1024, ...(opts.portalDir ? { portalDir: opts.portalDir } : {}) });
  await bootstrapAdmin(store.db, ADMIN_TOKEN);
  await pave.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = pave.app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  services.auth.listening(url);
  return {
    ...pave,
    url,
    routerUrl: `http://127.0.0.1:${routerPort}`,
    dataDir,
    token: ADMIN_TOKEN,
    store,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${ADMIN_TOKEN}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      return fetch(url + path, { ...init, headers, body: body ?? null });
    },
    async close() {
      // stop what the tests started (a test may have taken the store away: stop the runs on disk then)
      await services.deployments.stopAll(500).catch(async () => {
        for (const id of await services.runtime.list()) await services.runtime.stop(id, 500);
      });
      await services.router.close();
      await pave.app.close();
      await store.close();
      await db?.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
