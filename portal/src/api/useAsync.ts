import { useCallback, useEffect, useState, type DependencyList } from 'react';

export type AsyncState<T> =
  | { status: 'loading'; data: null; error: null }
  | { status: 'error'; data: null; error: unknown }
  | { status: 'ok'; data: T; error: null };

/**
 * Runs `load` when `deps` change, aborting the previous run. Results of a stale run are dropped, so a
 * slow answer to an old search never replaces a newer one. With `keepData`, a reload keeps showing the
 * data it has until the new data arrives (no flash of a spinner on refresh).
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList, opts: { keepData?: boolean } = {}): AsyncState<T> & { reload(): void } {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading', data: null, error: null });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => (opts.keepData && s.status === 'ok' ? s : { status: 'loading', data: null, error: null }));
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ status: 'ok', data, error: null });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', data: null, error });
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what `load` depends on
  }, [...deps, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, reload };
}
