import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SAMPLE_PLATFORM } from '../../src/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { ROOT, startServerProcess, type ServerProcess } from '../support/process.ts';

/**
 * Several real Pave server processes (`node src/server/main.ts`) on one fresh PostgreSQL database,
 * each with a data directory of its own, as separate hosts would have; and the `pave` CLI against them.
 */
export const TOKEN = 'pave_ha-test-admin-token-0123456789';
export const SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
export const PROVISIONER = path.join(import.meta.dirname, 'fixtures/provisioner.mjs');

export interface Cluster {
  db: TestDatabase;
  work: string;
  platform: string;
  /** One line per provision by the test provisioner: the resource's uid (and `<runLog>.deletes`: one per delete). */
  runLog: string;
  /** The uids of what the test provisioner provisioned and was not deleted yet. */
  live(): string[];
  servers: ServerProcess[];
  env(i: number): Record<string, string>;
  start(i: number, extra?: Record<string, string>): Promise<ServerProcess>;
  close(): Promise<void>;
}

/**
 * A database, a platform (the sample one, plus resource types `slow` (4 s) and `tick` (0.2 s)
 * provisioned by test/ha/fixtures/provisioner.mjs, and `sticky` (0.2 s, deleted in 4 s)), and `n`
 * servers started together.
 */
export async function startCluster(n: number, extra: Record<string, string> = {}, prepare?: (platform: string) => void): Promise<Cluster> {
  const db = await createTestDatabase();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pave-ha-'));
  const platform = path.join(work, 'platform');
  const runLog = path.join(work, 'provisions.log');
  writeFileSync(runLog, '');
  cpSync(SAMPLE_PLATFORM, platform, { recursive: true });
  const type = (name: string, seconds: number, deleteSeconds = 0) => `apiVersion: pave.dev/v1
kind: ResourceType
metadata: { name: ${name} }
spec:
  outputs:
    value: { type: string }
---
apiVersion: pave.dev/v1
kind: ResourceDefinition
metadata: { name: ${name}-cmd }
spec:
  type: ${name}
  driver: cmd
  inputs:
    command: ${PROVISIONER}
    log: ${runLog}
    seconds: ${seconds}
    deleteSeconds: ${deleteSeconds}
`;
  writeFileSync(path.join(platform, 'ha-test.yaml'), `${type('slow', 4)}---\n${type('tick', 0.2)}---\n${type('sticky', 0.2, 4)}`);
  prepare?.(platform);
  const servers: ServerProcess[] = [];
  const env = (i: number): Record<string, string> => ({
    PAVE_DATABASE_URL: db.url, PAVE_DATA_DIR: path.join(work, `server-${i}`), PAVE_PLATFORM: platform, PAVE_BOOTSTRAP_TOKEN: TOKEN, PAVE_SECRET_KEY: SECRET_KEY,
    PAVE_PLATFORM_SYNC_INTERVAL: '0', ...extra,
  });
  const cluster: Cluster = {
    db, work, platform, runLog, servers, env,
    live: () => (existsSync(path.join(work, 'live')) ? readdirSync(path.join(work, 'live')).sort() : []),
    async start(i, more = {}) {
      const s = await startServerProcess({ ...env(i), ...more });
      servers[i] = s;
      return s;
    },
    async close() {
      await Promise.all(servers.map((s) => s?.stop('SIGKILL').catch(() => undefined)));
      await db.drop().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => cluster.start(i)));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** fetch against a server with the admin token; `json` sends a JSON body. */
export function call(s: ServerProcess, p: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  return fetch(s.url + p, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
    body: init.json !== undefined ? JSON.stringify(init.json) : (init.body ?? null),
  });
}

export async function json<T>(res: Response, status?: number): Promise<T> {
  const text = await res.text();
  if (status !== undefined && res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Runs `pave <args>` against a server; resolves with exit code and output. */
export function cli(s: ServerProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/pave.js'), ...args], { env: { ...process.env, PAVE_URL: s.url, PAVE_TOKEN: TOKEN, PAVE_CONFIG_DIR: path.join(os.tmpdir(), 'pave-ha-cli') }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 30_000, every = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** An application from the node-service template with a workload of our own (its resources). */
export async function createApp(s: ServerProcess, name: string, resources: Record<string, unknown>, environments?: { name: string; type: string }[]): Promise<void> {
  const workload = { apiVersion: 'score.dev/v1b1', metadata: { name }, containers: { web: { image: '.' } }, resources };
  await json(await call(s, '/api/v1/applications', { method: 'POST', json: { name, owner: 'ops', template: 'node-service', workload, ...(environments ? { environments } : {}) } }), 201);
}
