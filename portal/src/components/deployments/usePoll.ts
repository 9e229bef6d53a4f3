import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';

export interface Poll<T> {
  /** The last answer; kept while a later poll fails. */
  data: T | null;
  /** The error of the last poll, if it failed. */
  error: unknown;
  loading: boolean;
  /** Polls now (e.g. right after an action). */
  reload(): void;
}

/**
 * Loads now and again every `intervalMs` while the page is visible, aborting a poll still going when
 * the next starts or the component unmounts. Data stays on screen between polls and across errors.
 * Nothing is loaded while `enabled` is false.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList, intervalMs: number, enabled = true): Poll<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    let ctl: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = !enabled;
    const tick = () => {
      if (stopped) return;
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
        timer = setTimeout(tick, intervalMs);
        return;
      }
      ctl?.abort();
      const mine = new AbortController();
      ctl = mine;
      loadRef.current(mine.signal).then(
        (d) => {
          if (mine.signal.aborted) return;
          setData(d);
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (mine.signal.aborted) return;
          setError(e);
          setLoading(false);
        },
      ).finally(() => {
        if (!mine.signal.aborted && !stopped) timer = setTimeout(tick, intervalMs);
      });
    };
    tick();
    return () => {
      stopped = true;
      ctl?.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what `load` depends on
  }, [...deps, attempt, intervalMs, enabled]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { data, error, loading, reload };
}
