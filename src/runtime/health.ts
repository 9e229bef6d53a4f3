/** Health checks of a run's web process: HTTP GET until it answers 2xx/3xx. */
import http from 'node:http';

export interface WaitHealthyOptions {
  port: number;
  /** The path to GET, e.g. `/healthz` or `/`. */
  path: string;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  timeoutMs: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Returns a reason when the process died (checked between attempts): waiting stops with it. */
  isDead?: (() => Promise<string | null>) | undefined;
}

export type HealthResult = { ok: true; ms: number } | { ok: false; reason: string };

type Attempt = { status: number } | { error: string };

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out',
  EPIPE: 'connection closed',
};

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code && ERROR_TEXT[code]) return ERROR_TEXT[code];
  if (code) return code;
  return err instanceof Error ? err.message : String(err);
}

function get(host: string, port: number, reqPath: string, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Attempt) => {
      if (settled) return;
      settled = true;
      resolve(a);
    };
    const req = http.get({ host, port, path: reqPath, agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      done({ status: res.statusCode ?? 0 });
      req.destroy();
    });
    req.on('timeout', () => {
      done({ error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    });
    req.on('error', (err) => done({ error: describe(err) }));
  });
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Polls `GET http://<host>:<port><path>` until it answers 2xx or 3xx. Fails with the last answer
 * ("GET /healthz answered 500"), with "no answer on port N after T s (<last error>)", with the
 * `isDead` reason, or on abort.
 */
export async function waitHealthy(opts: WaitHealthyOptions): Promise<HealthResult> {
  const began = Date.now();
  const deadline = began + opts.timeoutMs;
  const host = opts.host ?? '127.0.0.1';
  const reqPath = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
  const interval = opts.intervalMs ?? 50;
  let lastStatus: number | null = null;
  let lastError = 'no attempt';
  for (;;) {
    if (opts.signal?.aborted) return { ok: false, reason: 'aborted' };
    const left = deadline - Date.now();
    const attempt = await get(host, opts.port, reqPath, Math.max(100, Math.min(2000, left)));
    if ('status' in attempt) {
      if (attempt.status >= 200 && attempt.status < 400) return { ok: true, ms: Date.now() - began };
      lastStatus = attempt.status;
    } else {
      lastError = attempt.error;
    }
    if (opts.isDead) {
      const dead = await opts.isDead();
      if (dead !== null) return { ok: false, reason: dead };
    }
    if (opts.signal?.aborted) return { ok: false, reason: 'aborted' };
    if (Date.now() >= deadline) {
      if (lastStatus !== null) {
        return { ok: false, reason: `GET ${reqPath} answered ${lastStatus} (still after ${seconds(opts.timeoutMs)})` };
      }
      return { ok: false, reason: `no answer on port ${opts.port} after ${seconds(opts.timeoutMs)} (${lastError})` };
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
  }
}
