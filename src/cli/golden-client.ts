import type { z } from 'zod';
import type { Me } from '../contracts/access.ts';
import type { ApplicationCreate, Entity } from '../contracts/catalog.ts';
import type { Problem } from '../contracts/common.ts';
import type {
  AddOnRequestSchema,
  ApplyResultView,
  Drift,
  EnvironmentCreateSchema,
  EnvironmentSchema,
  GoldenPath,
  PatternSummary,
  PlanView,
  PlatformObjectViewSchema,
  PlatformSecretSchema,
  Resource,
  ResourceEventView,
  SyncReportView,
  Variables,
} from '../contracts/golden.ts';
import { ApiError, type PaveClient } from './client.ts';

/**
 * The golden-path half of the API, typed: the platform (templates, add-ons, objects, secrets, sync),
 * applications made from templates, their add-ons, environments and resources. Apply streams its
 * progress as NDJSON (`Accept: application/x-ndjson`).
 */

export type Environment = z.infer<typeof EnvironmentSchema>;
export type EnvironmentCreate = z.input<typeof EnvironmentCreateSchema>;
export type AddOnRequest = z.input<typeof AddOnRequestSchema>;
export type PlatformObject = z.infer<typeof PlatformObjectViewSchema>;
export type PlatformSecret = z.infer<typeof PlatformSecretSchema>;
export type PatternKind = 'templates' | 'addons';
export type PlatformObjectKind = 'ResourceType' | 'ResourceDefinition' | 'TeamProfile';

/** GET /api/v1/platform/status. */
export interface PlatformStatus {
  source: string;
  lastSync: { source: string; revision: string | null; finishedAt: string | null; loaded: number; published: number; errors: unknown[] } | null;
}

/** GET /api/v1/teams/:name/profile: the team's defaults per environment type. */
export interface EnvironmentDefaults {
  runtime?: string;
  region?: string;
  replicas?: number;
  cpu?: string;
  memory?: string;
  port?: number;
  healthPath?: string;
  registry?: string;
  [key: string]: unknown;
}
export interface TeamProfile {
  team: string;
  profiles: string[];
  defaultTemplate: string | null;
  environments: Record<string, EnvironmentDefaults>;
}

/** A progress event; `live` is false when a server without streaming reports them all at the end. */
export type OnEvent = (e: ResourceEventView, live: boolean) => void;

/** An application and the namespace it lives in. */
export interface AppRef {
  name: string;
  namespace: string;
}

const NDJSON = 'application/x-ndjson';
/** Provisioning a real database can take a while; the server bounds each driver call itself. */
const LONG_TIMEOUT_MS = 30 * 60_000;

const enc = encodeURIComponent;

export class GoldenClient {
  readonly api: PaveClient;
  constructor(api: PaveClient) {
    this.api = api;
  }

  // ---- platform -------------------------------------------------------------------------------

  sync(): Promise<SyncReportView> {
    return this.api.json('POST', '/api/v1/platform/sync', { timeoutMs: LONG_TIMEOUT_MS });
  }

  status(): Promise<PlatformStatus> {
    return this.api.json('GET', '/api/v1/platform/status');
  }

  patterns(kind: PatternKind): Promise<{ items: PatternSummary[] }> {
    return this.api.json('GET', `/api/v1/platform/${kind}`);
  }

  pattern(kind: PatternKind, name: string, version?: string): Promise<PatternSummary> {
    return this.api.json('GET', `/api/v1/platform/${kind}/${enc(name)}`, { query: { version } });
  }

  objects(kind: PlatformObjectKind): Promise<{ items: PlatformObject[] }> {
    return this.api.json('GET', '/api/v1/platform/objects', { query: { kind } });
  }

  secrets(): Promise<{ items: PlatformSecret[] }> {
    return this.api.json('GET', '/api/v1/platform/secrets');
  }

  async setSecret(name: string, value: string): Promise<void> {
    await this.api.send('PUT', `/api/v1/platform/secrets/${enc(name)}`, { body: { value } });
  }

  async deleteSecret(name: string): Promise<void> {
    await this.api.send('DELETE', `/api/v1/platform/secrets/${enc(name)}`);
  }

  me(): Promise<Me> {
    return this.api.me();
  }

  profile(team: string): Promise<TeamProfile> {
    return this.api.json('GET', `/api/v1/teams/${enc(team)}/profile`);
  }

  // ---- applications ---------------------------------------------------------------------------

  createApplication(body: ApplicationCreate): Promise<Entity> {
    return this.api.json('POST', '/api/v1/applications', { body });
  }

