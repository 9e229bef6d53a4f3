/** Helpers of the runtime's tests: temporary folders, fixture apps, polling. Not used by Pave itself. */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const NODE = process.execPath;

export async function tempDir(prefix = 'pave-runtime-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a process is gone: no such pid, or a zombie (exited, not reaped yet). */
export function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** GET http://127.0.0.1:port/path → { status, body } (agent: false, so no socket is kept). */
export function httpGet(port: number, reqPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * A web app fixture: prints its environment's keys at start, answers `GET /` with `hello <GREETING>`,
 * `GET /log?msg=x` by printing x on stdout (and `GET /err?msg=x` on stderr).
 */
export const WEB_APP = `
import http from 'node:http';
console.log('env ' + JSON.stringify(Object.keys(process.env).sort()));
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/log') console.log(url.searchParams.get('msg'));
  if (url.pathname === '/err') console.error(url.searchParams.get('msg'));
  if (url.pathname === '/env') { res.end(JSON.stringify(process.env)); return; }
  res.end('hello ' + process.env.GREETING);
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT + ' pid ' + process.pid));
`;

/** Writes fixture files into `dir`. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
}
