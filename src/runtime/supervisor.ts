/**
 * The supervisor of one run: a small standalone Node script, started detached by `LocalRuntime.start`
 * as `node supervisor.ts <runDir> <runId>`, so that the run outlives the Pave server that started it.
 *
 * It spawns every process of `<runDir>/spec.json` with `/bin/sh -c` in its own process group, writes
 * their output as JSON lines to `<runDir>/logs/<type>-<replica>.log` (rotated at `logBytes`), restarts
 * a process that exits with exponential backoff, keeps `<runDir>/status.json` up to date, and on
 * SIGTERM stops the run: SIGTERM to every process group, the grace period (from `<runDir>/stop.json`,
 * else the spec's), SIGKILL to what is left, a final status, and exit.
 *
 * It imports node builtins and the runtime's builtins-only helpers, nothing else of Pave.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ProcessSpec, RunSpec } from './types.ts';
import {
  DEFAULT_GRACE_MS,
  DEFAULT_LOG_BYTES,
  DEFAULT_RESTART_INITIAL_MS,
  DEFAULT_RESTART_MAX_MS,
  LOG_DIR,
  MAX_LINE_CHARS,
  PID_FILE,
  STATUS_FILE,
  STOP_FILE,
  logFileName,
  writeJsonAtomicSync,
  type DiskProcessStatus,
  type StatusFile,
} from './disk.ts';
import { groupAlive, procStat, shellLine, signalGroup } from './proc.ts';

type Stream = 'stdout' | 'stderr' | 'system';

/** Appends JSON log lines to one file, rotating it to `.1` when it would grow past `limit` bytes. */
class LogWriter {
  private fd: number | null = null;
  private size = 0;
  private readonly file: string;
  private readonly limit: number;

  constructor(file: string, limit: number) {
    this.file = file;
    this.limit = limit;
    this.open();
  }

  private open(): void {
    try {
      this.fd = fs.openSync(this.file, 'a', 0o600);
      this.size = fs.fstatSync(this.fd).size;
    } catch (err) {
      console.error(`cannot open ${this.file}:`, err);
      this.fd = null;
    }
  }

  private flush(buf: string): void {
    if (buf.length === 0 || this.fd === null) return;
    try {
      const bytes = Buffer.from(buf, 'utf8');
      fs.writeSync(this.fd, bytes);
      this.size += bytes.length;
    } catch (err) {
      console.error(`cannot write ${this.file}:`, err);
    }
  }

  private rotate(): void {
    this.close();
    try {
      fs.renameSync(this.file, `${this.file}.1`);
    } catch (err) {
      console.error(`cannot rotate ${this.file}:`, err);
    }
    this.open();
    this.size = 0;
  }

  write(stream: Stream, lines: string[]): void {
    if (lines.length === 0) return;
    const ts = new Date().toISOString();
    let buf = '';
    let bufBytes = 0;
    for (const line of lines) {
      const rec = `${JSON.stringify({ ts, stream, line })}\n`;
      const n = Buffer.byteLength(rec, 'utf8');
      if (this.size + bufBytes > 0 && this.size + bufBytes + n > this.limit) {
        this.flush(buf);
        buf = '';
        bufBytes = 0;
        this.rotate();
      }
      buf += rec;
      bufBytes += n;
    }
    this.flush(buf);
  }

  close(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }
}

/** Splits a byte stream into lines (UTF-8 safe); lines longer than MAX_LINE_CHARS are cut. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Inside an over-long line whose head was already emitted: drop until the next newline. */
  private skipping = false;

  push(chunk: Buffer): string[] {
    const text = this.pending + this.decoder.write(chunk);
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line = text.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (line.endsWith('\r')) line = line.slice(0, -1);
      out.push(line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line);
    }
    let rest = text.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      if (!this.skipping) out.push(rest.slice(0, MAX_LINE_CHARS));
      this.skipping = true;
      rest = '';
    }
    this.pending = rest;
    return out;
  }

  end(): string[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    const skipping = this.skipping;
    this.skipping = false;
    if (skipping || rest.length === 0) return [];
    return [rest.length > MAX_LINE_CHARS ? rest.slice(0, MAX_LINE_CHARS) : rest];
  }
}

interface Proc {
  spec: ProcessSpec;
  status: DiskProcessStatus;
  log: LogWriter;
  child: ChildProcess | null;
  /** The process group of the current (or last) spawn: the leader's pid. */
  pgid: number;
  startedMs: number;
  /** Consecutive crashes, for the backoff; reset after a long enough run. */
  crashes: number;
  timer: NodeJS.Timeout | null;
}

