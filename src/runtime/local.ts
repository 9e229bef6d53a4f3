/**
 * The local process runtime: every run is a detached supervisor process (`supervisor.ts`) that owns the
 * run's processes, so runs survive the Pave server. Everything about a run lives in its folder
 * `<dir>/<id>` (layout in `disk.ts`), so a new `LocalRuntime` over the same `dir` adopts the runs of an
 * earlier server: their status, logs and stop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import {
  DEFAULT_GRACE_MS,
  LOG_DIR,
  PID_FILE,
  SPEC_FILE,
  STATUS_FILE,
  STOP_FILE,
  SUPERVISOR_LOG,
  logFileName,
  parseLogFileName,
  writeJsonAtomicSync,
  type DiskProcessStatus,
  type StatusFile,
} from './disk.ts';
import { groupAlive, pidAlive, procCmdline, procStat, signalGroup } from './proc.ts';
import type { LogLine, ProcessStatus, RunSpec, RunStatus, Runtime } from './types.ts';

const SUPERVISOR = fileURLToPath(new URL('./supervisor.ts', import.meta.url));
const START_TIMEOUT_MS = 5000;
const POLL_MS = 10;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface LocalRuntimeOptions {
  /** The folder holding one folder per run, e.g. `<dataDir>/runs`. */
  dir: string;
  log?: Logger | undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function checkId(id: string): void {
  if (!RUN_ID.test(id) || id === '.' || id === '..') throw new Error(`invalid run id ${JSON.stringify(id)}`);
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function isRecord(line: unknown): line is { ts: string; stream: LogLine['stream']; line: string } {
  if (typeof line !== 'object' || line === null) return false;
  const r = line as Record<string, unknown>;
  return typeof r.ts === 'string' && typeof r.line === 'string' && typeof r.stream === 'string';
}

/** Parses JSON log lines of one process file; malformed lines (e.g. a torn last line) are skipped. */
function parseLines(text: string, type: string, replica: number, out: LogLine[]): void {
  for (const raw of text.split('\n')) {
    if (raw.length === 0) continue;
    try {
      const rec: unknown = JSON.parse(raw);
      if (isRecord(rec)) out.push({ ts: rec.ts, type, replica, stream: rec.stream, line: rec.line });
    } catch {
      // torn or foreign line
    }
  }
}

export class LocalRuntime implements Runtime {
  readonly dir: string;
  private readonly log: Logger | undefined;
  /** Runs being started by this instance (a second start of the same id is refused). */
  private readonly starting = new Set<string>();

  constructor(opts: LocalRuntimeOptions) {
    this.dir = path.resolve(opts.dir);
    this.log = opts.log;
  }

  private runDir(id: string): string {
    checkId(id);
    return path.join(this.dir, id);
  }

  /** Whether `pid` is the live supervisor of run `id` (not a process that reused its pid). */
  private supervisorAlive(pid: number, id: string): boolean {
    if (!pidAlive(pid)) return false;
    const args = procCmdline(pid);
    return args.includes(id) && args.some((a) => a.endsWith('supervisor.ts'));
  }

  private async readSupervisorPid(dir: string): Promise<number> {
    try {
      const pid = Number((await fsp.readFile(path.join(dir, PID_FILE), 'utf8')).trim());
      return Number.isInteger(pid) && pid > 0 ? pid : 0;
    } catch {
      return 0;
    }
  }

  /** status.json as the supervisor wrote it (or a stand-in built from the spec), plus the pid to check. */
  private async readStatusFile(id: string): Promise<StatusFile | null> {
    const dir = this.runDir(id);
    const file = await readJson<StatusFile>(path.join(dir, STATUS_FILE));
    const pid = await this.readSupervisorPid(dir);
    if (file) {
      if (!file.supervisorPid && pid) file.supervisorPid = pid;
      return file;
    }
    const spec = await readJson<RunSpec>(path.join(dir, SPEC_FILE));
    if (!spec) {
      try {
        await fsp.access(dir);
      } catch {
        return null;
      }
    }
    return {
      id,
      supervisorPid: pid,
      processes: (spec?.processes ?? []).map((p) => ({
        type: p.type,
        replica: p.replica,
        pid: null,
        port: p.port ?? null,
        state: 'starting',
        restarts: 0,
        lastExit: null,
        startedAt: null,
        nextRestartAt: null,
      })),
      updatedAt: new Date(0).toISOString(),
    };
  }

  private toStatus(file: StatusFile, alive: boolean): RunStatus {
    const processes: ProcessStatus[] = file.processes.map((p) => {
      const { startTicks: _ticks, ...rest } = p;
      // A dead supervisor's processes are reported as they were last seen, but none is running any more
      // unless its group still exists (an orphan, until stop() ends it).
      if (!alive && rest.state !== 'stopped' && !(rest.pid !== null && groupAlive(rest.pid))) {
        return { ...rest, state: 'stopped', pid: null, nextRestartAt: null };
      }
      return rest;
    });
    return { id: file.id, supervisorPid: file.supervisorPid, alive, processes, updatedAt: file.updatedAt };
  }

  async status(id: string): Promise<RunStatus | null> {
    const file = await this.readStatusFile(id);
    if (!file) return null;
    const alive = file.stopped !== true && this.supervisorAlive(file.supervisorPid, id);
    return this.toStatus(file, alive);
  }

  async list(): Promise<string[]> {
    try {
      const entries = await fsp.readdir(this.dir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && RUN_ID.test(e.name)).map((e) => e.name).sort();
    } catch {
      return [];
    }
  }

  async start(spec: RunSpec): Promise<RunStatus> {
    const dir = this.runDir(spec.id);
    if (this.starting.has(spec.id)) throw new Error(`run ${spec.id} is already starting`);
    this.starting.add(spec.id);
    try {
      return await this.startRun(spec, dir);
    } finally {
      this.starting.delete(spec.id);
    }
  }

  private async startRun(spec: RunSpec, dir: string): Promise<RunStatus> {
    const current = await this.readStatusFile(spec.id);
    if (current && current.stopped !== true && this.supervisorAlive(current.supervisorPid, spec.id)) {
      throw new Error(`run ${spec.id} is already running (supervisor pid ${current.supervisorPid})`);
    }
    if (spec.processes.length === 0) throw new Error(`run ${spec.id} has no process`);
    const seen = new Set<string>();
    for (const p of spec.processes) {
      const name = logFileName(p.type, p.replica);
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p.type) || !Number.isInteger(p.replica) || p.replica < 0) {
        throw new Error(`invalid process ${p.type}-${p.replica} in run ${spec.id}`);
      }
      if (seen.has(name)) throw new Error(`process ${p.type}-${p.replica} given twice in run ${spec.id}`);
      seen.add(name);
    }
    // Orphans of an earlier life of this run (its supervisor was killed) would hold its ports.
    if (current) await this.killOrphans(spec.id, current.processes, 0);

    await fsp.mkdir(path.join(dir, LOG_DIR), { recursive: true, mode: 0o700 });
    for (const f of [STATUS_FILE, STOP_FILE, PID_FILE]) await fsp.rm(path.join(dir, f), { force: true });
    const specFile = path.join(dir, SPEC_FILE);
    // On disk without the environment (it holds secrets, which live in clear only in memory): the
    // supervisor gets the whole spec on its stdin and keeps it for restarts.
    writeJsonAtomicSync(specFile, { ...spec, processes: spec.processes.map((p) => ({ ...p, env: {} })) }, 0o600);
    await fsp.chmod(specFile, 0o600);

    const began = Date.now();
    const out = fs.openSync(path.join(dir, SUPERVISOR_LOG), 'a', 0o600);
    // The supervisor gets only PATH and HOME, which it hands on to processes whose env lacks them.
    const env: Record<string, string> = {};
    if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
    if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
    // Node's compile cache keeps the type-stripped supervisor: it starts faster from the second run on.
    env.NODE_COMPILE_CACHE = path.join(this.dir, '.compile-cache');
    const failure: { reason: string | null } = { reason: null };
    let child;
    try {
      child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', SUPERVISOR, dir, spec.id], {
        cwd: dir,
        env,
        detached: true,
        stdio: ['pipe', out, out],
      });
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(JSON.stringify(spec));
    } finally {
      fs.closeSync(out);
    }
    child.once('error', (err) => {
      failure.reason = `cannot start the supervisor: ${err.message}`;
    });
    child.once('exit', (code, signal) => {
      failure.reason = `the supervisor exited (${signal ? `signal ${signal}` : `code ${code}`})`;
    });
    child.unref();

    for (;;) {
      const file = await readJson<StatusFile>(path.join(dir, STATUS_FILE));
      if (file && file.supervisorPid === child.pid && file.processes.every((p) => p.startedAt !== null || p.lastExit !== null)) {
        const status = this.toStatus(file, true);
        this.log?.info({ run: spec.id, supervisorPid: child.pid, ms: Date.now() - began }, 'run started');
        return status;
      }
      if (failure.reason !== null) {
        throw new Error(`run ${spec.id} did not start: ${failure.reason}${await this.supervisorLogTail(dir)}`);
      }
      if (Date.now() - began > START_TIMEOUT_MS) {
        if (child.pid) {
          try {
            process.kill(child.pid, 'SIGTERM');
          } catch {
            // gone
          }
        }
        throw new Error(
          `run ${spec.id} did not start: its processes were not spawned within ${START_TIMEOUT_MS / 1000} s${await this.supervisorLogTail(dir)}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  private async supervisorLogTail(dir: string): Promise<string> {
    try {
      const text = (await fsp.readFile(path.join(dir, SUPERVISOR_LOG), 'utf8')).trim();
      return text ? `: ${text.slice(-1000)}` : '';
    } catch {
      return '';
    }
  }

  async stop(id: string, graceMs?: number): Promise<void> {
    const dir = this.runDir(id);
    const file = await this.readStatusFile(id);
    if (!file) return;
    const grace = graceMs ?? (await readJson<RunSpec>(path.join(dir, SPEC_FILE)))?.graceMs ?? DEFAULT_GRACE_MS;
    const pid = file.supervisorPid;
    if (file.stopped !== true && this.supervisorAlive(pid, id)) {
      writeJsonAtomicSync(path.join(dir, STOP_FILE), { graceMs: grace });
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // it just died: the orphan sweep below takes over
      }
      // The supervisor exits once every process is gone: grace, then SIGKILL, then a few seconds at most.
      const deadline = Date.now() + grace + 10_000;
      while (this.supervisorAlive(pid, id) && Date.now() < deadline) await sleep(20);
      if (this.supervisorAlive(pid, id)) {
        this.log?.warn({ run: id, supervisorPid: pid }, 'supervisor did not stop: killing it');
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
        while (this.supervisorAlive(pid, id)) await sleep(20);
      }
      this.log?.info({ run: id }, 'run stopped');
    }
    // A supervisor that was killed leaves its processes behind; so may one that gave up on them.
    const after = (await readJson<StatusFile>(path.join(dir, STATUS_FILE))) ?? file;
    await this.killOrphans(id, after.processes, grace);
  }

  /** Ends the process groups left by a dead supervisor: SIGTERM, the grace period, SIGKILL. */
  private async killOrphans(id: string, processes: DiskProcessStatus[], graceMs: number): Promise<void> {
    const dir = this.runDir(id);
    const groups = processes.filter((p) => p.pid !== null && this.isOurGroup(p));
    if (groups.length === 0) return;
    this.log?.warn({ run: id, pids: groups.map((p) => p.pid) }, 'stopping processes left by a dead supervisor');
    const system = (p: DiskProcessStatus, line: string) => {
      const rec = `${JSON.stringify({ ts: new Date().toISOString(), stream: 'system', line })}\n`;
      try {
        fs.appendFileSync(path.join(dir, LOG_DIR, logFileName(p.type, p.replica)), rec);
      } catch {
        // no log folder any more
      }
    };
    for (const p of groups) {
      system(p, 'stopping (SIGTERM)');
      signalGroup(p.pid as number, 'SIGTERM');
    }
    const deadline = Date.now() + graceMs;
    let left = groups;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(20);
      left = left.filter((p) => groupAlive(p.pid as number));
    }
    for (const p of left) {
      system(p, 'killed after grace period');
      signalGroup(p.pid as number, 'SIGKILL');
    }
    const killDeadline = Date.now() + 5000;
    while (left.length > 0 && Date.now() < killDeadline) {
      await sleep(20);
      left = left.filter((p) => groupAlive(p.pid as number));
    }
    // Record that they are gone, as the supervisor would have.
    const file = await readJson<StatusFile>(path.join(dir, STATUS_FILE));
    if (file) {
      for (const p of file.processes) {
        if (groups.some((g) => g.type === p.type && g.replica === p.replica)) {
          p.state = 'stopped';
          p.pid = null;
          p.nextRestartAt = null;
        }
      }
      file.updatedAt = new Date().toISOString();
      try {
        writeJsonAtomicSync(path.join(dir, STATUS_FILE), file);
      } catch {
        // the folder went away
      }
    }
  }

  /** Whether the process group recorded for `p` still exists and is the one the supervisor started. */
  private isOurGroup(p: DiskProcessStatus): boolean {
    const pid = p.pid;
    if (pid === null || !groupAlive(pid)) return false;
    const leader = procStat(pid);
    // A live leader must be the very process that was spawned (same start time); with the leader gone,
    // the group id cannot have been reused while members of our group remain.
    if (leader && leader.state !== 'Z' && p.startTicks != null && leader.startTicks !== p.startTicks) return false;
    return true;
  }

  async logs(id: string, opts?: { tail?: number | undefined }): Promise<LogLine[]> {
    const logDir = path.join(this.runDir(id), LOG_DIR);
    let names: string[];
    try {
      names = await fsp.readdir(logDir);
    } catch {
      return [];
    }
    const tail = opts?.tail;
    const all: LogLine[] = [];
    for (const name of names.sort()) {
      const parsed = parseLogFileName(name);
      if (!parsed) continue;
      const lines: LogLine[] = [];
      for (const f of [`${name}.1`, name]) {
        try {
          parseLines(await fsp.readFile(path.join(logDir, f), 'utf8'), parsed.type, parsed.replica, lines);
        } catch {
          // no such file
        }
      }
      all.push(...(tail !== undefined ? lines.slice(Math.max(0, lines.length - tail)) : lines));
    }
    // Stable: lines of one process with the same ts keep their order.
    all.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    if (tail === undefined) return all;
    return tail <= 0 ? [] : all.slice(Math.max(0, all.length - tail));
  }

  follow(id: string, onLine: (line: LogLine) => void, signal: AbortSignal): void {
    const logDir = path.join(this.runDir(id), LOG_DIR);
    if (signal.aborted) return;
    new LogFollower(logDir, onLine, signal).begin();
  }

  async remove(id: string): Promise<void> {
    const st = await this.status(id);
    if (st?.alive) throw new Error(`run ${id} is running: stop it before removing it`);
    if (st && st.processes.some((p) => p.pid !== null)) await this.stop(id, 0);
    await fsp.rm(this.runDir(id), { recursive: true, force: true });
  }
}

async function inode(file: string): Promise<number | null> {
  try {
    return (await fsp.stat(file)).ino;
  } catch {
    return null;
  }
}

/** One followed log file: an open descriptor read to its end, swapped when the file is rotated. */
interface Tail {
  fd: fsp.FileHandle;
  ino: number;
  offset: number;
  partial: string;
  decoder: StringDecoder;
  type: string;
  replica: number;
}

class LogFollower {
  private readonly dir: string;
  private readonly onLine: (line: LogLine) => void;
  private readonly signal: AbortSignal;
  private readonly tails = new Map<string, Tail>();
  private watcher: fs.FSWatcher | null = null;
  private interval: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  /** Size and inode of the files there at the call: they are followed from there, later files from their start. */
  private readonly from = new Map<string, { ino: number; size: number }>();
  /** Inodes of the `.1` files there at the call: lines already written before it. */
  private readonly fromRotated = new Map<string, number>();
  private done = false;

  constructor(dir: string, onLine: (line: LogLine) => void, signal: AbortSignal) {
    this.dir = dir;
    this.onLine = onLine;
    this.signal = signal;
  }

  begin(): void {
    this.signal.addEventListener('abort', () => void this.close(), { once: true });
    try {
      for (const name of fs.readdirSync(this.dir)) {
        const rotated = name.endsWith('.log.1');
        const base = rotated ? name.slice(0, -2) : name;
        if (!parseLogFileName(base)) continue;
        try {
          const st = fs.statSync(path.join(this.dir, name));
          if (rotated) this.fromRotated.set(base, st.ino);
          else this.from.set(name, { ino: st.ino, size: st.size });
        } catch {
          // gone meanwhile
        }
      }
    } catch {
      // no folder yet
    }
    this.interval = setInterval(() => this.poke(), 200);
    this.poke();
  }

  private watch(): void {
    if (this.watcher || this.done) return;
    try {
      this.watcher = fs.watch(this.dir, () => this.poke());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // no folder yet: the interval polls until it appears
    }
  }

  private poke(): void {
    if (this.done) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.scan()
      .catch(() => {})
      .finally(() => {
        this.running = false;
        if (this.again && !this.done) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async scan(): Promise<void> {
    this.watch();
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (this.done) return;
      const parsed = parseLogFileName(name);
      if (!parsed) continue;
      const file = path.join(this.dir, name);
      let tail = this.tails.get(name);
      if (!tail) {
        const from = this.from.get(name);
        // A rotation before this first look: `.1` holds lines written since the call.
        const old = await inode(`${file}.1`);
        if (old !== null && old !== this.fromRotated.get(name)) {
          await this.readRest(`${file}.1`, from && from.ino === old ? from.size : 0, parsed);
        }
        const opened = await this.open(file, parsed);
        if (!opened) continue;
        tail = opened;
        if (from && from.ino === tail.ino) tail.offset = from.size;
        if (this.done) {
          await tail.fd.close().catch(() => {});
          return;
        }
        this.tails.set(name, tail);
      }
      await this.drain(tail);
      const current = await inode(file);
      if (current !== null && current !== tail.ino) {
        // Rotated: the descriptor holds `.1` now, complete since the writer moved on; read its rest.
        await this.drain(tail);
        // Rotated twice since the last look: `.1` is a file never seen, between ours and the new one.
        const old = await inode(`${file}.1`);
        if (old !== null && old !== tail.ino && old !== current) await this.readRest(`${file}.1`, 0, parsed);
        const opened = await this.open(file, parsed);
        if (!opened) continue;
        await tail.fd.close().catch(() => {});
        this.tails.set(name, opened);
        if (this.done) {
          await opened.fd.close().catch(() => {});
          return;
        }
        await this.drain(opened);
      }
    }
  }

  private async open(file: string, parsed: { type: string; replica: number }): Promise<Tail | null> {
    try {
      const fd = await fsp.open(file, 'r');
      const ino = (await fd.stat()).ino;
      return { fd, ino, offset: 0, partial: '', decoder: new StringDecoder('utf8'), ...parsed };
    } catch {
      return null;
    }
  }

  /** Emits the lines of a finished (rotated) file from `offset` on. */
  private async readRest(file: string, offset: number, parsed: { type: string; replica: number }): Promise<void> {
    const tail = await this.open(file, parsed);
    if (!tail) return;
    tail.offset = offset;
    try {
      await this.drain(tail);
    } finally {
      await tail.fd.close().catch(() => {});
    }
  }

  private async drain(tail: Tail): Promise<void> {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      if (this.done) return;
      let n: number;
      try {
        ({ bytesRead: n } = await tail.fd.read(buf, 0, buf.length, tail.offset));
      } catch {
        return;
      }
      if (n <= 0) return;
      tail.offset += n;
      const text = tail.partial + tail.decoder.write(buf.subarray(0, n));
      const lines = text.split('\n');
      tail.partial = lines.pop() ?? '';
      const out: LogLine[] = [];
      parseLines(lines.join('\n'), tail.type, tail.replica, out);
      for (const line of out) {
        if (this.done) return;
        this.onLine(line);
      }
    }
  }

  private async close(): Promise<void> {
    this.done = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
    this.watcher?.close();
    this.watcher = null;
    const tails = [...this.tails.values()];
    this.tails.clear();
    await Promise.all(tails.map((t) => t.fd.close().catch(() => {})));
  }
}
