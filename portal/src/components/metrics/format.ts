/** Words for delivery figures: durations, rates, rates of releases and bucket labels. */

/** 42 s, 5 min, 5 h 24 min, 2 d 4 h: two units at most; "—" for none. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return h ? `${d} d ${h} h` : `${d} d`;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** 0.625 → "62.5%"; "—" for none. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${Math.round(rate * 1000) / 10}%`;
}

/** 2026-03-02 → "Mar 2" (UTC, as the buckets). */
export function bucketLabel(iso: string): string {
  return new Date(iso).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** The span of a bucket in words: "week of Mar 2", "Mar 3". */
export function bucketTitle(iso: string, bucket: 'day' | 'week'): string {
  return bucket === 'week' ? `week of ${bucketLabel(iso)}` : bucketLabel(iso);
}

/** A readable step for an axis: the smallest of 1, 2, 5 × 10^n (or of the duration steps) that keeps about `ticks` lines. */
export function niceMax(max: number, kind: 'count' | 'rate' | 'seconds'): number {
  if (kind === 'rate') return 1;
  if (max <= 0) return kind === 'seconds' ? 3600 : 1;
  if (kind === 'seconds') {
    const steps = [60, 300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400];
    for (const step of steps) if (max <= step * 4) return Math.ceil(max / step) * step;
    return Math.ceil(max / (30 * 86_400)) * 30 * 86_400;
  }
  const p = 10 ** Math.floor(Math.log10(max));
  for (const f of [1, 2, 5, 10]) if (max <= f * p) return f * p;
  return 10 * p;
}
