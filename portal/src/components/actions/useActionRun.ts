import { useCallback, useEffect, useRef, useState } from 'react';
import { isFinal, splitOutputLine } from '../../api/actionParams.ts';
import type { ActionRun, ActionsClient, RunOutputLine } from '../../api/actions.ts';
import { ApiError } from '../../api/client.ts';

/** How often the run's status is asked for while it has not ended (queued → running → how it ended). */
const STATUS_MS = 1000;
/** How long, once the run ended, the output stream gets to deliver its last lines before the stored output is shown instead. */
const DRAIN_MS = 2000;
const MAX_LINES = 2000;

export interface LiveRun {
  run: ActionRun;
  lines: RunOutputLine[];
  /** The output stream is open. */
  following: boolean;
  /** The run ended and everything about it is known. */
  settled: boolean;
  /** The last status check or output stream failure (retried; shown while it lasts). */
  error: unknown;
  cancelling: boolean;
  cancelError: unknown;
}

export interface ActionRunFollower {
  live: LiveRun | null;
  /** A run is being followed and has not ended. */
  busy: boolean;
  /** Follows a run just started: its output as it is written, its status until it ends. */
  follow(run: ActionRun): void;
  cancel(): void;
  dismiss(): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * One action run at a time, followed live: its output lines (streamed) and its status (asked for every
 * second until it ends; then the stored output is the record). Leaving the page stops following.
 */
export function useActionRun(api: ActionsClient, onSettled?: (run: ActionRun) => void): ActionRunFollower {
  const [live, setLive] = useState<LiveRun | null>(null);
  const settledRef = useRef(onSettled);
  useEffect(() => {
    settledRef.current = onSettled;
  });
  const id = live?.run.id ?? null;

  useEffect(() => {
    if (!id) return;
    const ctl = new AbortController();
    const { signal } = ctl;
    const update = (patch: Partial<LiveRun> | ((l: LiveRun) => Partial<LiveRun>)) => {
      if (signal.aborted) return;
      setLive((l) => (l && l.run.id === id ? { ...l, ...(typeof patch === 'function' ? patch(l) : patch) } : l));
    };

    // Output lines arrive in bursts: add them to the page at most every 80 ms.
    let pending: RunOutputLine[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    let streamed = 0;
    const flush = () => {
      timer = null;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      update((l) => {
        const next = l.lines.concat(batch);
        return { lines: next.length > MAX_LINES ? next.slice(-MAX_LINES) : next };
      });
    };
    update({ following: true });
    const stream = api
      .output(
        id,
        true,
        (line) => {
          streamed++;
          pending.push(line);
          timer ??= setTimeout(flush, 80);
        },
        signal,
      )
      .then(
        () => null,
        (err: unknown) => (signal.aborted ? null : err),
      )
      .finally(() => {
        flush();
        update({ following: false });
      });

    void (async () => {
      let run: ActionRun | null = null;
      while (!signal.aborted) {
        try {
          run = await api.get(id, signal);
          update({ run, error: null });
          if (isFinal(run.status)) break;
        } catch (err) {
          if (signal.aborted) return;
          update({ error: err });
          if (err instanceof ApiError && err.status === 404) return;
        }
        await sleep(STATUS_MS, signal);
      }
      if (signal.aborted || !run) return;
      const streamError = await Promise.race([stream, sleep(DRAIN_MS, signal).then(() => null)]);
      if (signal.aborted) return;
      flush();
      const final = run;
      // The stored output is the whole record: use it when the stream missed lines (it failed, or lagged).
      update({ settled: true, error: null, ...(final.output.length > streamed || streamError ? { lines: final.output.map(splitOutputLine) } : {}) });
      settledRef.current?.(final);
    })();

    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, id]);

  const follow = useCallback((run: ActionRun) => {
    setLive({ run, lines: [], following: false, settled: false, error: null, cancelling: false, cancelError: null });
  }, []);

  const cancel = useCallback(() => {
    if (!live || live.settled || live.cancelling) return;
    const runId = live.run.id;
    setLive((l) => (l && l.run.id === runId ? { ...l, cancelling: true, cancelError: null } : l));
    api.cancel(runId).then(
      (run) => setLive((l) => (l && l.run.id === runId ? { ...l, run, cancelling: false } : l)),
      (err: unknown) =>
        setLive((l) =>
          // 409: it ended meanwhile; the status check shows how.
          l && l.run.id === runId ? { ...l, cancelling: false, cancelError: err instanceof ApiError && err.status === 409 ? null : err } : l,
        ),
    );
  }, [api, live]);

  const dismiss = useCallback(() => setLive((l) => (l && !l.settled ? l : null)), []);

  return { live, busy: live !== null && !live.settled, follow, cancel, dismiss };
}
