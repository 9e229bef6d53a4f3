import { Group, Text } from '@mantine/core';
import { useId } from 'react';
import type { FleetPattern } from '../../api/fleet.ts';
import { KIND_LABEL, plural } from './format.ts';
import { segmentColor, spreadSegments, type SpreadMeasure } from './spread.ts';

/**
 * The version spread of every template and add-on as an SVG chart (no chart library, the style of the
 * delivery metrics' charts): one stacked horizontal bar per pattern, one segment per version in use,
 * oldest on the left and the latest (green, outlined) on the right, warmer colours the further behind.
 * Each segment carries data-version and data-value and a <title> that browsers show on hover and screen
 * readers read; clicking one opens the applications on that version.
 */
const W = 1000;
const LABEL = 220;
const RIGHT = 170;
const ROW = 32;
const BAR = 20;
const barW = W - LABEL - RIGHT;

export function VersionSpreadChart({ patterns, measure, onSelect }: { patterns: FleetPattern[]; measure: SpreadMeasure; onSelect?: (p: FleetPattern, version: string) => void }) {
  const id = useId();
  const H = Math.max(1, patterns.length) * ROW + 8;
  const unit = measure === 'applications' ? 'application' : 'environment';
  return (
    <figure data-testid="fleet-spread-chart" data-measure={measure} style={{ margin: 0 }}>
      <Group justify="space-between" gap="xs" mb={4}>
        <Text component="figcaption" id={id} size="sm" fw={600}>
          Versions in use, by {unit}s
        </Text>
        <Group gap="sm" aria-hidden="true">
          {[
            { label: 'latest', color: segmentColor({ latest: true, published: true, behindBy: 0 }) },
            { label: '1 behind', color: segmentColor({ latest: false, published: true, behindBy: 1 }) },
            { label: 'further behind', color: segmentColor({ latest: false, published: true, behindBy: 3 }) },
            { label: 'retired', color: segmentColor({ latest: false, published: false, behindBy: 9 }) },
          ].map((k) => (
            <Group key={k.label} gap={4}>
              <svg width="10" height="10">
                <rect width="10" height="10" rx="2" fill={k.color} />
              </svg>
              <Text size="xs" c="dimmed">
                {k.label}
              </Text>
            </Group>
          ))}
        </Group>
      </Group>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-labelledby={id} style={{ display: 'block', overflow: 'visible' }}>
        {patterns.map((p, row) => {
          const y = 4 + row * ROW;
          const segments = spreadSegments(p, measure);
          const total = measure === 'applications' ? p.applications : p.environments;
          const behind = measure === 'applications' ? p.behind : p.behindEnvironments;
          return (
            <g key={`${p.kind}:${p.name}`} data-pattern={p.name} data-kind={p.kind} data-total={total} data-behind={behind}>
              <text x={0} y={y + BAR / 2 + 4} fontSize="13" fontWeight={600} fill="var(--mantine-color-text)">
                {p.name.length > 20 ? `${p.name.slice(0, 19)}…` : p.name}
                <tspan fontSize="11" fontWeight={400} fill="var(--mantine-color-dimmed)">
                  {' '}
                  {KIND_LABEL[p.kind].toLowerCase()}
                </tspan>
              </text>
              <rect x={LABEL} y={y} width={barW} height={BAR} rx={3} fill="var(--mantine-color-gray-1)" />
              {segments.map((s) => {
                const x = LABEL + s.start * barW;
                const w = s.width * barW;
                const value = measure === 'applications' ? s.applications : s.environments;
                const fits = w >= 56;
                const label = `${s.version} · ${value}`;
                return (
                  <g key={s.version} onClick={onSelect ? () => onSelect(p, s.version) : undefined} style={onSelect ? { cursor: 'pointer' } : undefined}>
                    <rect
                      data-version={s.version}
                      data-value={value}
                      data-latest={s.latest}
                      data-published={s.published}
                      x={x}
                      y={y}
                      width={Math.max(1, w)}
                      height={BAR}
                      rx={3}
                      fill={segmentColor(s)}
                      stroke={s.latest ? 'var(--mantine-color-green-9)' : 'var(--mantine-color-body)'}
                      strokeWidth={s.latest ? 2 : 1}
                    >
                      <title>{`${p.name} ${s.version}${s.latest ? ' (latest)' : s.published ? ` (${s.behindBy} behind)` : ' (retired)'}: ${plural(s.applications, 'application')}, ${plural(s.environments, 'environment')}${s.pinned ? `, ${s.pinned} pinned` : ''}`}</title>
                    </rect>
                    {fits && (
                      <text x={x + w / 2} y={y + BAR / 2 + 4} textAnchor="middle" fontSize="11" fontWeight={600} fill={s.latest || !s.published ? 'white' : 'var(--mantine-color-dark-7)'} pointerEvents="none">
                        {label}
                      </text>
                    )}
                  </g>
                );
              })}
              <text x={LABEL + barW + 10} y={y + BAR / 2 + 4} fontSize="12" fill={behind ? 'var(--mantine-color-orange-8)' : 'var(--mantine-color-dimmed)'}>
                {total === 0 ? 'not in use' : behind ? `${behind} of ${total} behind` : `all ${total} on ${p.latest ?? 'latest'}`}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
