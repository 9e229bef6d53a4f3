import { Badge, Box, Button, Checkbox, Group, ScrollArea, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import type { DeploymentsClient, LogLine } from '../../api/deployments.ts';
import { ProblemAlert } from '../ProblemAlert.tsx';

const MAX_LINES = 2000;
const TAIL = 200;

type State = 'connecting' | 'following' | 'ended' | 'error';

interface Props {
  api: DeploymentsClient;
  environment: string;
  /** Deployment numbers by id, to show "#3" rather than a UUID. */
  numbers: Map<string, number>;
}

const time = (ts: string) => {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleTimeString(undefined, { hour12: false });
};

/**
 * The environment's logs as they are written: the last lines, then every new one, with the process
 * type and replica and the deployment that wrote it. Stops reading when it leaves the page.
 */
export function LiveLogs({ api, environment, numbers }: Props) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<State>('connecting');
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [autoscroll, setAutoscroll] = useState(true);
  const viewport = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    let pending: LogLine[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      if (ctl.signal.aborted || pending.length === 0) return;
      const batch = pending;
      pending = [];
      setLines((ls) => {
        const next = ls.concat(batch);
        return next.length > MAX_LINES ? next.slice(-MAX_LINES) : next;
      });
    };
    setLines([]);
    setError(null);
    setState('connecting');
    api
      .logs(
        environment,
        { tail: TAIL, follow: true, onOpen: () => !ctl.signal.aborted && setState('following') },
        (l) => {
          pending.push(l);
          timer ??= setTimeout(flush, 80);
        },
        ctl.signal,
      )
      .then(
        () => {
          if (ctl.signal.aborted) return;
          flush();
          setState('ended');
        },
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          flush();
          setError(err);
          setState('error');
        },
      );
    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, environment, attempt]);

  useEffect(() => {
    const v = viewport.current;
    if (v && autoscroll) v.scrollTo({ top: v.scrollHeight });
  }, [lines, autoscroll]);

  return (
    <Box data-testid="live-logs" data-state={state}>
      <Group justify="space-between" mb="xs">
        <Group gap="xs">
          <Badge size="sm" radius="sm" tt="none" variant="dot" color={state === 'following' ? 'green' : state === 'error' ? 'red' : 'gray'}>
            {state === 'following' ? 'following' : state === 'connecting' ? 'connecting…' : state === 'ended' ? 'stream ended' : 'disconnected'}
          </Badge>
          <Text size="xs" c="dimmed">
            {lines.length} line{lines.length === 1 ? '' : 's'} (the last {TAIL}, then new ones)
          </Text>
        </Group>
        <Group gap="sm">
          <Checkbox size="xs" label="Autoscroll" checked={autoscroll} onChange={(e) => setAutoscroll(e.currentTarget.checked)} />
          <Button size="compact-xs" variant="default" onClick={() => setLines([])}>
            Clear
          </Button>
          {(state === 'ended' || state === 'error') && (
            <Button size="compact-xs" variant="light" onClick={() => setAttempt((n) => n + 1)}>
              Reconnect
            </Button>
          )}
        </Group>
      </Group>
      {state === 'error' && <ProblemAlert error={error} title="The log stream stopped" />}
      <ScrollArea h={320} viewportRef={viewport} type="auto" bg="dark.8" style={{ borderRadius: 'var(--mantine-radius-md)' }}>
        <Box role="log" aria-label={`Logs of ${environment}`} aria-live="off" p="xs" ff="monospace" fz="xs" c="gray.2" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {lines.length === 0 && (
            <Text size="xs" c="gray.5" ff="monospace">
              {state === 'connecting' ? 'Connecting…' : 'No log lines yet. Lines appear here as the processes write them.'}
            </Text>
          )}
          {lines.map((l, i) => {
            const n = l.deployment ? numbers.get(l.deployment) : undefined;
            return (
              <div key={i} data-stream={l.stream} data-type={l.type} className="pave-log-line">
                <span style={{ color: 'var(--mantine-color-gray-5)' }}>{time(l.ts)} </span>
                <span style={{ color: 'var(--mantine-color-cyan-4)' }} title={l.deployment ?? ''}>
                  {n !== undefined ? `#${n}` : l.deployment ? l.deployment.slice(0, 8) : ''}{' '}
                </span>
                <span style={{ color: 'var(--mantine-color-yellow-4)' }}>
                  {l.type ?? 'pave'}
                  {l.replica !== undefined ? `.${l.replica}` : ''}{' '}
                </span>
                <span style={{ color: l.stream === 'stdout' ? undefined : l.stream === 'stderr' ? 'var(--mantine-color-red-4)' : 'var(--mantine-color-blue-3)' }}>{l.line}</span>
              </div>
            );
          })}
        </Box>
      </ScrollArea>
    </Box>
  );
}
