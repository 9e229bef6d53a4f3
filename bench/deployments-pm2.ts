/**
 * PM2 for the comparison of the deployments benchmark: installed from npm at bench time into a cache
 * outside the repository (never a dependency of Pave), run with its own PM2_HOME in a temporary folder,
 * and killed (`pm2 kill`, then its daemon's pid if that did not work) at the end.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand, sleep, type CommandResult } from './deployments-lib.ts';

const CACHE = path.join(os.tmpdir(), 'pave-bench-cache', 'pm2');
/** Reinstall `pm2@latest` when the cached copy is older than this. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface Pm2Install {
  version: string;
  bin: string;
  cached: boolean;
  installMs: number;
}

function npmBin(): string {
  // npm next to the running node (Node's own distribution), else the one on PATH.
  const local = path.join(path.dirname(process.execPath), 'npm');
  return existsSync(local) ? local : 'npm';
}

export async function installPm2(): Promise<Pm2Install> {
  const pkg = path.join(CACHE, 'node_modules', 'pm2', 'package.json');
  const bin = path.join(CACHE, 'node_modules', 'pm2', 'bin', 'pm2');
  const fresh = existsSync(pkg) && Date.now() - statSync(pkg).mtimeMs < MAX_AGE_MS;
  let installMs = 0;
  if (!fresh) {
    mkdirSync(CACHE, { recursive: true });
    const r = await runCommand(npmBin(), ['install', '--prefix', CACHE, '--no-audit', '--no-fund', '--loglevel=error', 'pm2@latest'], { timeoutMs: 300_000 });
    installMs = Math.round(r.ms);
    if (r.code !== 0) throw new Error(`npm install pm2 failed (${r.code}): ${r.stderr.slice(-2000)}`);
  }
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return { version, bin, cached: fresh, installMs };
}

/**
 * The signal the PM2 daemon stops processes with (PM2_KILL_SIGNAL; its default is SIGINT): SIGTERM, as Pave
 * stops processes, so that the app finishes its in-flight requests (on SIGINT the fixture would exit at once).
 */
export const KILL_SIGNAL = 'SIGTERM';

export interface Pm2 {
  home: string;
  port: number;
  name: string;
  run(args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** What the daemon logged about old workers: how many it had to SIGKILL (still alive after kill_timeout), and how they exited. */
  daemonLog(): { sigkills: number; exits: Record<string, number>; sample: string[] };
  /** `pm2 kill`, then the daemon's pid if it is still there, then the temporary PM2_HOME removed. */
  kill(): Promise<void>;
}

export function pm2(install: Pm2Install, port: number, name: string): Pm2 {
  const home = mkdtempSync(path.join(os.tmpdir(), 'pave-bench-pm2-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: home, PORT: String(port), PAVE_DEPLOYMENT: 'pm2', PM2_DISCRETE_MODE: 'true', PM2_KILL_SIGNAL: KILL_SIGNAL };
  let killed: Promise<void> | undefined;
  const run = (args: string[], timeoutMs = 60_000) => runCommand(process.execPath, [install.bin, ...args], { env, timeoutMs });
  return {
    home,
    port,
    name,
    run,
    daemonLog() {
      let lines: string[] = [];
      try {
        lines = readFileSync(path.join(home, 'pm2.log'), 'utf8').split('\n');
      } catch {
        // no log
      }
      const kills = lines.filter((l) => /sending SIGKILL/.test(l));
      const exits: Record<string, number> = {};
      for (const l of lines) {
        // pm2 prints "via signal [SIGINT]" whenever the exit had no signal, so a code other than null says it all.
        const m = /exited with code \[([^\]]*)\] via signal \[([^\]]*)\]/.exec(l);
        if (!m) continue;
        const k = m[1] === 'null' ? `killed by ${m[2]}` : `exit code ${m[1]}`;
        exits[k] = (exits[k] ?? 0) + 1;
      }
      return { sigkills: kills.length, exits, sample: [...kills.slice(0, 3), ...lines.filter((l) => /exited with code/.test(l)).slice(0, 3)] };
    },
    kill() {
      killed ??= (async () => {
        const daemonPid = (() => {
          try {
            return Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim());
          } catch {
            return 0;
          }
        })();
        await run(['kill'], 30_000).catch(() => undefined);
        if (daemonPid > 0) {
          for (let i = 0; i < 50 && alive(daemonPid); i++) await sleep(100);
          if (alive(daemonPid)) {
            process.stderr.write(`pm2 daemon (pid ${daemonPid}) outlived pm2 kill; killing it\n`);
            try { process.kill(daemonPid, 'SIGKILL'); } catch { /* gone */ }
          }
        }
        rmSync(home, { recursive: true, force: true });
      })();
      return killed;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
