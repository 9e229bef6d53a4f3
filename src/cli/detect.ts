import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** What `pave create` learns from a source folder: a name, the repository's web address, the stack. */

/** A folder name made into an application name: lower case, runs of other characters as single "-", at most 63. */
export function sanitiseName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

/**
 * A git remote as the repository's web address: `git@host:org/repo.git`, `ssh://git@host:22/org/repo`,
 * `git://host/org/repo` and `https://user:token@host/org/repo.git` all become `https://host/org/repo`
 * (credentials are dropped). Local paths and file:// remotes have no web address: null.
 */
export function repositoryUrl(remote: string): string | null {
  const r = remote.trim();
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(r);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(r)) {
    if (scp[1]!.length === 1) return null; // a Windows drive letter, C:\…
    return web(scp[1]!, scp[2]!);
  }
  let u: URL;
  try {
    u = new URL(r);
  } catch {
    return null;
  }
  if (!['http:', 'https:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:'].includes(u.protocol) || !u.hostname) return null;
  const host = u.protocol === 'http:' || u.protocol === 'https:' ? u.host : u.hostname;
  return web(host, u.pathname);
}

function web(host: string, repoPath: string): string | null {
  const p = repoPath.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
  if (!p) return null;
  return `https://${host}/${p}`;
}

export interface Stack {
  stack: string;
  /** the file that told */
  file: string;
}

const MARKERS: [string, string][] = [
  ['package.json', 'node'],
  ['go.mod', 'go'],
  ['pom.xml', 'java'],
  ['build.gradle', 'java'],
  ['build.gradle.kts', 'java'],
  ['requirements.txt', 'python'],
  ['pyproject.toml', 'python'],
];

/** The stacks a folder's marker files name, in the order above (one per stack). */
export function detectStacks(dir: string): Stack[] {
  const found: Stack[] = [];
  for (const [file, stack] of MARKERS) {
    if (found.some((s) => s.stack === stack)) continue;
    if (existsSync(path.join(dir, file))) found.push({ stack, file });
  }
  return found;
}

/** `remote.origin.url` of the git repository the folder is in; null when it is not in one, has no origin, or git is missing. */
export function gitRemote(dir: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', ['config', '--local', '--get', 'remote.origin.url'], { cwd: dir, timeout: 10_000 }, (err, stdout) => {
      resolve(err ? null : stdout.trim() || null);
    });
  });
}
