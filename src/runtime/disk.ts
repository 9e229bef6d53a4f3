/**
 * The layout of a run's folder, shared by the supervisor and `LocalRuntime` (node builtins only).
 *
 * <runDir>/spec.json        the RunSpec without environment values (those reach the supervisor on stdin), written by start
 * <runDir>/status.json      the RunStatus minus `alive`, rewritten atomically by the supervisor on every change
 * <runDir>/supervisor.pid   the supervisor's pid
 * <runDir>/supervisor.log   the supervisor's own stdout/stderr (diagnostics only)
 * <runDir>/stop.json        { graceMs } handed to the supervisor before it is sent SIGTERM
 * <runDir>/logs/<type>-<replica>.log[.1]   JSON lines { ts, stream, line }, rotated at logBytes
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessStatus, RunStatus } from './types.ts';

export const SPEC_FILE = 'spec.json';
export const STATUS_FILE = 'status.json';
export const PID_FILE = 'supervisor.pid';
export const SUPERVISOR_LOG = 'supervisor.log';
export const STOP_FILE = 'stop.json';
export const LOG_DIR = 'logs';

export const DEFAULT_LOG_BYTES = 1024 * 1024;
export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_RESTART_INITIAL_MS = 500;
export const DEFAULT_RESTART_MAX_MS = 30_000;
/** Longest log line kept; the rest of a longer line is dropped. */
export const MAX_LINE_CHARS = 16 * 1024;

/** A process as kept in status.json: the public status plus what identifies its process group. */
export interface DiskProcessStatus extends ProcessStatus {
  /** /proc start time (clock ticks) of the group leader, to tell it from a process that reused its pid. */
  startTicks?: number | null | undefined;
}

/** status.json: the RunStatus minus `alive` (which only a reader can tell). */
export interface StatusFile extends Omit<RunStatus, 'alive' | 'processes'> {
  processes: DiskProcessStatus[];
  /** Set by the supervisor once it stopped everything and is about to exit. */
  stopped?: boolean | undefined;
}

export function logFileName(type: string, replica: number): string {
  return `${type}-${replica}.log`;
}

/** `<type>-<replica>.log` → { type, replica }; null for anything else. */
export function parseLogFileName(name: string): { type: string; replica: number } | null {
  const m = /^(.+)-(\d+)\.log$/.exec(name);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  return { type: m[1], replica: Number(m[2]) };
}

/** Writes a JSON file atomically: a temporary file, then a rename over the old one. */
export function writeJsonAtomicSync(file: string, value: unknown, mode = 0o644): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(value), { mode });
  fs.renameSync(tmp, file);
}
