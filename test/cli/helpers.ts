import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Runs the real CLI (`node bin/pave.js …`) with its config in a temp dir; stdin is a pipe (not a TTY), empty unless `input` is given. */

export const PAVE_BIN = path.resolve(import.meta.dirname, '../../bin/pave.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  configDir: string;
  run(args: string[], opts?: { env?: Record<string, string>; cwd?: string; input?: string }): Promise<CliResult>;
  cleanup(): void;
}

export function cliSandbox(): Cli {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pave-cli-test-'));
  const configDir = path.join(root, 'config');
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PAVE_') && !k.startsWith('NODE_TEST')) base[k] = v;
  return {
    configDir,
    run(args, opts = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [PAVE_BIN, ...args], {
          cwd: opts.cwd ?? root,
          env: { ...base, PAVE_CONFIG_DIR: configDir, ...opts.env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.stdin.end(opts.input);
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A loopback URL nothing listens on. */
export async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