const runDir = path.resolve(process.argv[2] ?? '.');
const runId = process.argv[3] ?? path.basename(runDir);
// The whole spec, environment included, comes on stdin; spec.json on disk has no environment values.
const spec = JSON.parse(fs.readFileSync(0, 'utf8')) as RunSpec;
const logBytes = spec.logBytes && spec.logBytes > 0 ? spec.logBytes : DEFAULT_LOG_BYTES;
const initialMs = Math.max(1, spec.restart?.initialMs ?? DEFAULT_RESTART_INITIAL_MS);
const maxMs = Math.max(initialMs, spec.restart?.maxMs ?? DEFAULT_RESTART_MAX_MS);
/** A process that stayed up this long has its backoff reset. */
const resetAfterMs = Math.min(30_000, 10 * initialMs);

let stopping = false;
let stopped = false;
let statusScheduled = false;

const logDir = path.join(runDir, LOG_DIR);
fs.mkdirSync(logDir, { recursive: true });

const procs: Proc[] = spec.processes.map((ps) => ({
  spec: ps,
  status: {
    type: ps.type,
    replica: ps.replica,
    pid: null,
    port: ps.port ?? null,
    state: 'starting',
    restarts: 0,
    lastExit: null,
    startedAt: null,
    nextRestartAt: null,
    startTicks: null,
  },
  log: new LogWriter(path.join(logDir, logFileName(ps.type, ps.replica)), logBytes),
  child: null,
  pgid: 0,
  startedMs: 0,
  crashes: 0,
  timer: null,
}));

function writeStatusNow(): void {
  const file: StatusFile = {
    id: runId,
    supervisorPid: process.pid,
    processes: procs.map((p) => ({ ...p.status })),
    updatedAt: new Date().toISOString(),
    ...(stopped ? { stopped: true } : {}),
  };
  try {
    writeJsonAtomicSync(path.join(runDir, STATUS_FILE), file);
  } catch (err) {
    console.error('cannot write status:', err);
  }
}

/** Coalesces the status writes of one turn of the event loop. */
function writeStatus(): void {
  if (statusScheduled) return;
  statusScheduled = true;
  setImmediate(() => {
    statusScheduled = false;
    writeStatusNow();
  });
}

function system(p: Proc, line: string): void {
  p.log.write('system', [line]);
}

