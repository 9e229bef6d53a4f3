import { Group, Text } from '@mantine/core';
import { useId, type ReactNode } from 'react';
import { niceMax } from './format.ts';

/**
 * Small SVG charts for the delivery metrics: bars (optionally two stacked series) and a line with its
 * points. No chart library: a viewBox that scales to its container, a baseline, a mid and a top grid
 * line with their values, and one label per few buckets. Every bar and point carries its bucket and
 * value (data-bucket, data-value) and a <title> that browsers show on hover and screen readers read.
 */

export interface Series {
  name: string;
  color: string;
  /** One value per point; null: no value (no bar, a gap in the line). */
  values: (number | null)[];
}

interface ChartProps {
  title: string;
  /** The buckets: their start (ISO) and a short label for the axis, and a longer one for titles. */
  points: { start: string; label: string; title: string }[];
  series: Series[];
  kind: 'count' | 'rate' | 'seconds';
  format: (v: number) => string;
  testId: string;
}

const W = 640;
const H = 200;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };
const innerW = W - PAD.left - PAD.right;
const innerH = H - PAD.top - PAD.bottom;

function Frame({ title, testId, max, format, points, children, legend }: { title: string; testId: string; max: number; format: (v: number) => string; points: ChartProps['points']; children: ReactNode; legend?: Series[] }) {
  const id = useId();
  const every = Math.max(1, Math.ceil(points.length / 8));
  const step = innerW / Math.max(1, points.length);
  return (
    <figure data-testid={testId} style={{ margin: 0 }}>
      <Group justify="space-between" gap="xs" mb={4}>
        <Text component="figcaption" id={id} size="sm" fw={600}>
          {title}
        </Text>
        {legend && legend.length > 1 && (
          <Group gap="sm">
            {legend.map((s) => (
              <Group key={s.name} gap={4}>
                <svg width="10" height="10" aria-hidden="true">
                  <rect width="10" height="10" rx="2" fill={s.color} />
                </svg>
                <Text size="xs" c="dimmed">
                  {s.name}
                </Text>
              </Group>
            ))}
          </Group>
        )}
      </Group>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-labelledby={id} style={{ display: 'block', overflow: 'visible' }}>
        {[0, 0.5, 1].map((f) => {
          const y = PAD.top + innerH * (1 - f);
          return (
            <g key={f}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} stroke="var(--mantine-color-gray-3)" strokeDasharray={f === 0 ? undefined : '3 3'} />
              <text x={PAD.left - 6} y={y + 4} textAnchor="end" fontSize="11" fill="var(--mantine-color-dimmed)">
                {format(max * f)}
              </text>
            </g>
          );
        })}
        {points.map((p, i) =>
          i % every === 0 ? (
            <text key={p.start} x={PAD.left + step * (i + 0.5)} y={H - 8} textAnchor="middle" fontSize="11" fill="var(--mantine-color-dimmed)">
              {p.label}
            </text>
          ) : null,
        )}
        {children}
      </svg>
    </figure>
  );
}

/** Bars per bucket; with several series, stacked in their order (e.g. releases, then rollbacks). */
export function BarChart({ title, points, series, kind, format, testId }: ChartProps) {
  const totals = points.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals), kind);
  const step = innerW / Math.max(1, points.length);
  const bar = Math.max(2, Math.min(36, step * 0.7));
  const y = (v: number) => PAD.top + innerH * (1 - v / max);
  return (
    <Frame title={title} testId={testId} max={max} format={format} points={points} legend={series}>
      {points.map((p, i) => {
        let base = 0;
        return (
          <g key={p.start}>
            {series.map((s) => {
              const v = s.values[i];
              if (v === null || v === undefined) return null;
              const top = y(base + v);
              const height = y(base) - top;
              base += v;
              return (
                <rect
                  key={s.name}
                  data-series={s.name}
                  data-bucket={p.start}
                  data-value={v}
                  x={PAD.left + step * (i + 0.5) - bar / 2}
                  y={top}
                  width={bar}
                  height={Math.max(0, height)}
                  rx={2}
                  fill={s.color}
                >
                  <title>{`${p.title}: ${s.name} ${format(v)}`}</title>
                </rect>
              );
            })}
          </g>
        );
      })}
    </Frame>
  );
}

/** A line through the buckets that have a value (a gap where one has none), with a dot on each. */
export function LineChart({ title, points, series, kind, format, testId }: ChartProps) {
  const s = series[0]!;
  const max = niceMax(Math.max(0, ...s.values.map((v) => v ?? 0)), kind);
  const step = innerW / Math.max(1, points.length);
  const x = (i: number) => PAD.left + step * (i + 0.5);
  const y = (v: number) => PAD.top + innerH * (1 - v / max);
  // runs of consecutive values, each drawn as one polyline
  const runs: { i: number; v: number }[][] = [];
  s.values.forEach((v, i) => {
    if (v === null) return;
    const last = runs.at(-1);
    if (last && last.at(-1)!.i === i - 1) last.push({ i, v });
    else runs.push([{ i, v }]);
  });
  return (
    <Frame title={title} testId={testId} max={max} format={format} points={points}>
      {runs.map((r) => (
        <polyline key={r[0]!.i} points={r.map((p) => `${x(p.i)},${y(p.v)}`).join(' ')} fill="none" stroke={s.color} strokeWidth={2} />
      ))}
      {s.values.map((v, i) =>
        v === null ? null : (
          <circle key={points[i]!.start} data-series={s.name} data-bucket={points[i]!.start} data-value={v} cx={x(i)} cy={y(v)} r={4} fill={s.color}>
            <title>{`${points[i]!.title}: ${s.name} ${format(v)}`}</title>
          </circle>
        ),
      )}
    </Frame>
  );
}
