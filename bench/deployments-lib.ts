/**
 * Helpers of the deployments benchmark (bench/deployments.ts): autocannon runs that also keep a
 * timeline of their failures, a probe that asks the router which deployment answers, and a child
 * process runner that times a command without blocking the event loop (autocannon runs in this process).
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { round } from './resources-lib.ts';
import { latencyStats, type LatencyStats } from './stats.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- load -------------------------------------------------------------------------------------------

export interface LoadOptions {
  label: string;
  /** Where the connections go (http://127.0.0.1:<port>/…). */
  url: string;
  /** Host header (the router's host form); the URL's host when undefined. */
  host?: string | undefined;
  connections: number;
  /** Seconds; omit to run until stop(). */
  durationS?: number | undefined;
}

export interface LoadResult {
  label: string;
  target: string;
  connections: number;
  durationS: number;
  /** Requests written (autocannon's requests.sent). */
  sent: number;
  ok2xx: number;
  non2xx: number;
  /** Connection errors and timeouts (autocannon counts a timeout as an error too). */
  errors: number;
  timeouts: number;
  /** errors + non2xx: the "failed requests" of the targets. */
  failed: number;
  /**
   * sent − answered − errors: requests never answered. Up to `connections` are simply in flight when the
   * run stops; more means autocannon reconnected silently after the server closed a connection with a
   * request on it (it counts no error then), i.e. hidden failures.
   */
  unanswered: number;
  hiddenFailures: number;
  statusCodes: Record<string, number>;
  errorMessages: Record<string, number>;
  /** ms since the start of the run of the first 200 failures (non-2xx or error), with what they were. */
  failureTimeline: { atMs: number; what: string }[];
  rps: number;
  /** Latency of the 2xx responses, ms (autocannon records whole milliseconds). */
  latency: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

export interface RunningLoad {
  /** performance.now() when the run started. */
  startedAt: number;
  stop(): void;
  done: Promise<LoadResult>;
}

type AcResult = Awaited<ReturnType<typeof autocannon>>;
interface Instance extends Promise<AcResult> {
  stop(): void;
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', fn: (err: Error) => void): void;
}
type RawResult = AcResult & { requests: AcResult['requests'] & { sent?: number } };

export function startLoad(o: LoadOptions): RunningLoad {
  const startedAt = performance.now();
  const timeline: { atMs: number; what: string }[] = [];
  const messages: Record<string, number> = {};
  const note = (what: string) => {
    if (timeline.length < 200) timeline.push({ atMs: round(performance.now() - startedAt, 1), what });
  };
  const inst = autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationS ?? 3600,
    timeout: 10,
    ...(o.host ? { headers: { host: o.host } } : {}),
  }) as unknown as Instance;
  inst.on('response', (_c, status) => {
    if (status < 200 || status > 299) note(`HTTP ${status}`);
  });
  inst.on('reqError', (err) => {
    const m = (err as NodeJS.ErrnoException).code ?? err.message;
    messages[m] = (messages[m] ?? 0) + 1;
    note(m);
  });
  const done = inst.then((raw: RawResult): LoadResult => {
    const l = raw.latency;
    const sent = raw.requests.sent ?? 0;
    const answered = raw['2xx'] + raw.non2xx;
    const unanswered = Math.max(0, sent - answered - raw.errors);
    return {
      label: o.label,
      target: o.host ? `${o.url} (Host: ${o.host})` : o.url,
      connections: o.connections,
      durationS: raw.duration,
      sent,
      ok2xx: raw['2xx'],
      non2xx: raw.non2xx,
      errors: raw.errors,
      timeouts: raw.timeouts,
      failed: raw.errors + raw.non2xx,
      unanswered,
      hiddenFailures: Math.max(0, unanswered - o.connections),
      statusCodes: Object.fromEntries(Object.entries(raw.statusCodeStats).map(([k, v]) => [k, (v as { count: number }).count])),
      errorMessages: messages,
      failureTimeline: timeline,
      rps: round(raw.requests.mean, 0),
      latency: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p99_9, max: l.max, mean: round(l.mean, 2) },
    };
  });
  return { startedAt, stop: () => inst.stop(), done };
}

export async function runLoad(o: LoadOptions & { durationS: number }): Promise<LoadResult> {
  return startLoad(o).done;
}

export const fmtLoad = (r: LoadResult): string =>
  `${r.rps} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; ${r.ok2xx} ok, ${r.non2xx} non-2xx, ${r.errors} errors${r.hiddenFailures ? `, ${r.hiddenFailures} unanswered beyond those in flight` : ''}`;

// ---- the router, asked one request at a time ----------------------------------------------------------

export interface Probe {
  status: number;
  /** The deployment that answered, from the fixture's body ("hello from <PAVE_DEPLOYMENT>"). */
  deployment: string | null;
  header: string | null;
}

