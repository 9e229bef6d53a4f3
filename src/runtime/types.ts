/**
 * The runtime contract: how Pave starts, watches, stops and reads the logs of a deployment's processes.
 * The local process runtime (`local.ts`) is the embedded default; Kubernetes implements the same
 * interface later. A runtime knows nothing of HTTP, the store, builds or the router.
 */

/** One process of a run: a process type (Procfile) and a replica number. */
export interface ProcessSpec {
  /** The process type, e.g. `web` or `worker` (Procfile names). */
  type: string;
  /** 0-based replica number within the type. */
  replica: number;
  /** A shell command line, run with `/bin/sh -c` in the run's working directory. */
  command: string;
  /** The complete environment of the process (nothing is inherited from Pave's own environment but PATH and HOME). */
  env: Record<string, string>;
  /** The port a `web` process listens on (also given in env.PORT); absent for other types. */
  port?: number | undefined;
}

export interface RunSpec {
  /** The run's id: the deployment id. Unique; names the run's folder and is visible in the supervisor's command line. */
  id: string;
  /** The working directory of every process (the artifact's folder). */
  cwd: string;
  processes: ProcessSpec[];
  /** Bounded backlog: bytes of log kept per process (default 1 MiB; the newest are kept). */
  logBytes?: number | undefined;
  /** Crash restarts: first delay and cap of the exponential backoff (defaults 500 ms and 30 s). */
  restart?: { initialMs?: number | undefined; maxMs?: number | undefined } | undefined;
  /** Grace period between SIGTERM and SIGKILL when the run is stopped (default 10 s). */
  graceMs?: number | undefined;
}

export type ProcessState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export interface ProcessStatus {
  type: string;
  replica: number;
  pid: number | null;
  port: number | null;
  state: ProcessState;
  /** How many times the process was restarted after it exited. */
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  startedAt: string | null;
  /** When the next restart is due, while in backoff. */
  nextRestartAt: string | null;
}

export interface RunStatus {
  id: string;
  /** The pid of the supervisor that owns the run's processes. */
  supervisorPid: number;
  /** Whether the supervisor is alive (a run whose supervisor died is dead, whatever the file says). */
  alive: boolean;
  processes: ProcessStatus[];
  updatedAt: string;
}

export interface LogLine {
  /** ISO time the line was read. */
  ts: string;
  type: string;
  replica: number;
  /** `system` lines are the supervisor's own: started, exited with code, restarting in N ms, stopping. */
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface Runtime {
  /** Starts a run: returns once every process was spawned (not once healthy). A run id already running is refused. */
  start(spec: RunSpec): Promise<RunStatus>;
  /** The run's status, or null when Pave has no trace of it. Works for runs started by an earlier server process. */
  status(id: string): Promise<RunStatus | null>;
  /** Ids of every run with a trace on disk (alive or not). */
  list(): Promise<string[]>;
  /** Stops a run: SIGTERM to every process, the grace period, then SIGKILL; resolves when all are gone. Stopping a dead or unknown run is a no-op. */
  stop(id: string, graceMs?: number): Promise<void>;
  /** The newest `tail` lines of every process of the run (all when omitted), oldest first. */
  logs(id: string, opts?: { tail?: number | undefined }): Promise<LogLine[]>;
  /** Calls `onLine` for every line written after the call, until `signal` aborts. */
  follow(id: string, onLine: (line: LogLine) => void, signal: AbortSignal): void;
  /** Deletes a stopped run's folder (its logs). */
  remove(id: string): Promise<void>;
}
