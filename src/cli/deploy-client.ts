import type { z } from 'zod';
import type { Problem } from '../contracts/common.ts';
import type {
  Build,
  Change,
  Config,
  ConfigHistorySchema,
  ConfigUpdate,
  Deployment,
  DeploymentDiff,
  EnvironmentStatus,
  LogLine,
  Release,
  ReleaseHistorySchema,
} from '../contracts/deployments.ts';
import type { GoldenPath } from '../contracts/golden.ts';
import { VERSION } from '../version.ts';
import { ApiError, NetworkError, PaveClient } from './client.ts';
import type { Connection } from './config.ts';
import { ndjson, type AppRef, type EnvironmentCreate } from './golden-client.ts';

/**
 * The deployments half of the API, typed: builds and artifacts, environment config, deployments,
 * releases, rollbacks, promotions, status and logs. Long work (builds, deployments, releases, creating
 * an environment) asks for NDJSON progress (`Accept: application/x-ndjson`); a server that answers
 * with plain JSON works too, without live progress. Source archives are uploaded as
 * `application/gzip`, which the JSON client does not send, so this client keeps the token for that.
 */

export type { Build, Change, Config, Deployment, DeploymentDiff, EnvironmentStatus, LogLine, Release };
export type ConfigHistory = z.infer<typeof ConfigHistorySchema>;
export type ReleaseHistory = z.infer<typeof ReleaseHistorySchema>;

/** A progress event of a deployment, release, rollback, promotion or environment creation. */
export interface DeployEvent {
  step: string;
  message: string;
}

/** A build or deployment named by its number or its id. */
export type Selector = number | string;

export interface BuildSource {
  /** a source folder on the server's machine */
  path?: string;
  git?: { url: string; ref?: string };
}

export interface DeployOptions {
  build?: Selector;
  release?: boolean;
  timeoutSeconds?: number;
}

export interface LogsQuery {
  follow?: boolean;
  tail?: number;
  deployment?: Selector;
}

const NDJSON = 'application/x-ndjson';
const STREAM_ACCEPT = `${NDJSON}, application/json, application/problem+json`;
/** Builds run npm ci and the build script; deployments wait for health checks the server bounds. */
const LONG_TIMEOUT_MS = 30 * 60_000;
/** Following logs has no end; AbortSignal.timeout takes at most 2^31-1 ms (about 24 days). */
const FOREVER_MS = 2 ** 31 - 1;

const enc = encodeURIComponent;

export class DeployClient {
  readonly api: PaveClient;
  readonly #token: string;

  constructor(conn: Connection) {
    this.api = new PaveClient(conn.url, conn.token);
    this.#token = conn.token;
  }

  // ---- builds and artifacts -------------------------------------------------------------------

  /** Builds from a folder on the server's machine or a git repository, streaming the build log. */
  build(app: AppRef, source: BuildSource, onLine: (l: LogLine, live: boolean) => void = () => {}): Promise<Build> {
    return this.streamed('POST', `${base(app)}/builds`, app, { body: source }, onLine);
  }

  /** Builds from a gzipped tar of the source folder, streaming the build log. */
  buildArchive(app: AppRef, archive: Uint8Array, onLine: (l: LogLine, live: boolean) => void = () => {}): Promise<Build> {
    return this.streamed('POST', `${base(app)}/builds/archive`, app, { archive }, onLine);
  }

  builds(app: AppRef): Promise<{ items: Build[] }> {
    return this.api.json('GET', `${base(app)}/builds`, { query: { namespace: app.namespace } });
  }

  getBuild(app: AppRef, build: Selector): Promise<Build> {
    return this.api.json('GET', `${base(app)}/builds/${enc(String(build))}`, { query: { namespace: app.namespace } });
  }

  /** The log of a build; with follow, until the build ends. */
  buildLogs(app: AppRef, build: Selector, follow: boolean, onLine: (l: LogLine) => void): Promise<void> {
    return this.lines(`${base(app)}/builds/${enc(String(build))}/logs`, { namespace: app.namespace, follow: follow ? 'true' : undefined }, follow, onLine);
  }

