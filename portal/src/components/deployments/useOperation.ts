import { useCallback, useEffect, useRef, useState } from 'react';

export type OperationKind = 'build' | 'deploy' | 'release' | 'rollback' | 'promote';

export interface OperationLine {
  at: number;
  /** The step of a deployment (starting, health, released…) or the stream of a build log line. */
  tag: string;
  text: string;
}

export interface OperationOutcome {
  ok: boolean;
  title: string;
  message: string;
  /** Log lines kept with a failure (a failed deployment's last lines). */
  details?: string[];
}

export interface OperationRun {
  id: number;
  kind: OperationKind;
  /** What is being done, in words: "Deploy to development". */
  title: string;
  environment: string | null;
  running: boolean;
  lines: OperationLine[];
  outcome: OperationOutcome | null;
  error: unknown;
  startedAt: number;
  finishedAt: number | null;
}

export type OperationWork = (push: (tag: string, text: string) => void, signal: AbortSignal) => Promise<OperationOutcome>;

export interface Operation {
  run: OperationRun | null;
  busy: boolean;
  /** Starts long work whose progress lands in `run`; does nothing while other work is going on. */
  start(kind: OperationKind, title: string, environment: string | null, work: OperationWork): void;
  dismiss(): void;
}

/** One build, deployment, release, rollback or promotion at a time, with its live progress. Leaving the page stops reading it. */
export function useOperation(onSettled?: (run: OperationRun) => void): Operation {
  const [run, setRun] = useState<OperationRun | null>(null);
  const ctl = useRef<AbortController | null>(null);
  const running = useRef(false);
  const settled = useRef(onSettled);
  const nextId = useRef(1);
  useEffect(() => {
    settled.current = onSettled;
  });
  useEffect(() => () => ctl.current?.abort(), []);

  const start = useCallback((kind: OperationKind, title: string, environment: string | null, work: OperationWork) => {
    if (running.current) return;
    running.current = true;
    const abort = new AbortController();
    ctl.current = abort;
    let current: OperationRun = { id: nextId.current++, kind, title, environment, running: true, lines: [], outcome: null, error: null, startedAt: Date.now(), finishedAt: null };
    setRun(current);
    const push = (tag: string, text: string) => {
      if (abort.signal.aborted) return;
      current = { ...current, lines: [...current.lines, { at: Date.now(), tag, text }] };
      setRun(current);
    };
    const finish = (patch: Partial<OperationRun>) => {
      running.current = false;
      if (abort.signal.aborted) return;
      current = { ...current, ...patch, running: false, finishedAt: Date.now() };
      setRun(current);
      settled.current?.(current);
    };
    work(push, abort.signal).then(
      (outcome) => finish({ outcome }),
      (error: unknown) => finish({ error }),
    );
  }, []);

  const dismiss = useCallback(() => {
    if (!running.current) setRun(null);
  }, []);

  return { run, busy: run?.running ?? false, start, dismiss };
}
