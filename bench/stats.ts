/** Latency statistics shared by the benchmarks: nearest-rank percentiles of a sample, in ms. */
export interface LatencyStats {
  count: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function latencyStats(values: number[], digits: number): LatencyStats {
  const round = (n: number) => Math.round(n * 10 ** digits) / 10 ** digits;
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { count: s.length, minMs: round(s[0] ?? 0), p50Ms: round(at(50)), p95Ms: round(at(95)), p99Ms: round(at(99)), maxMs: round(s[s.length - 1] ?? 0), meanMs: round(mean) };
}

/** An integer command-line option of a benchmark, at least `min`, or an error naming the option. */
export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
  return n;
}
