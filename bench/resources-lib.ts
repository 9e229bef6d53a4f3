/**
 * Helpers of the resources benchmark (bench/resources.ts): latency statistics, a small concurrency
 * pool, and a typed HTTP client for the Pave API that times every call.
 */

import { latencyStats, type LatencyStats } from './stats.ts';

export type { LatencyStats };

export const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

/** Nearest-rank percentiles (p95 of 200 values is the 190th smallest). */
export const stats = (values: number[]): LatencyStats => latencyStats(values, 1);

export const fmtStats = (s: LatencyStats): string => `p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms (mean ${s.meanMs}, n=${s.count})`;

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results keep the items' order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export interface CallResult {
  status: number;
  /** Client-side wall time: request sent until the whole body was read. */
  ms: number;
  body: unknown;
  text: string;
}

/** The Pave HTTP API with a bearer token; every call is timed. */
export class Api {
  readonly url: string;
  private readonly token: string;
  constructor(url: string, token: string) {
    this.url = url;
    this.token = token;
  }

  async call(method: string, path: string, body?: unknown, timeoutMs = 300_000): Promise<CallResult> {
    const t0 = performance.now();
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    return { status: res.status, ms, body: parsed, text };
  }
}

/** A short description of a failed call (status and the problem's detail), for the problems list. */
export function describeFailure(r: CallResult): string {
  const b = r.body as { detail?: unknown; title?: unknown } | null;
  const detail = b && typeof b === 'object' ? String(b.detail ?? b.title ?? '') : r.text.slice(0, 300);
  return `HTTP ${r.status}: ${detail}`;
}

// ---- response bodies used by the benchmark (see src/contracts/golden.ts) ----

export interface ApplyEvent {
  resource: string;
  type: string;
  phase: 'provisioning' | 'ready' | 'unchanged' | 'failed' | 'skipped' | 'deleting' | 'deleted';
  detail?: string;
  ms?: number;
}
export interface ApplyBody {
  ok: boolean;
  events: ApplyEvent[];
  failed: { resource: string; error: string }[];
}
export interface PlanItemBody {
  resource: string;
  type: string;
  action: 'create' | 'update' | 'replace' | 'retry' | 'delete' | 'noop';
  driver: string | null;
  error: string | null;
}
export interface PlanBody {
  order: string[];
  items: PlanItemBody[];
  errors: string[];
}
export interface ResourceBody {
  name: string;
  type: string;
  status: string;
  outputs: Record<string, unknown>;
  dependsOn: string[];
  error: string | null;
}

export function isApplyBody(v: unknown): v is ApplyBody {
  return typeof v === 'object' && v !== null && typeof (v as ApplyBody).ok === 'boolean' && Array.isArray((v as ApplyBody).events);
}
export function isPlanBody(v: unknown): v is PlanBody {
  return typeof v === 'object' && v !== null && Array.isArray((v as PlanBody).items) && Array.isArray((v as PlanBody).order);
}
