import type { FleetPattern } from '../../../../src/contracts/fleet.ts';

/**
 * The version spread of a template or add-on as bar segments: one per version in use, oldest first
 * (left), so the latest sits at the right end. Widths are fractions of the pattern's applications (or
 * environments), and each segment says how far behind the latest it is, for its colour.
 */
export interface SpreadSegment {
  version: string;
  applications: number;
  environments: number;
  pinned: number;
  latest: boolean;
  /** Still current in the platform source (a retired version may still be in use). */
  published: boolean;
  /** 0 for the latest, 1 for the version before it, …: by the order of the view's versions (newest first). */
  behindBy: number;
  /** Where the segment starts and how wide it is, as fractions of the bar (0..1). */
  start: number;
  width: number;
}

export type SpreadMeasure = 'applications' | 'environments';

export function spreadSegments(p: FleetPattern, measure: SpreadMeasure = 'applications'): SpreadSegment[] {
  const latestIndex = Math.max(0, p.versions.findIndex((v) => v.latest));
  const used = p.versions.map((v, i) => ({ v, behindBy: Math.max(0, i - latestIndex) })).filter(({ v }) => v[measure] > 0);
  const total = used.reduce((n, { v }) => n + v[measure], 0);
  const out: SpreadSegment[] = [];
  let start = 0;
  for (const { v, behindBy } of [...used].reverse()) {
    const width = total ? v[measure] / total : 0;
    out.push({ version: v.version, applications: v.applications, environments: v.environments, pinned: v.pinned, latest: v.latest, published: v.published, behindBy, start, width });
    start += width;
  }
  return out;
}

/** Palette by how far behind: the latest green, then warmer the further behind; retired versions red. */
const BEHIND = ['var(--mantine-color-yellow-5)', 'var(--mantine-color-orange-5)', 'var(--mantine-color-orange-7)', 'var(--mantine-color-red-5)'];

export function segmentColor(s: Pick<SpreadSegment, 'latest' | 'published' | 'behindBy'>): string {
  if (s.latest) return 'var(--mantine-color-green-6)';
  if (!s.published) return 'var(--mantine-color-red-8)';
  return BEHIND[Math.min(BEHIND.length - 1, Math.max(0, s.behindBy - 1))] ?? BEHIND[0]!;
}
