/**
 * Kubernetes resource quantities (`500m`, `1.5Gi`, `128M`): Score's forms normalised to Kubernetes'
 * (Score writes decimal kilo as `K`, Kubernetes as `k`), and compared, to catch a request above its
 * limit, which the API server refuses.
 */

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** A Score quantity in Kubernetes' form: `128K` → `128k`; others unchanged. */
export function normalizeQuantity(q: string): string {
  return q.replace(/^(.*\d)K$/, '$1k');
}

/** The value of a quantity in base units (cores, bytes), or null when it is not one. */
export function quantityValue(q: string): number | null {
  const m = QUANTITY.exec(q.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return n * 10 ** Number(suffix.slice(1));
  return n * (SUFFIX[suffix] ?? NaN);
}

/** Whether `a` is more than `b` (false when either is not a quantity). */
export function exceeds(a: string, b: string): boolean {
  const x = quantityValue(a);
  const y = quantityValue(b);
  return x !== null && y !== null && x > y * (1 + 1e-12);
}
