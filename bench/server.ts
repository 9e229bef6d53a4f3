/**
 * Starts and stops a Pave server process for the benchmark and watches its memory: the server's peak
 * RSS (VmHWM) and the database's memory — for the embedded store, every postgres process descending
 * from the server; for an external server, only the backends serving the benchmark database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../src/store/embedded.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');

export type StoreKind = 'embedded' | 'external';

// ---- cleanup registry: everything started here is stopped even when the run fails or is interrupted ----

const cleanups = new Set<() => Promise<void>>();
let interrupted = false;

/** True once the run was interrupted: nothing new is started, and servers get a short grace period. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Stops every server and removes every database and data directory started here. */
export async function runCleanups(interrupt = false): Promise<void> {
  if (interrupt) interrupted = true;
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    await fn().catch((err: unknown) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
  }
}

// ---- /proc ------------------------------------------------------------------------------------------

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  startTime: string;
  /** utime + stime, in clock ticks (1/100 s on Linux). */
  cpuTicks: number;
  /** cutime + cstime: CPU of its children that have exited and been waited for. */
  childTicks: number;
}
const TICKS_PER_S = 100;

function readStat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const rest = s.slice(close + 2).split(' ');
    return { pid, ppid: Number(rest[1]), comm, startTime: rest[19]!, cpuTicks: Number(rest[11]) + Number(rest[12]), childTicks: Number(rest[13]) + Number(rest[14]) };
  } catch {
    return undefined;
  }
}

/** kB value of `field` in /proc/<pid>/status (VmRSS, VmHWM), or 0 when the process is gone. */
export function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size (shared pages divided among the processes sharing them), in kB. */
function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Busy CPU ticks of the whole machine (all cores), from /proc/stat. */
export function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - (f[3] ?? 0) - (f[4] ?? 0);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function descendants(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(Number(d));
    if (st) all.push(st);
  }
  const children = new Map<number, ProcStat[]>();
  for (const p of all) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out: ProcStat[] = [];
  const stack = [root];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

const alive = (p: { pid: number; startTime: string }) => readStat(p.pid)?.startTime === p.startTime;

// ---- memory sampling --------------------------------------------------------------------------------

export interface MemoryReport {
  /** Peak RSS of the server process (VmHWM), MB. */
  serverPeakRssMb: number;
  /** The database's memory: what was summed and how. */
  database: {
    scope: string;
    /** Highest sum of RSS over the samples, MB (RSS counts shared buffers once per process that touched them). */
    peakRssSumMb: number;
    /** Highest sum of PSS over the samples, MB (shared pages divided among the processes: closer to real use). */
    peakPssSumMb: number;
    /** Processes in the sample with the highest RSS sum. */
    processesAtPeak: number;
    samples: number;
  };
}

/** What the server and the database did between the previous mark and this one. */
export interface PhaseMemory {
  phase: string;
  wallS: number;
  /** CPU seconds used by the server process in the phase (2 cores: at most 2 per wall second, 1 for single-threaded JS). */
  serverCpuS: number;
  /** CPU seconds used by the database processes watched (see MemoryReport.database.scope). */
  dbCpuS: number;
  /** CPU seconds used by the benchmark client itself (this process: load generation, checks). */
  benchCpuS: number;
  /** CPU seconds used by everything else on the machine (other users' builds and tests, PostgreSQL processes not watched): noise when large. */
  otherCpuS: number;
  /** Share of samples in the phase in which an autovacuum worker was running on the benchmark database. */
  autovacuumShare: number;
  serverRssMb: number;
  serverPeakRssMb: number;
  /** V8 heap and external memory of the server (its /metrics), MB. */
  serverHeapUsedMb: number | null;
  serverHeapTotalMb: number | null;
  serverExternalMb: number | null;
  dbRssSumMb: number;
  dbPssSumMb: number;
  dbProcesses: number;
}

/**
 * Waits (at most `maxS` seconds) until the machine is quiet: under `cores` CPU busy over a 5 s window, so that
 * other people's builds and tests on this shared machine do not end up in the measurements. Returns the busy level seen last.
 */
export async function waitQuiet(maxS: number, cores = 0.3, log: (s: string) => void = () => undefined): Promise<{ waitedS: number; busyCores: number }> {
  const start = performance.now();
  let said = false;
  for (;;) {
    const t0 = machineBusyTicks();
    await new Promise((r) => setTimeout(r, 5000));
    const busyCores = Math.round(((machineBusyTicks() - t0) / TICKS_PER_S / 5) * 100) / 100;
    const waitedS = Math.round((performance.now() - start) / 1000);
    if (busyCores < cores || waitedS >= maxS) return { waitedS, busyCores };
    if (!said) log(`machine busy (${busyCores} cores in use by other processes); waiting up to ${maxS} s for it to quiet down…`);
    said = true;
  }
}

