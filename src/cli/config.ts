import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './output.ts';

/**
 * Contexts: named (server URL, token) pairs kept in `config.json` in the user's config directory
 * ($PAVE_CONFIG_DIR, else $XDG_CONFIG_HOME/pave, else ~/.config/pave), readable by the user only.
 */

export interface Context {
  url: string;
  token: string;
  /** ref of the user the token acts as, as seen at login */
  user?: string;
}

export interface CliConfig {
  current?: string;
  contexts: Record<string, Context>;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PAVE_CONFIG_DIR) return env.PAVE_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, 'pave');
  return path.join(os.homedir(), '.config', 'pave');
}

export const configFile = (env: NodeJS.ProcessEnv = process.env) => path.join(configDir(env), 'config.json');

export function loadConfig(file = configFile()): CliConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<CliConfig>;
    return { ...(parsed.current ? { current: parsed.current } : {}), contexts: parsed.contexts ?? {} };
  } catch {
    throw new CliError(`${file} is not valid JSON; fix or delete it`);
  }
}

/** Writes the config atomically, mode 0600 in a 0700 directory. */
export function saveConfig(config: CliConfig, file = configFile()): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The first 12 characters of a token, enough to recognise it (as the server's token prefix). */
export const tokenPrefix = (token: string) => `${token.slice(0, 12)}…`;

/** Default context name for a server URL: its host (and port). */
export function contextNameFor(url: string): string {
  return new URL(url).host.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

export function normaliseUrl(raw: string, what = 'the server URL'): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CliError(`${what} must be an absolute http(s) URL, e.g. http://localhost:8080; got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`${what} must use http or https; got "${raw}"`);
  return u.toString().replace(/\/+$/, '');
}

export interface Connection {
  url: string;
  token: string;
  /** the context it came from, if any */
  context?: string;
}

/**
 * Where to connect: the context named by --context (or $PAVE_CONTEXT, or the current one), with
 * $PAVE_URL and $PAVE_TOKEN overriding its fields (both together need no config at all, e.g. in CI).
 * A context's token is never sent to another server than its own.
 */
export function resolveConnection(contextName: string | undefined, env: NodeJS.ProcessEnv = process.env): Connection {
  const config = loadConfig(configFile(env));
  const asked = contextName ?? (env.PAVE_CONTEXT || undefined);
  const name = asked ?? config.current;
  const ctx = name ? config.contexts[name] : undefined;
  if (asked && !ctx) throw new CliError(`no context named "${asked}"; see "pave context list"`);
  const ctxUrl = ctx ? normaliseUrl(ctx.url) : undefined;
  const url = env.PAVE_URL ? normaliseUrl(env.PAVE_URL, 'PAVE_URL') : ctxUrl;
  // A saved token only ever goes to the server it was saved for.
  const token = env.PAVE_TOKEN || (ctx && ctxUrl === url ? ctx.token : undefined);
  if (!url || !token) {
    if (env.PAVE_URL && ctx) throw new CliError(`PAVE_URL (${url}) is not the server of context "${name}" (${ctxUrl}); set PAVE_TOKEN too`);
    throw new CliError('not logged in: run "pave login --url URL --token TOKEN", or set PAVE_URL and PAVE_TOKEN');
  }
  const usesContext = ctx && name && !(env.PAVE_URL && env.PAVE_TOKEN);
  return { url, token, ...(usesContext ? { context: name } : {}) };
}