function childEnv(ps: ProcessSpec): Record<string, string> {
  const env: Record<string, string> = { ...ps.env };
  if (env.PATH === undefined && process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (env.HOME === undefined && process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return env;
}

function spawnProc(p: Proc): void {
  if (stopping) return;
  p.status.state = 'starting';
  p.status.nextRestartAt = null;
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', shellLine(p.spec.command)], {
      cwd: spec.cwd,
      env: childEnv(p.spec),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    failedToStart(p, err);
    return;
  }
  const pid = child.pid;
  if (pid === undefined) {
    // The 'error' event follows (e.g. a missing working directory).
    child.once('error', (err) => failedToStart(p, err));
    return;
  }
  child.on('error', (err) => console.error(`process ${p.spec.type}-${p.spec.replica}:`, err));
  p.child = child;
  p.pgid = pid;
  p.startedMs = Date.now();
  p.status.pid = pid;
  p.status.state = 'running';
  p.status.startedAt = new Date(p.startedMs).toISOString();
  p.status.startTicks = procStat(pid)?.startTicks ?? null;
  system(p, `started pid ${pid}`);

  const out = new LineSplitter();
  const err = new LineSplitter();
  child.stdout?.on('data', (chunk: Buffer) => p.log.write('stdout', out.push(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => p.log.write('stderr', err.push(chunk)));
  const flush = () => {
    p.log.write('stdout', out.end());
    p.log.write('stderr', err.end());
  };
  child.once('exit', (code, signal) => {
    p.status.lastExit = { code, signal, at: new Date().toISOString() };
    // Leftovers of the group (children of the shell) would keep the pipes, and maybe the port: a
    // crashed process is restarted from a clean slate. While stopping, they keep their grace period.
    if (!stopping) signalGroup(pid, 'SIGKILL');
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(watch);
      flush();
      exited(p, child, code, signal);
    };
    // 'close' comes once the pipes are closed, i.e. once the whole group is gone.
    child.once('close', finish);
    // Something outside the group (a daemon that left it) may hold the pipes: stop reading them 1 s
    // after the group is gone.
    let goneAt = 0;
    const watch = setInterval(() => {
      if (groupAlive(pid)) {
        goneAt = 0;
      } else if (goneAt === 0) {
        goneAt = Date.now();
      } else if (Date.now() - goneAt >= 1000) {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }
    }, 100);
  });
  writeStatus();
}

function failedToStart(p: Proc, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  system(p, `failed to start: ${message}`);
  p.status.lastExit = { code: null, signal: null, at: new Date().toISOString() };
  p.startedMs = Date.now();
  exited(p, null, null, null);
}

function exited(p: Proc, child: ChildProcess | null, code: number | null, signal: string | null): void {
  if (child !== null && p.child !== child) return;
  if (child !== null) system(p, signal ? `exited with signal ${signal}` : `exited with code ${code}`);
  p.child = null;
  p.status.pid = null;
  if (stopping) {
    // The stop loop marks it stopped once its whole group is gone.
    if (p.status.state !== 'stopping') p.status.state = 'stopped';
    writeStatus();
    return;
  }
  const now = Date.now();
  if (now - p.startedMs >= resetAfterMs) p.crashes = 0;
  const delay = Math.min(initialMs * 2 ** p.crashes, maxMs);
  p.crashes += 1;
  p.status.state = 'backoff';
  p.status.nextRestartAt = new Date(now + delay).toISOString();
  system(p, `restarting in ${delay} ms (restart #${p.status.restarts + 1})`);
  p.timer = setTimeout(() => {
    p.timer = null;
    if (stopping) return;
    p.status.restarts += 1;
    spawnProc(p);
  }, delay);
  writeStatus();
}

function graceFromStopFile(): number {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(runDir, STOP_FILE), 'utf8')) as { graceMs?: unknown };
    if (typeof raw.graceMs === 'number' && Number.isFinite(raw.graceMs) && raw.graceMs >= 0) return raw.graceMs;
  } catch {
    // no hand-over: the spec's grace
  }
  return spec.graceMs ?? DEFAULT_GRACE_MS;
}

function stopAll(): void {
  if (stopping) return;
  stopping = true;
  const graceMs = graceFromStopFile();
  for (const p of procs) {
    if (p.timer) {
      clearTimeout(p.timer);
      p.timer = null;
    }
    p.status.nextRestartAt = null;
    if (p.child !== null) {
      p.status.state = 'stopping';
      system(p, 'stopping (SIGTERM)');
      signalGroup(p.pgid, 'SIGTERM');
    } else if (p.pgid > 0 && groupAlive(p.pgid)) {
      // The leader is gone but its group is not (waiting for the pipes to close).
      p.status.state = 'stopping';
      signalGroup(p.pgid, 'SIGTERM');
    } else {
      p.status.state = 'stopped';
    }
  }
  writeStatusNow();
  const deadline = Date.now() + graceMs;
  let killedAt = 0;
  const tick = () => {
    let left = 0;
    for (const p of procs) {
      if (p.status.state !== 'stopping') continue;
      if (p.child === null && !groupAlive(p.pgid)) {
        p.status.state = 'stopped';
        writeStatus();
      } else {
        left += 1;
      }
    }
    const now = Date.now();
    if (left > 0 && killedAt === 0 && now >= deadline) {
      killedAt = now;
      for (const p of procs) {
        if (p.status.state !== 'stopping') continue;
        system(p, 'killed after grace period');
        signalGroup(p.pgid, 'SIGKILL');
      }
    }
    // Give up on processes that SIGKILL does not end (uninterruptible sleep) after a few seconds.
    if (left === 0 || (killedAt > 0 && now - killedAt > 5000)) {
      finish();
      return;
    }
    setTimeout(tick, 20);
  };
  tick();
}

function finish(): void {
  for (const p of procs) {
    p.status.state = 'stopped';
    p.status.pid = null;
    p.status.nextRestartAt = null;
    p.log.close();
  }
  stopped = true;
  writeStatusNow();
  process.exit(0);
}

process.on('SIGTERM', stopAll);
process.on('SIGINT', stopAll);
process.on('SIGHUP', () => {});
process.on('uncaughtException', (err) => {
  // The supervisor must not die on a bug of its own: its processes would be orphaned.
  console.error('supervisor: uncaught exception:', err);
});

fs.writeFileSync(path.join(runDir, PID_FILE), `${process.pid}\n`);
for (const p of procs) spawnProc(p);
writeStatusNow();
