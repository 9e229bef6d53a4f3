/**
 * Running build commands: a child in its own process group, output split into lines, the whole
 * group stopped on abort (SIGTERM, then SIGKILL after a grace period) and after the command exits
 * (so nothing it started in the background outlives the build step).
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

/** Lines longer than this are cut into pieces of this size. */
const MAX_LINE = 16 * 1024;
const KILL_GRACE_MS = 5000;

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  signal?: AbortSignal | undefined;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The run was stopped because the AbortSignal fired. */
  aborted: boolean;
  /** The command could not be started at all (e.g. ENOENT for a missing executable). */
  spawnError: Error | null;
}

class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #emit: (line: string) => void;
  #buf = '';
  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }
  push(chunk: Buffer): void {
    this.#buf += this.#decoder.write(chunk);
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      this.#line(this.#buf.slice(0, nl));
      this.#buf = this.#buf.slice(nl + 1);
    }
    while (this.#buf.length > MAX_LINE) {
      this.#emit(this.#buf.slice(0, MAX_LINE));
      this.#buf = this.#buf.slice(MAX_LINE);
    }
  }
  end(): void {
    this.#buf += this.#decoder.end();
    if (this.#buf !== '') this.#line(this.#buf);
    this.#buf = '';
  }
  #line(l: string): void {
    const line = l.endsWith('\r') ? l.slice(0, -1) : l;
    for (let i = 0; i < line.length || i === 0; i += MAX_LINE) this.#emit(line.slice(i, i + MAX_LINE));
  }
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Runs `file args…` in its own process group; resolves when it has exited and its output is read. */
export function run(file: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) {
      resolve({ code: null, signal: null, aborted: true, spawnError: null });
      return;
    }
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new LineSplitter((l) => opts.onLine('stdout', l));
    const err = new LineSplitter((l) => opts.onLine('stderr', l));
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let aborted = false;
    let spawnError: Error | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      aborted = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      }, KILL_GRACE_MS);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('exit', () => {
      // Stop whatever the command left running in its group, so its pipes close too.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    });
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      resolve({ code, signal, aborted, spawnError });
    });
  });
}

/** Runs `command` with `/bin/sh -c`. */
export function runShell(command: string, opts: RunOptions): Promise<RunResult> {
  return run('/bin/sh', ['-c', command], opts);
}

/** A short description of how a run ended, for error messages: `exited with code 1`. */
export function describeExit(r: RunResult): string {
  if (r.spawnError) return `could not be started (${r.spawnError.message})`;
  if (r.aborted) return 'was cancelled';
  if (r.signal) return `was killed by ${r.signal}`;
  if (r.code === 127) return 'exited with code 127 (command not found)';
  return `exited with code ${r.code}`;
}
