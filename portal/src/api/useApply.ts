import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApplyResultView, ResourceEventView } from './client.ts';
import { useApi } from './session.tsx';

export interface ApplyRun {
  environment: string;
  running: boolean;
  /** Every progress event, in the order the server sent them. */
  events: (ResourceEventView & { at: number })[];
  result: ApplyResultView | null;
  error: unknown;
  startedAt: number;
  finishedAt: number | null;
}

export interface Apply {
  run: ApplyRun | null;
  /** Applies the environment; progress lands in `run` as it streams. Does nothing while a run is going. */
  start(environment: string): void;
  /** Forgets a finished run (hides its log). */
  dismiss(): void;
}

/** One apply at a time for an application, with its live progress. Leaving the page stops reading it. */
export function useApply(namespace: string, name: string, onSettled?: (run: ApplyRun) => void): Apply {
  const api = useApi();
  const [run, setRun] = useState<ApplyRun | null>(null);
  const ctl = useRef<AbortController | null>(null);
  const running = useRef(false);
  const settled = useRef(onSettled);
  useEffect(() => {
    settled.current = onSettled;
  });

  useEffect(() => () => ctl.current?.abort(), []);

  const start = useCallback(
    (environment: string) => {
      if (running.current) return;
      running.current = true;
      const abort = new AbortController();
      ctl.current = abort;
      let current: ApplyRun = { environment, running: true, events: [], result: null, error: null, startedAt: Date.now(), finishedAt: null };
      setRun(current);
      const finish = (patch: Partial<ApplyRun>) => {
        running.current = false;
        if (abort.signal.aborted) return;
        current = { ...current, ...patch, running: false, finishedAt: Date.now() };
        setRun(current);
        settled.current?.(current);
      };
      api
        .golden(namespace, name)
        .apply(
          environment,
          (event) => {
            if (abort.signal.aborted) return;
            current = { ...current, events: [...current.events, { ...event, at: Date.now() }] };
            setRun(current);
          },
          abort.signal,
        )
        .then(
          (result) => finish({ result }),
          (error: unknown) => finish({ error }),
        );
    },
    [api, namespace, name],
  );

  const dismiss = useCallback(() => {
    if (!running.current) setRun(null);
  }, []);

  return { run, start, dismiss };
}