  async deleteApplication(app: AppRef): Promise<void> {
    await this.api.send('DELETE', `/api/v1/applications/${enc(app.name)}`, { query: { namespace: app.namespace }, timeoutMs: LONG_TIMEOUT_MS });
  }

  goldenPath(app: AppRef): Promise<GoldenPath> {
    return this.api.json('GET', `${base(app)}/golden-path`, { query: { namespace: app.namespace } });
  }

  addAddon(app: AppRef, req: AddOnRequest): Promise<GoldenPath> {
    return this.api.json('POST', `${base(app)}/addons`, { query: { namespace: app.namespace }, body: req });
  }

  removeAddon(app: AppRef, name: string): Promise<GoldenPath> {
    return this.api.json('DELETE', `${base(app)}/addons/${enc(name)}`, { query: { namespace: app.namespace } });
  }

  environments(app: AppRef): Promise<{ items: Environment[] }> {
    return this.api.json('GET', `${base(app)}/environments`, { query: { namespace: app.namespace } });
  }

  createEnvironment(app: AppRef, env: EnvironmentCreate): Promise<GoldenPath> {
    return this.api.json('POST', `${base(app)}/environments`, { query: { namespace: app.namespace }, body: env });
  }

  /**
   * Deletes the environment's resources, then the environment; a 409 ApiError when a resource could not
   * be deleted. Asks for a stream of progress like apply (a server that answers with JSON works too).
   */
  deleteEnvironment(app: AppRef, env: string, onEvent?: OnEvent): Promise<ApplyResultView> {
    return this.streamed('DELETE', `${base(app)}/environments/${enc(env)}`, app, onEvent);
  }

  resources(app: AppRef, env: string, reveal = false): Promise<{ items: Resource[] }> {
    return this.api.json('GET', `${base(app)}/environments/${enc(env)}/resources`, { query: { namespace: app.namespace, reveal: reveal ? 'true' : undefined } });
  }

  plan(app: AppRef, env: string): Promise<PlanView> {
    return this.api.json('POST', `${base(app)}/environments/${enc(env)}/plan`, { query: { namespace: app.namespace }, timeoutMs: LONG_TIMEOUT_MS });
  }

  /**
   * Applies an environment, calling `onEvent` for each progress event as it arrives. A server that
   * answers with plain JSON instead of a stream still works: its events are replayed at the end.
   */
  apply(app: AppRef, env: string, onEvent?: OnEvent, opts: { refresh?: boolean } = {}): Promise<ApplyResultView> {
    return this.streamed('POST', `${base(app)}/environments/${enc(env)}/apply`, app, onEvent, opts.refresh ? { refresh: 'true' } : {});
  }

  variables(app: AppRef, env: string, reveal = false): Promise<Variables> {
    return this.api.json('GET', `${base(app)}/environments/${enc(env)}/variables`, { query: { namespace: app.namespace, reveal: reveal ? 'true' : undefined } });
  }

  /** Resource work that reports progress: NDJSON events then a result, or plain JSON whose events are replayed. */
  private async streamed(method: string, path: string, app: AppRef, onEvent: OnEvent = () => {}, query: Record<string, string> = {}): Promise<ApplyResultView> {
    const res = await this.api.send(method, path, {
      query: { namespace: app.namespace, ...query },
      headers: { accept: `${NDJSON}, application/json, application/problem+json` },
      timeoutMs: LONG_TIMEOUT_MS,
    });
    if (!(res.headers.get('content-type') ?? '').includes(NDJSON) || !res.body) {
      const result = (await res.json()) as ApplyResultView;
      for (const e of result.events) onEvent(e, false);
      return result;
    }
    for await (const line of ndjson(res.body)) {
      const msg = line as { event?: ResourceEventView; result?: ApplyResultView; error?: Partial<Problem> };
      if (msg.event) onEvent(msg.event, true);
      else if (msg.result) return msg.result;
      else if (msg.error) throw new ApiError(msg.error.status ?? 500, res.url, msg.error);
    }
    throw new ApiError(502, res.url, { detail: 'the progress stream ended without a result; see "pave resources list" for the state it reached' });
  }

  drift(query: { application?: string; environment?: string }): Promise<Drift> {
    return this.api.json('GET', '/api/v1/resources/drift', { query, timeoutMs: LONG_TIMEOUT_MS });
  }
}

const base = (app: AppRef) => `/api/v1/applications/${enc(app.name)}`;

/** Newline-delimited JSON: one parsed value per non-empty line. */
export async function* ndjson(body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (line) yield JSON.parse(line) as unknown;
    }
  }
  buffer += decoder.decode();
  if (buffer.trim()) yield JSON.parse(buffer) as unknown;
}
