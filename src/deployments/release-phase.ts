import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * The release phase (Procfile `release:`): a command run once, with the deployment's variables, before
 * the deployment is first released (e.g. database migrations). A failure refuses the release.
 */
export async function runReleasePhase(o: { command: string; cwd: string; env: Record<string, string>; onLine: (line: string) => void; timeoutMs?: number }): Promise<{ ok: true; lines: string[] } | { ok: false; reason: string; lines: string[] }> {
  const lines: string[] = [];
  const child = spawn('/bin/sh', ['-c', o.command], {
    cwd: o.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const collect = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
      o.onLine(line);
    });
  collect(child.stdout);
  collect(child.stderr);
  const timeout = o.timeoutMs ?? 300_000;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      resolve({ ok: false, reason: `timed out after ${Math.round(timeout / 1000)} s`, lines });
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: err.message, lines });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true, lines } : { ok: false, reason: signal ? `killed by ${signal}` : `exited with code ${code}`, lines });
    });
  });
}