export interface DbProcess {
  pid: number;
  autovacuum: boolean;
  /** The embedded postmaster: its exited children's CPU (cutime) counts as database CPU too. */
  postmaster?: boolean;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

class MemorySampler {
  peakRssKb = 0;
  peakPssKb = 0;
  processesAtPeak = 0;
  samples = 0;
  last = { rssKb: 0, pssKb: 0, processes: 0 };
  lastServerHwmKb = 0;
  /** Per phase: database CPU ticks, samples, samples with autovacuum running. */
  phase = { dbTicks: 0, samples: 0, autovacuum: 0 };
  private readonly ticks = new Map<number, number>();
  private lastTotal: number | undefined;
  readonly serverPid: number;
  readonly dbPids: () => Promise<DbProcess[]>;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  constructor(serverPid: number, dbPids: () => Promise<DbProcess[]>) {
    this.serverPid = serverPid;
    this.dbPids = dbPids;
  }
  start(intervalMs = 500) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }
  stop() {
    clearInterval(this.timer);
  }
  sample(): Promise<void> {
    this.busy ??= this.take().finally(() => (this.busy = undefined));
    return this.busy;
  }
  private async take(): Promise<void> {
    try {
      const hwm = statusKb(this.serverPid, 'VmHWM');
      if (hwm > 0) this.lastServerHwmKb = hwm;
      const procs = await this.dbPids();
      const pids = procs.map((p) => p.pid);
      let rss = 0;
      let pss = 0;
      // Embedded: all live processes plus what exited children left in the postmaster's cutime (exact).
      // External: per backend, the CPU between samples (a backend that exits between samples loses its last part).
      let total = 0;
      const embedded = procs.some((p) => p.postmaster);
      for (const p of procs) {
        rss += statusKb(p.pid, 'VmRSS');
        pss += pssKb(p.pid);
        const st = readStat(p.pid);
        if (!st) continue;
        total += st.cpuTicks + (p.postmaster ? st.childTicks : 0);
        if (!embedded) {
          this.phase.dbTicks += st.cpuTicks - (this.ticks.get(p.pid) ?? st.cpuTicks);
          this.ticks.set(p.pid, st.cpuTicks);
        }
      }
      if (embedded) {
        if (this.lastTotal !== undefined) this.phase.dbTicks += Math.max(0, total - this.lastTotal);
        this.lastTotal = total;
      }
      this.phase.samples++;
      if (procs.some((p) => p.autovacuum)) this.phase.autovacuum++;
      this.samples++;
      this.last = { rssKb: rss, pssKb: pss, processes: pids.length };
      if (rss > this.peakRssKb) {
        this.peakRssKb = rss;
        this.processesAtPeak = pids.length;
      }
      if (pss > this.peakPssKb) this.peakPssKb = pss;
    } catch {
      // a process that vanished mid-sample; the next sample will do
    }
  }
}

// ---- the server -------------------------------------------------------------------------------------

export interface StartOptions {
  store: StoreKind;
  /** Admin URL of the external PostgreSQL server (a fresh database is created on it). */
  adminUrl: string;
  logLevel: string;
  logDir: string;
  timestamp: string;
  /** Scheduling priority (nice value, -20..19) for the server and the embedded PostgreSQL it starts; unchanged when undefined. */
  priority?: number;
}

export interface ServerHandle {
  store: StoreKind;
  pid: number;
  url: string;
  token: string;
  logFile: string;
  /** Connection URL of the database the server uses (for EXPLAIN ANALYZE by the bench). */
  databaseUrl(): string;
  databaseInfo: Record<string, string>;
  /** Takes a memory sample now and returns it, labelled. */
  mark(phase: string): Promise<PhaseMemory>;
  memory(): MemoryReport;
  /** SIGTERM, wait, and clean up its data directory or database. */
  stop(): Promise<MemoryReport>;
}

