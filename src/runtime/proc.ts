/**
 * Linux process helpers shared by the supervisor and `LocalRuntime`: node builtins only, so the
 * supervisor stays a small standalone script. They read /proc, so that zombies (a process that died
 * but was not reaped yet, e.g. an orphan under a PID 1 that does not reap) count as gone.
 */
import fs from 'node:fs';

export interface ProcStat {
  /** One-letter state: R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, identifies one process across pid reuse. */
  startTicks: number;
}

/** /proc/<pid>/stat, parsed; null when there is no such process. */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  // After the name: state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt … starttime(22).
  return { state: f[0] ?? '?', ppid: Number(f[1]), pgrp: Number(f[2]), startTicks: Number(f[19]) };
}

/** The arguments of a process (empty for a zombie or a process that is gone). */
export function procCmdline(pid: number): string[] {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

function signalZero(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a process exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!signalZero(pid)) return false;
  const st = procStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

/** The live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  if (!Number.isInteger(pgid) || pgid <= 1) return [];
  if (!signalZero(-pgid)) return [];
  const members: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [pgid];
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = procStat(pid);
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') members.push(pid);
  }
  return members;
}

/** Whether a process group still has a live member. */
export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Sends a signal to a whole process group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'while', 'until', 'do', 'done', 'in', '!', '{', '}', 'function', 'exec', 'cd', 'export', 'set', 'unset', 'trap', 'eval', '.', 'source', 'exit', 'alias', 'ulimit', 'umask', 'wait']);

/**
 * The shell line of a process. A single simple command is run as `exec <command>`, so that the process
 * itself (not a shell waiting for it; dash does not exec the last command) leads the group, gets the
 * signals first and reports its own exit code. Anything else (lists, pipes, subshells, compound
 * commands, leading assignments) runs as given.
 */
export function shellLine(command: string): string {
  const trimmed = command.trim();
  if (trimmed.length === 0 || /[;&|\n\r(){}`\\<>#]/.test(trimmed)) return command;
  const first = trimmed.split(/\s+/)[0] ?? '';
  if (first.includes('=') || RESERVED.has(first)) return command;
  return `exec ${trimmed}`;
}