/** One GET through a keep-alive agent of its own (so that polling costs no new connection per request). */
export class RouterProbe {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly port: number;
  private readonly host: string;
  constructor(routerUrl: string, host: string) {
    this.port = Number(new URL(routerUrl).port);
    this.host = `${host}:${this.port}`;
  }

  get(path = '/'): Promise<Probe> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, path, headers: { host: this.host }, agent: this.agent, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const m = /from (\S+)/.exec(body);
          const h = res.headers['x-pave-deployment'];
          resolve({ status: res.statusCode ?? 0, deployment: res.statusCode === 200 && m ? m[1]! : null, header: typeof h === 'string' ? h : null });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('probe timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Polls every `intervalMs` until a 200 comes from a deployment other than `not`; resolves with the
   * performance.now() at which that answer was read. Stops at `deadline` (performance.now()) or on abort.
   */
  async waitForNew(not: string | null, deadline: number, signal: AbortSignal, intervalMs = 5): Promise<{ at: number; deployment: string; polls: number; errors: number } | null> {
    let polls = 0;
    let errors = 0;
    while (!signal.aborted && performance.now() < deadline) {
      polls++;
      try {
        const p = await this.get();
        if (p.status === 200 && p.deployment && p.deployment !== not) return { at: performance.now(), deployment: p.deployment, polls, errors };
      } catch {
        errors++;
      }
      await sleep(intervalMs);
    }
    return null;
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---- child processes ----------------------------------------------------------------------------------

export interface CommandResult {
  code: number | null;
  signal: string | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell) and times it; never blocks the event loop; killed after `timeoutMs`. */
export function runCommand(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, ms: performance.now() - t0, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: performance.now() - t0, stdout, stderr });
    });
  });
}

/** Median of a list (the middle value, or the mean of the two middle ones). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
}

export interface Spread {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

export const spread = (values: number[]): Spread => values.length === 0 ? { n: 0, medianMs: 0, p90Ms: 0, minMs: 0, maxMs: 0 } : ({
  n: values.length,
  medianMs: round(median(values), 1),
  p90Ms: round(percentile(values, 90), 1),
  minMs: round(Math.min(...values), 1),
  maxMs: round(Math.max(...values), 1),
});

export const fmtSpread = (s: Spread): string => `median ${s.medianMs} ms, p90 ${s.p90Ms} ms, min ${s.minMs}, max ${s.maxMs} (n=${s.n})`;

// ---- paced load: a fixed request rate, not saturating, with sub-millisecond latencies ---------------------

export interface PacedResult {
  label: string;
  target: string;
  rate: number;
  connections: number;
  durationS: number;
  sent: number;
  ok2xx: number;
  failed: number;
  /** Latency of the requests after the first half second, ms, from the moment each was due (so a late send counts). */
  latency: LatencyStats;
}

/**
 * Sends `rate` requests a second, spread evenly (a 1 ms timer sends what is due), over keep-alive
 * connections (at most `connections`), and times each from when it was due to the end of its body.
 * Unlike autocannon's rate option (which sends each second's quota back to back), this keeps the
 * servers below saturation, so the difference between two targets is the cost of a request, not queueing.
 */
export async function pacedLoad(o: { label: string; url: string; host?: string | undefined; rate: number; connections: number; durationS: number }): Promise<PacedResult> {
  const u = new URL(o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const headers = o.host ? { host: o.host } : undefined;
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const end = t0 + o.durationS * 1000;
  const warm = t0 + 500;
  const one = (due: number) => {
    sent++;
    inFlight++;
    const req = http.request({ host: u.hostname, port: Number(u.port), path: u.pathname, agent, headers, timeout: 10_000 }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        inFlight--;
        if (res.statusCode === 200) ok++;
        else failed++;
        if (due >= warm) latencies.push(performance.now() - due);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      inFlight--;
      failed++;
    });
    req.end();
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Math.min(performance.now(), end);
      const due = Math.floor(((now - t0) * o.rate) / 1000);
      for (; sent < due; ) one(t0 + ((sent + 1) * 1000) / o.rate);
      if (now >= end) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const deadline = performance.now() + 15_000;
  while (inFlight > 0 && performance.now() < deadline) await sleep(10);
  agent.destroy();
  return { label: o.label, target: o.host ? `${o.url} (Host: ${o.host})` : o.url, rate: o.rate, connections: o.connections, durationS: o.durationS, sent, ok2xx: ok, failed, latency: latencyStats(latencies, 3) };
}

export const fmtPaced = (r: PacedResult): string =>
  `${r.rate} req/s: p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms, max ${r.latency.maxMs} ms; ${r.ok2xx} ok, ${r.failed} failed`;