  /** Registers an image built by CI, pinned by digest. */
  registerImage(app: AppRef, image: string, processes?: Record<string, string>): Promise<Build> {
    return this.api.json('POST', `${base(app)}/artifacts`, { query: { namespace: app.namespace }, body: { image, ...(processes ? { processes } : {}) }, timeoutMs: LONG_TIMEOUT_MS });
  }

  /** Registers an archive that is already built (a Procfile or a package.json start script inside). */
  async registerArchive(app: AppRef, archive: Uint8Array): Promise<Build> {
    const res = await this.upload(`${base(app)}/artifacts/archive`, { namespace: app.namespace }, archive, 'application/json, application/problem+json');
    return (await res.json()) as Build;
  }

  // ---- environments ---------------------------------------------------------------------------

  /** Creates an environment (cloned from another with `from`); the server provisions it, with progress. */
  createEnvironment(app: AppRef, env: EnvironmentCreate, onEvent: (e: DeployEvent, live: boolean) => void = () => {}): Promise<GoldenPath> {
    return this.streamed('POST', `${base(app)}/environments`, app, { body: env }, onEvent);
  }

  // ---- config ---------------------------------------------------------------------------------

  config(app: AppRef, env: string, reveal = false): Promise<Config> {
    return this.api.json('GET', `${envBase(app, env)}/config`, { query: { namespace: app.namespace, reveal: reveal ? 'true' : undefined } });
  }

  updateConfig(app: AppRef, env: string, update: ConfigUpdate): Promise<Config> {
    return this.api.json('PATCH', `${envBase(app, env)}/config`, { query: { namespace: app.namespace }, body: update });
  }

  configHistory(app: AppRef, env: string): Promise<ConfigHistory> {
    return this.api.json('GET', `${envBase(app, env)}/config/history`, { query: { namespace: app.namespace } });
  }

  // ---- deployments and releases ---------------------------------------------------------------

  deploy(app: AppRef, env: string, opts: DeployOptions, onEvent: (e: DeployEvent, live: boolean) => void = () => {}): Promise<Deployment> {
    return this.streamed('POST', `${envBase(app, env)}/deployments`, app, { body: opts }, onEvent);
  }

  deployments(app: AppRef, env: string): Promise<{ items: Deployment[] }> {
    return this.api.json('GET', `${envBase(app, env)}/deployments`, { query: { namespace: app.namespace } });
  }

  deployment(app: AppRef, env: string, deployment: Selector): Promise<Deployment> {
    return this.api.json('GET', `${envBase(app, env)}/deployments/${enc(String(deployment))}`, { query: { namespace: app.namespace } });
  }

  release(app: AppRef, env: string, deployment: Selector, onEvent: (e: DeployEvent, live: boolean) => void = () => {}): Promise<Release> {
    return this.streamed('POST', `${envBase(app, env)}/release`, app, { body: { deployment } }, onEvent);
  }

  rollback(app: AppRef, env: string, to: Selector | undefined, onEvent: (e: DeployEvent, live: boolean) => void = () => {}): Promise<Release> {
    return this.streamed('POST', `${envBase(app, env)}/rollback`, app, { body: to === undefined ? {} : { to } }, onEvent);
  }

  releases(app: AppRef, env: string): Promise<ReleaseHistory> {
    return this.api.json('GET', `${envBase(app, env)}/releases`, { query: { namespace: app.namespace } });
  }

  promote(app: AppRef, req: { from: string; to: string; release?: boolean; timeoutSeconds?: number }, onEvent: (e: DeployEvent, live: boolean) => void = () => {}): Promise<Deployment> {
    return this.streamed('POST', `${base(app)}/promote`, app, { body: req }, onEvent);
  }

  /** What changed between two deployments, each `<env>/<number or id>`. */
  diff(app: AppRef, from: string, to: string): Promise<DeploymentDiff> {
    return this.api.json('GET', `${base(app)}/deployments/diff`, { query: { namespace: app.namespace, from, to } });
  }

  // ---- status and logs ------------------------------------------------------------------------

