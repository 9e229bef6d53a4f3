/** Helpers for the builds tests: temporary folders, fixture trees, log collection, shell commands. */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BuildLogLine } from './types.ts';

const execFileP = promisify(execFile);

export async function tempDir(prefix = 'pave-builds-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

export type FixtureFile = string | { content: string; mode: number };

/** Writes `files` (relative path → content, or content and mode) under `dir`. */
export async function writeTree(dir: string, files: Record<string, FixtureFile>): Promise<void> {
  for (const [rel, f] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    if (typeof f === 'string') await fs.writeFile(abs, f);
    else {
      await fs.writeFile(abs, f.content);
      await fs.chmod(abs, f.mode);
    }
  }
}

export interface LogCollector {
  lines: BuildLogLine[];
  onLog: (l: BuildLogLine) => void;
  text: () => string;
  system: () => string[];
}

export function collectLogs(): LogCollector {
  const lines: BuildLogLine[] = [];
  return {
    lines,
    onLog: (l) => lines.push(l),
    text: () => lines.map((l) => `[${l.stream}] ${l.line}`).join('\n'),
    system: () => lines.filter((l) => l.stream === 'system').map((l) => l.line),
  };
}

/** Runs a command, throws with its output when it fails; returns stdout. */
export async function sh(cwd: string, file: string, args: string[], env?: Record<string, string>): Promise<string> {
  try {
    const { stdout } = await execFileP(file, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

export const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Pave Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Pave Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
};
