import { Box, ScrollArea, Text } from '@mantine/core';
import { useEffect, useRef } from 'react';
import type { RunOutputLine } from '../../api/actions.ts';

const time = (ts: string) => {
  if (!ts) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleTimeString(undefined, { hour12: false });
};

interface Props {
  lines: RunOutputLine[];
  /** The log's accessible name, e.g. "Output of Scale in development". */
  label: string;
  /** Shown while there are no lines. */
  empty: string;
  height?: number;
  live?: boolean;
}

/** A run's output lines with their time, in a dark log box that follows the newest line. */
export function RunOutput({ lines, label, empty, height = 260, live = false }: Props) {
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const v = viewport.current;
    if (v) v.scrollTo({ top: v.scrollHeight });
  }, [lines.length]);
  return (
    <ScrollArea.Autosize mah={height} viewportRef={viewport} type="auto" bg="dark.8" style={{ borderRadius: 'var(--mantine-radius-md)' }}>
      <Box
        role="log"
        aria-label={label}
        aria-live={live ? 'polite' : 'off'}
        p="xs"
        ff="monospace"
        fz="xs"
        c="gray.2"
        mih={48}
        style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
        data-testid="run-output"
      >
        {lines.length === 0 && (
          <Text size="xs" c="gray.5" ff="monospace">
            {empty}
          </Text>
        )}
        {lines.map((l, i) => (
          <div key={i} className="pave-log-line">
            {l.ts && <span style={{ color: 'var(--mantine-color-gray-5)' }}>{time(l.ts)} </span>}
            <span style={{ color: /^failed: /.test(l.line) ? 'var(--mantine-color-red-4)' : undefined }}>{l.line}</span>
          </div>
        ))}
      </Box>
    </ScrollArea.Autosize>
  );
}