  statuses(app: AppRef): Promise<{ items: EnvironmentStatus[] }> {
    return this.api.json('GET', `${base(app)}/status`, { query: { namespace: app.namespace } });
  }

  status(app: AppRef, env: string): Promise<EnvironmentStatus> {
    return this.api.json('GET', `${envBase(app, env)}/status`, { query: { namespace: app.namespace } });
  }

  /** Log lines of an environment's running deployments (or one); with follow, until the connection ends. */
  logs(app: AppRef, env: string, q: LogsQuery, onLine: (l: LogLine) => void): Promise<void> {
    const query = { namespace: app.namespace, follow: q.follow ? 'true' : undefined, tail: q.tail, deployment: q.deployment === undefined ? undefined : String(q.deployment) };
    return this.lines(`${envBase(app, env)}/logs`, query, q.follow === true, onLine);
  }

  // ---- transport ------------------------------------------------------------------------------

  /** An NDJSON stream of log lines; an `{"error": problem}` line (the stream failed) is thrown. */
  private async lines(path: string, query: Record<string, string | number | undefined>, follow: boolean, onLine: (l: LogLine) => void): Promise<void> {
    const res = await this.api.send('GET', path, { query, headers: { accept: `${NDJSON}, application/problem+json` }, timeoutMs: follow ? FOREVER_MS : LONG_TIMEOUT_MS });
    if (!res.body) return;
    for await (const msg of ndjson(res.body)) {
      const m = msg as LogLine & { error?: Partial<Problem> };
      if (m.error) throw new ApiError(m.error.status ?? 500, res.url, m.error);
      onLine(m);
    }
  }

  /**
   * Long work that reports progress: `{"event": …}` lines, then `{"result": …}` or `{"error": problem}`.
   * A server that answers with plain JSON gives the result without events.
   */
  private async streamed<E, R>(method: string, path: string, app: AppRef, payload: { body: unknown } | { archive: Uint8Array }, onEvent: (e: E, live: boolean) => void): Promise<R> {
    const query = { namespace: app.namespace };
    const res =
      'archive' in payload
        ? await this.upload(path, query, payload.archive, STREAM_ACCEPT)
        : await this.api.send(method, path, { query, body: payload.body, headers: { accept: STREAM_ACCEPT }, timeoutMs: LONG_TIMEOUT_MS });
    if (!(res.headers.get('content-type') ?? '').includes(NDJSON) || !res.body) return (await res.json()) as R;
    for await (const line of ndjson(res.body)) {
      const msg = line as { event?: E; result?: R; error?: Partial<Problem> };
      if (msg.event !== undefined) onEvent(msg.event, true);
      else if (msg.result !== undefined) return msg.result;
      else if (msg.error) throw new ApiError(msg.error.status ?? 500, res.url, msg.error);
    }
    throw new ApiError(502, res.url, { detail: 'the progress stream ended without a result; the work may still have finished: check with "pave status" or "pave builds list"' });
  }

  /** POSTs a gzipped tar; the JSON client only sends JSON bodies. Errors as PaveClient.send reports them. */
  private async upload(path: string, query: Record<string, string>, archive: Uint8Array, accept: string): Promise<Response> {
    const url = this.api.url(path, query);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, accept, 'content-type': 'application/gzip', 'user-agent': `pave-cli/${VERSION}` },
        body: archive,
        signal: AbortSignal.timeout(LONG_TIMEOUT_MS),
      });
    } catch (err) {
      throw new NetworkError(url, err);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let problem: Partial<Problem> | null = null;
    if ((res.headers.get('content-type') ?? '').includes('json')) {
      try {
        problem = JSON.parse(text) as Partial<Problem>;
      } catch {
        // not the JSON it claims to be
      }
    }
    const snippet = text.trim().slice(0, 200);
    throw new ApiError(res.status, url, problem ?? { detail: `HTTP ${res.status} ${res.statusText} from ${url}${snippet ? `: ${snippet}` : ''}` });
  }
}

const base = (app: AppRef) => `/api/v1/applications/${enc(app.name)}`;
const envBase = (app: AppRef, env: string) => `${base(app)}/environments/${enc(env)}`;
