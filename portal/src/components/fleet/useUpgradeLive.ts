import { useCallback, useEffect, useRef, useState } from 'react';
import { isFinal, useFleetApi, type Upgrade, type UpgradeEvent } from '../../api/fleet.ts';

export interface UpgradeLive {
  upgrade: Upgrade | null;
  /** Every event so far, in seq order. */
  events: UpgradeEvent[];
  /** The error of the last poll (the data on screen stays). */
  error: unknown;
  /** Whether it is still polling (stops once the upgrade ended and its last events are in). */
  live: boolean;
  /** Shows an upgrade a control returned at once, and polls now. */
  update(u: Upgrade): void;
}

const POLL_MS = 800;
const PAGE = 1000;

/**
 * Follows an upgrade: polls its state and its events after the last seq seen (?after=seq) until it
 * ends, then reads the events once more so the last ones are in. Polling (rather than the NDJSON
 * stream) also follows an upgrade that another server of the platform runs. Leaving the page stops it.
 */
export function useUpgradeLive(id: string): UpgradeLive {
  const fleet = useFleetApi();
  const [upgrade, setUpgrade] = useState<Upgrade | null>(null);
  const [events, setEvents] = useState<UpgradeEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(true);
  const wake = useRef<() => void>(() => undefined);

  useEffect(() => {
    const ctl = new AbortController();
    let after = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let endedTicks = 0;
    setUpgrade(null);
    setEvents([]);
    setError(null);
    setLive(true);
    const tick = async () => {
      timer = null;
      try {
        const u = await fleet.upgrade(id, ctl.signal);
        let fresh: UpgradeEvent[] = [];
        for (;;) {
          const page = await fleet.events(id, after, ctl.signal);
          fresh = fresh.concat(page.items);
          if (page.items.length) after = page.items[page.items.length - 1]!.seq;
          if (page.items.length < PAGE) break;
        }
        if (ctl.signal.aborted) return;
        setUpgrade(u);
        if (fresh.length) setEvents((e) => [...e, ...fresh]);
        setError(null);
        if (isFinal(u.status)) endedTicks++;
      } catch (err) {
        if (ctl.signal.aborted) return;
        setError(err);
      }
      // One more read after the end: events written just before it are in.
      if (endedTicks >= 2) {
        setLive(false);
        return;
      }
      timer = setTimeout(() => void tick(), endedTicks ? 200 : POLL_MS);
    };
    wake.current = () => {
      if (timer) {
        clearTimeout(timer);
        void tick();
      }
    };
    void tick();
    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
      wake.current = () => undefined;
    };
  }, [fleet, id]);

  const update = useCallback((u: Upgrade) => {
    setUpgrade(u);
    wake.current();
  }, []);

  return { upgrade, events, error, live, update };
}
