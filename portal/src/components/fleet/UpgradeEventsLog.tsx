import { Box, Text } from '@mantine/core';
import { useEffect, useRef } from 'react';
import type { UpgradeEvent } from '../../api/fleet.ts';
import { appName } from './format.ts';

const TYPE_COLORS: Record<string, string> = {
  'application.upgraded': 'green.8',
  'application.failed': 'red.8',
  'application.reverted': 'orange.8',
  'application.skipped': 'gray.7',
  'upgrade.finished': 'blue.8',
  'upgrade.interrupted': 'orange.8',
  'upgrade.cancelled': 'orange.8',
  'upgrade.paused': 'yellow.8',
  'upgrade.resumed': 'blue.8',
};

const time = (iso: string) => new Date(iso).toLocaleTimeString();

/** An upgrade's events as a live log, oldest first; it follows the end unless the reader scrolled up. */
export function UpgradeEventsLog({ events, live }: { events: UpgradeEvent[]; live: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [events.length]);
  return (
    <Box
      ref={box}
      role="log"
      aria-label="Events of the upgrade"
      aria-live={live ? 'polite' : 'off'}
      data-testid="upgrade-events"
      data-count={events.length}
      onScroll={(e) => {
        const el = e.currentTarget;
        atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
      mah={360}
      p="xs"
      style={{ overflowY: 'auto', background: 'var(--mantine-color-default-hover)', borderRadius: 'var(--mantine-radius-md)', fontFamily: 'var(--mantine-font-family-monospace)' }}
    >
      {events.length === 0 && (
        <Text size="xs" c="dimmed">
          No events yet.
        </Text>
      )}
      {events.map((e) => (
        <Text key={e.seq} size="xs" data-seq={e.seq} data-type={e.type} ff="monospace" style={{ whiteSpace: 'pre-wrap' }}>
          <Text span size="xs" c="dimmed" ff="monospace">
            {time(e.at)}{' '}
          </Text>
          <Text span size="xs" fw={600} c={TYPE_COLORS[e.type]} ff="monospace">
            {e.type}
          </Text>
          {e.wave !== null && (
            <Text span size="xs" c="dimmed" ff="monospace">
              {' '}
              w{e.wave}
            </Text>
          )}
          {/* the application and environment, unless the message names them already */}
          {e.application && !e.message.includes(e.application) && ` ${appName(e.application)}${e.environment ? `/${e.environment}` : ''}:`}
          {e.message && ` ${e.message}`}
        </Text>
      ))}
    </Box>
  );
}