/** The server's V8 heap (used, total) and external memory from its Prometheus metrics, MB. */
async function heapMetrics(url: string, token: string): Promise<{ used: number | null; total: number | null; external: number | null }> {
  try {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    const get = (name: string) => {
      const m = new RegExp(`^pave_${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
      return m ? mb(Number(m[1]) / 1024) : null;
    };
    return { used: get('nodejs_heap_size_used_bytes'), total: get('nodejs_heap_size_total_bytes'), external: get('nodejs_external_memory_bytes') };
  } catch {
    return { used: null, total: null, external: null };
  }
}


async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitGone(procs: ProcStat[], ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!procs.some(alive)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !procs.some(alive);
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl, application_name: 'pave-bench' });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * The server is started as `npm start` starts it (the node flags and entry of package.json's start
 * script), but without npm in between, so that the process watched is the server itself.
 */
export function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.split(/\s+/);
  if (node !== 'node' || args.length === 0) throw new Error(`package.json's start script is not "node [flags] <entry>": ${pkg.scripts.start}`);
  return args;
}

export async function startServer(opts: StartOptions): Promise<ServerHandle> {
  if (interrupted) throw new Error('interrupted');
  const port = await freePort();
  const token = `bench_${randomBytes(24).toString('base64url')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PAVE_PORT: String(port), PAVE_ROUTER_PORT: process.env.PAVE_ROUTER_PORT ?? String(await freePort()), PAVE_BOOTSTRAP_TOKEN: token, PAVE_LOG_LEVEL: opts.logLevel, PAVE_HOST: '127.0.0.1' };
  delete env.PAVE_DATABASE_URL;
  const databaseInfo: Record<string, string> = {};
  let dbName: string | undefined;
  let dbUrl: string | undefined;

  // This server's own cleanups, run in reverse order by teardown (registered globally for interrupted runs).
  const own: (() => Promise<void>)[] = [];
  let tornDown: Promise<void> | undefined;
  const teardown = () => {
    tornDown ??= (async () => {
      cleanups.delete(teardown);
      for (const fn of own.reverse()) await fn().catch((err: unknown) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
    })();
    return tornDown;
  };
  cleanups.add(teardown);

  const dataDir = mkdtempSync(path.join(os.tmpdir(), `pave-bench-${opts.store}-`));
  own.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  env.PAVE_DATA_DIR = dataDir;
  if (opts.store === 'external') {
    dbName = `pave_bench_${opts.timestamp.replace(/\D/g, '').slice(0, 14)}_${randomBytes(3).toString('hex')}`;
    await adminQuery(opts.adminUrl, `CREATE DATABASE ${dbName}`);
    const name = dbName;
    own.push(() => adminQuery(opts.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    dbUrl = withDatabase(opts.adminUrl, dbName);
    env.PAVE_DATABASE_URL = dbUrl;
    databaseInfo.database = dbName;
  }

  const logFile = path.join(opts.logDir, `server-${opts.store}-${opts.timestamp}.log`);
  const fd = openSync(logFile, 'a');
  // Through nice(1) so that every thread of the server (and the embedded PostgreSQL it forks) gets the priority.
  const argv = [process.execPath, ...startCommand()];
  const cmd = opts.priority !== undefined ? ['nice', '-n', String(opts.priority - os.getPriority()), ...argv] : argv; // nice(1) is relative to ours
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid!;
  const seenDb = new Map<number, ProcStat>();

  const recordDescendants = () => {
    for (const p of descendants(pid)) if (p.comm.startsWith('postgres')) seenDb.set(p.pid, p);
  };
  const stopProcess = async () => {
    recordDescendants(); // even before the sampler ran (a server stopped while starting)
    if (child.exitCode === null && child.signalCode === null) {
      // A request in flight when SIGTERM arrives keeps its keep-alive connection open for Fastify's
      // keepAliveTimeout (72 s) after it ends, so an interrupted run does not wait that long.
      const graceMs = interrupted ? 15_000 : 90_000;
      child.kill('SIGTERM');
      if (!(await waitExit(child, graceMs))) {
        process.stderr.write(`server pid ${pid} did not stop within ${graceMs / 1000} s of SIGTERM; killing it\n`);
        child.kill('SIGKILL');
        await waitExit(child, 10_000);
      }
    }
    // The server stops its embedded PostgreSQL; if it could not, stop what it left (only processes it started).
    const left = [...seenDb.values()].filter(alive);
    if (left.length) {
      const postmaster = left.find((p) => !left.some((q) => q.pid === p.ppid)) ?? left[0]!;
      process.stderr.write(`embedded PostgreSQL (pid ${postmaster.pid}) outlived the server; stopping it\n`);
      try { process.kill(postmaster.pid, 'SIGINT'); } catch { /* gone */ }
      if (!(await waitGone(left, 15_000))) for (const p of left.filter(alive)) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  own.push(stopProcess);

  // External: one monitoring connection to the admin database (not the benchmark one, so it is not counted).
  let monitor: Promise<pg.Client> | undefined;
  const dbPids = async (): Promise<DbProcess[]> => {
    if (opts.store === 'embedded') {
      const procs = descendants(pid).filter((p) => p.comm.startsWith('postgres'));
      for (const p of procs) seenDb.set(p.pid, p);
      return procs.map((p) => ({ pid: p.pid, autovacuum: cmdline(p.pid).includes('autovacuum worker'), postmaster: p.ppid === pid }));
    }
    monitor ??= (async () => {
      const c = new pg.Client({ connectionString: opts.adminUrl, application_name: 'pave-bench-monitor' });
      c.on('error', () => undefined);
      await c.connect();
      own.push(() => c.end());
      return c;
    })();
    const c = await monitor;
    const r = await c.query<{ pid: number; backend_type: string }>('SELECT pid, backend_type FROM pg_stat_activity WHERE datname = $1 AND application_name NOT LIKE $2', [dbName, 'pave-bench%']);
    return r.rows.map((x) => ({ pid: x.pid, autovacuum: x.backend_type === 'autovacuum worker' }));
  };
  const sampler = new MemorySampler(pid, dbPids);
  own.push(async () => sampler.stop());

  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    if (Date.now() - started > 180_000) throw new Error(`server not ready within 180 s; see ${logFile}`);
    recordDescendants();
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  databaseInfo.readyInMs = String(Date.now() - started);
  sampler.start();
  await sampler.sample();

  const databaseUrl = (): string => {
    if (dbUrl) return dbUrl;
    // Embedded: the password is in <dataDir>/store.json and the port in postmaster.pid (line 4).
    const store = JSON.parse(readFileSync(path.join(dataDir, 'store.json'), 'utf8')) as { password: string };
    const pgPort = readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]!.trim();
    return `postgres://postgres:${encodeURIComponent(store.password)}@127.0.0.1:${pgPort}/postgres`;
  };

  const memory = (): MemoryReport => ({
    serverPeakRssMb: mb(Math.max(sampler.lastServerHwmKb, statusKb(pid, 'VmHWM'))),
    database: {
      scope:
        opts.store === 'embedded'
          ? 'all PostgreSQL processes started by the server (postmaster, auxiliary processes and backends)'
          : `backends serving database ${dbName} only (pids from pg_stat_activity); the server's postmaster, auxiliary processes and its share of shared memory outside these backends are not counted`,
      peakRssSumMb: mb(sampler.peakRssKb),
      peakPssSumMb: mb(sampler.peakPssKb),
      processesAtPeak: sampler.processesAtPeak,
      samples: sampler.samples,
    },
  });

  let stopped: Promise<MemoryReport> | undefined;
  const own0 = process.cpuUsage();
  let lastMark = { at: performance.now(), serverTicks: readStat(pid)?.cpuTicks ?? 0, busyTicks: machineBusyTicks(), benchMicros: own0.user + own0.system };
  return {
    store: opts.store,
    pid,
    url,
    token,
    logFile,
    databaseUrl,
    databaseInfo,
    async mark(phase) {
      await sampler.sample();
      const now = performance.now();
      const cpu = readStat(pid)?.cpuTicks ?? lastMark.serverTicks;
      const busy = machineBusyTicks();
      const own = process.cpuUsage();
      const heap = await heapMetrics(url, token);
      const serverCpuS = (cpu - lastMark.serverTicks) / TICKS_PER_S;
      const dbCpuS = sampler.phase.dbTicks / TICKS_PER_S;
      const benchCpuS = Math.round((own.user + own.system - lastMark.benchMicros) / 10_000) / 100;
      const out: PhaseMemory = {
        phase,
        wallS: Math.round(now - lastMark.at) / 1000,
        serverCpuS,
        dbCpuS,
        benchCpuS,
        otherCpuS: Math.max(0, Math.round((busy - lastMark.busyTicks) / TICKS_PER_S * 100 - (serverCpuS + dbCpuS + benchCpuS) * 100) / 100),
        autovacuumShare: sampler.phase.samples ? Math.round((100 * sampler.phase.autovacuum) / sampler.phase.samples) / 100 : 0,
        serverRssMb: mb(statusKb(pid, 'VmRSS')),
        serverPeakRssMb: mb(statusKb(pid, 'VmHWM')),
        serverHeapUsedMb: heap.used,
        serverHeapTotalMb: heap.total,
        serverExternalMb: heap.external,
        dbRssSumMb: mb(sampler.last.rssKb),
        dbPssSumMb: mb(sampler.last.pssKb),
        dbProcesses: sampler.last.processes,
      };
      lastMark = { at: now, serverTicks: cpu, busyTicks: busy, benchMicros: own.user + own.system };
      sampler.phase = { dbTicks: 0, samples: 0, autovacuum: 0 };
      return out;
    },
    memory,
    stop() {
      stopped ??= (async () => {
        await sampler.sample();
        const report = memory();
        sampler.stop();
        await teardown();
        return report;
      })();
      return stopped;
    },
  };
}
