/**
 * The deployments API of one application: builds, deployments, releases, rollbacks, promotions,
 * environment config, status and logs. Types come from src/contracts/deployments.ts. Long work
 * (builds, deploys, releases) is read as an NDJSON stream: progress events as they come, then the
 * result; live logs are an NDJSON stream that stays open until aborted.
 */
import { useMemo } from 'react';
import type { Problem } from '../../../src/contracts/common.ts';
import type { Build, Change, Config, ConfigUpdate, Deployment, DeploymentDiff, EnvironmentStatus, LogLine, Release } from '../../../src/contracts/deployments.ts';
import { ApiError, createSender, isProblem } from './client.ts';
import { useSession } from './session.tsx';

export type { Build, Change, Config, ConfigUpdate, Deployment, DeploymentDiff, EnvironmentStatus, LogLine, Release };
export type ProcessView = Deployment['processes'][number];
export interface ConfigVersion {
  version: number;
  change: string;
  createdBy: string;
  createdAt: string;
  changes: Change[];
}
/** A progress event of a deployment, release, rollback or promotion (src/deployments/service.ts). */
export interface DeploymentEvent {
  step: string;
  message: string;
}
export type BuildSource = { path: string } | { git: { url: string; ref: string } };
export interface DeployOptions {
  build?: number | string;
  release: boolean;
}

const NDJSON = 'application/x-ndjson';
const seg = encodeURIComponent;


const problemError = (p: Problem) => new ApiError(p.status, p.detail ?? p.title, p);

/** Reads NDJSON line by line, calling `onLine` with each parsed value; a trailing line without newline counts. */
export async function readNdjson(res: Response, onLine: (value: unknown) => void): Promise<void> {
  if (!res.body) throw new ApiError(res.status, 'The server sent no stream.', null);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const handle = (line: string) => {
    if (line.trim()) onLine(JSON.parse(line));
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        handle(line);
      }
    }
    handle(buffer);
  } finally {
    reader.releaseLock();
  }
}

/** Reads a `{"event"}… {"result"} | {"error"}` stream of long work; the promise resolves with the result. */
async function readWork<E, R>(res: Response, onEvent: (e: E) => void, what: string): Promise<R> {
  let result: { value: R } | null = null;
  await readNdjson(res, (msg) => {
    if (typeof msg !== 'object' || msg === null) return;
    if ('error' in msg && isProblem(msg.error)) throw problemError(msg.error);
    if ('result' in msg) result = { value: msg.result as R };
    else if ('event' in msg) onEvent(msg.event as E);
  });
  if (!result) throw new ApiError(0, `The progress stream ended before the ${what} finished. The page shows where it got to.`, null);
  return (result as { value: R }).value;
}

interface Options {
  token: string | null;
  onUnauthorized?: (e: ApiError) => void;
  baseUrl?: string;
}

interface Req {
  method?: 'GET' | 'POST' | 'PATCH';
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  stream?: boolean;
  signal?: AbortSignal | undefined;
}

export function createDeploymentsClient({ token, onUnauthorized, baseUrl = '' }: Options, namespace: string, application: string) {
  const base = `/api/v1/applications/${seg(application)}`;
  const envBase = (env: string) => `${base}/environments/${seg(env)}`;

  const sendOne = createSender({ token, onUnauthorized, baseUrl });
  const send = (path: string, r: Req = {}): Promise<Response> =>
    sendOne(path, {
      ...(r.method ? { method: r.method } : {}),
      ...(r.body !== undefined ? { body: r.body } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.stream ? { accept: `${NDJSON}, application/problem+json` } : {}),
      query: { namespace, ...r.query },
    });
  const json = async <T>(path: string, r?: Req): Promise<T> => (await send(path, r)).json() as Promise<T>;
  const work = async <E, R>(path: string, body: unknown, onEvent: (e: E) => void, what: string, signal?: AbortSignal): Promise<R> =>
    readWork<E, R>(await send(path, { method: 'POST', body, stream: true, signal }), onEvent, what);

  return {
    status: (signal?: AbortSignal) => json<{ items: EnvironmentStatus[] }>(`${base}/status`, { signal }),
    builds: (signal?: AbortSignal) => json<{ items: Build[] }>(`${base}/builds`, { signal }),
    /** Builds from a folder on the server's machine or a git repository, streaming the build log. */
    build: (source: BuildSource, onLine: (l: LogLine) => void, signal?: AbortSignal) => work<LogLine, Build>(`${base}/builds`, source, onLine, 'build', signal),
    deployments: (env: string, signal?: AbortSignal) => json<{ items: Deployment[] }>(`${envBase(env)}/deployments`, { signal }),
    deploy: (env: string, opts: DeployOptions, onEvent: (e: DeploymentEvent) => void, signal?: AbortSignal) =>
      work<DeploymentEvent, Deployment>(`${envBase(env)}/deployments`, { release: opts.release, ...(opts.build !== undefined ? { build: opts.build } : {}) }, onEvent, 'deployment', signal),
    release: (env: string, deployment: number | string, onEvent: (e: DeploymentEvent) => void, signal?: AbortSignal) =>
      work<DeploymentEvent, Release>(`${envBase(env)}/release`, { deployment }, onEvent, 'release', signal),
    rollback: (env: string, to: number | string | undefined, onEvent: (e: DeploymentEvent) => void, signal?: AbortSignal) =>
      work<DeploymentEvent, Release>(`${envBase(env)}/rollback`, to === undefined ? {} : { to }, onEvent, 'rollback', signal),
    promote: (from: string, to: string, release: boolean, onEvent: (e: DeploymentEvent) => void, signal?: AbortSignal) =>
      work<DeploymentEvent, Deployment>(`${base}/promote`, { from, to, release }, onEvent, 'promotion', signal),
    /** What changed from one deployment to another; addresses are `<env>/<number>`. */
    diff: (from: string, to: string, signal?: AbortSignal) => json<DeploymentDiff>(`${base}/deployments/diff`, { query: { from, to }, signal }),
    config: (env: string, signal?: AbortSignal) => json<Config>(`${envBase(env)}/config`, { signal }),
    updateConfig: (env: string, body: ConfigUpdate) => json<Config>(`${envBase(env)}/config`, { method: 'PATCH', body }),
    configHistory: (env: string, signal?: AbortSignal) => json<{ items: ConfigVersion[] }>(`${envBase(env)}/config/history`, { signal }),
    /**
     * The environment's logs: the last `tail` lines, then (following) new ones as they come, until
     * `signal` aborts. `onOpen` is called once the server has answered. Resolves when the server ends the stream.
     */
    logs: async (env: string, opts: { tail: number; follow: boolean; onOpen?: () => void }, onLine: (l: LogLine) => void, signal: AbortSignal): Promise<void> => {
      const res = await send(`${envBase(env)}/logs`, { query: { tail: opts.tail, follow: String(opts.follow) }, stream: true, signal });
      opts.onOpen?.();
      await readNdjson(res, (msg) => {
        if (typeof msg !== 'object' || msg === null) return;
        if ('error' in msg && isProblem(msg.error)) throw problemError(msg.error);
        onLine(msg as LogLine);
      });
    },
  };
}

export type DeploymentsClient = ReturnType<typeof createDeploymentsClient>;

/** The deployments client of one application, with the session's token; a 401 ends the session. */
export function useDeploymentsApi(namespace: string, application: string): DeploymentsClient {
  const { token, signOut } = useSession();
  return useMemo(() => createDeploymentsClient({ token, onUnauthorized: signOut }, namespace, application), [token, signOut, namespace, application]);
}
