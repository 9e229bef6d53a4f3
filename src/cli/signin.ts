import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { text } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';
import type { CreatedTokenSchema } from '../contracts/access.ts';
import type { AuthProviders, CliTokenResult, DeviceStart, LoginResult } from '../contracts/auth.ts';
import type { Problem } from '../contracts/common.ts';
import type { z } from 'zod';
import { VERSION } from '../version.ts';
import { ApiError, NetworkError } from './client.ts';
import { CliError } from './output.ts';

/**
 * How `pave login` gets an API token without one to start from: a local user's password, or the
 * identity provider through the server (the device authorization grant when the provider offers it,
 * else the browser with a loopback redirect to this process, RFC 8252). The server keeps every OIDC
 * secret; the CLI only ever holds the API token it ends with.
 */

type CreatedToken = z.infer<typeof CreatedTokenSchema>;
export type Progress = (line: string) => void;

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = base + path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { accept: 'application/json, application/problem+json', 'user-agent': `pave-cli/${VERSION}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    throw new NetworkError(url, err);
  }
  const text = await res.text();
  if (!res.ok) {
    let problem: Partial<Problem> = { detail: `HTTP ${res.status} from ${url}` };
    try {
      problem = JSON.parse(text) as Partial<Problem>;
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, url, problem);
  }
  return JSON.parse(text) as T;
}

export function providers(base: string): Promise<AuthProviders> {
  return call<AuthProviders>(base, 'GET', '/api/v1/auth/providers');
}

export async function passwordToken(base: string, user: string, password: string): Promise<CreatedToken> {
  const r = await call<LoginResult>(base, 'POST', '/api/v1/auth/password/login', { user, password, token: {} });
  if (!r.token) throw new CliError('the server did not issue a token');
  return r.token;
}

/** Opens a URL in the user's browser, unless told not to (--no-open, or BROWSER=none); never fails. */
export function openBrowser(url: string): boolean {
  const browser = process.env.BROWSER;
  if (browser === 'none') return false;
  const [cmd, args] = browser
    ? [browser, [url]]
    : process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The device authorization grant: show the code and URL, open the browser, poll the server until approved. */
export async function deviceToken(base: string, o: { open: boolean; progress: Progress }): Promise<{ token: CreatedToken; user: string }> {
  const start = await call<DeviceStart>(base, 'POST', '/api/v1/auth/oidc/device');
  const url = start.verificationUriComplete ?? start.verificationUri;
  o.progress(`To sign in, open ${url}`);
  o.progress(`and check that it shows the code ${start.userCode}.`);
  if (o.open) openBrowser(url);
  o.progress('Waiting for you to sign in…');
  let interval = Math.max(1, start.interval);
  const deadline = Date.now() + start.expiresIn * 1000;
  while (Date.now() < deadline) {
    await sleep(interval * 1000);
    const r = await call<CliTokenResult>(base, 'POST', '/api/v1/auth/oidc/device/token', { handle: start.handle });
    if (r.status === 'done' && r.token && r.user) return { token: r.token, user: r.user };
    if (r.status === 'slow_down') interval += 5;
  }
  throw new CliError('the sign-in was not completed in time; run pave login again');
}

/** The browser with a loopback redirect: listen on 127.0.0.1:<random>, send the browser through the server, exchange the code. */
export async function browserToken(base: string, o: { open: boolean; progress: Progress; timeoutMs?: number }): Promise<{ token: CreatedToken; user: string }> {
  const state = randomBytes(24).toString('base64url');
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  let settle: (v: { code: string } | { error: string }) => void = () => undefined;
  const result = new Promise<{ code: string } | { error: string }>((r) => (settle = r));
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const code = u.searchParams.get('code');
    const ok = code && u.searchParams.get('state') === state;
    res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>Pave</title><p>${ok ? 'Signed in. You can close this tab and go back to the terminal.' : 'This sign-in did not come from the pave login that is waiting; run it again.'}</p>`);
    if (ok) settle({ code });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const q = new URLSearchParams({ cli_redirect: `http://127.0.0.1:${port}/callback`, cli_state: state, cli_challenge: challenge });
    const url = `${base}/api/v1/auth/oidc/login?${q}`;
    o.progress(`To sign in, open ${url}`);
    if (o.open) openBrowser(url);
    o.progress('Waiting for you to sign in…');
    const timeout = setTimeout(() => settle({ error: 'the sign-in was not completed in time; run pave login again' }), o.timeoutMs ?? 300_000);
    const got = await result;
    clearTimeout(timeout);
    if ('error' in got) throw new CliError(got.error);
    const r = await call<CliTokenResult>(base, 'POST', '/api/v1/auth/oidc/cli/token', { code: got.code, verifier });
    if (!r.token || !r.user) throw new CliError('the server did not issue a token');
    return { token: r.token, user: r.user };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** Asks for a secret on the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  process.stderr.write(`${question}: `);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return finish();
        if (c === '\u0003') return finish(new CliError('cancelled', 130));
        if (c === '\u007f' || c === '\b') value = value.slice(0, -1);
        else value += c;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Reads secrets (e.g. a password): asked for one by one without echo on a terminal, else one per line
 * from stdin (e.g. `printf '%s\n' "$PASSWORD" | pave login --user kim`).
 */
export async function readSecrets(questions: string[]): Promise<string[]> {
  if (!process.stdin.isTTY) {
    const lines = (await text(process.stdin)).split(/\r?\n/);
    const out = questions.map((_, i) => lines[i] ?? '');
    const missing = questions.find((_, i) => !out[i]);
    if (missing) throw new CliError(`${missing.toLowerCase()} expected on stdin (one per line: ${questions.join(', ').toLowerCase()})`, 2);
    return out;
  }
  const out: string[] = [];
  for (const q of questions) out.push(await promptHidden(q));
  return out;
}
