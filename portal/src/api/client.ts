/**
 * A tiny typed client for Pave's HTTP API. Types come from the contracts the server validates with
 * (src/contracts); nothing here is re-declared. Every failure is an ApiError carrying the server's
 * problem+json body when there is one.
 */
import type { Me } from '../../../src/contracts/access.ts';
import type { AuthProviders, LoginResult } from '../../../src/contracts/auth.ts';
import type {
  ApplicationCreate,
  ApplicationUpdate,
  Entity,
  EntityKind,
  EntityListQuery,
  TeamCreate,
  TeamUpdate,
  UserCreate,
  UserUpdate,
} from '../../../src/contracts/catalog.ts';
import type { Page, Problem } from '../../../src/contracts/common.ts';
import type {
  AddOnRequestSchema,
  ApplyResultView,
  ENVIRONMENT_TYPES,
  EnvironmentCreateSchema,
  GoldenPath,
  PatternSummary,
  PlanView,
  Resource,
  ResourceEventView,
} from '../../../src/contracts/golden.ts';
import type { z } from 'zod';

export type { AuthProviders, Entity, EntityKind, LoginResult, Me, Page, Problem };
export type { ApplyResultView, GoldenPath, PatternSummary, PlanView, Resource, ResourceEventView };
/** One typed input of a template or add-on, as the server describes it for forms. */
export type InputField = PatternSummary['fields'][number];
export type PlanItem = PlanView['items'][number];
export type ResourceStatus = Resource['status'];
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];
export type AddOnAttach = z.input<typeof AddOnRequestSchema>;
export type EnvironmentCreate = z.input<typeof EnvironmentCreateSchema>;
import type { PlatformStatus, TeamProfileView as TeamProfile } from '../../../src/contracts/golden.ts';
export type { PlatformStatus, TeamProfile };

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, message: string, problem: Problem | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** List filters; `limit` is optional here because the server defaults it. */
export type EntityListParams = Partial<Omit<EntityListQuery, 'kind'>> & { kind?: EntityKind };
type KindListParams = Omit<EntityListParams, 'kind'>;

/** An entity with the ETag to send back as If-Match when changing it. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  accept?: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  ifMatch?: string;
  signal?: AbortSignal;
}

export function isProblem(x: unknown): x is Problem {
  return typeof x === 'object' && x !== null && 'title' in x && typeof x.title === 'string' && 'status' in x && typeof x.status === 'number';
}

function queryString(query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

const seg = encodeURIComponent;

export interface ApiClientOptions {
  token: string | null;
  /** Called when the server answers 401 (token unknown, expired or revoked). */
  onUnauthorized?: (error: ApiError) => void;
  baseUrl?: string;
}

/**
 * The CSRF token of the portal's cookie session (the server's readable CSRF cookie; `__Host-` over
 * https), or null. Every change made with the session cookie repeats it in X-CSRF-Token.
 */
export function csrfToken(cookies: string = (globalThis as { document?: { cookie?: string } }).document?.cookie ?? ''): string | null {
  for (const part of cookies.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === '__Host-pave_csrf' || name === 'pave_csrf') return decodeURIComponent(rest.join('=')) || null;
  }
  return null;
}

/**
 * One authenticated request: problem+json errors become ApiErrors, and a 401 signs the user out. With
 * a token it sends it as a bearer token; without, the session cookie goes along and changes carry the
 * CSRF header. Shared by every client of the portal.
 */
export function createSender({ token, onUnauthorized, baseUrl = '' }: ApiClientOptions) {
  return async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers = new Headers({ accept: opts.accept ?? 'application/json, application/problem+json' });
    if (token) headers.set('authorization', `Bearer ${token}`);
    else if ((opts.method ?? 'GET') !== 'GET') {
      const csrf = csrfToken();
      if (csrf) headers.set('x-csrf-token', csrf);
    }
    if (opts.ifMatch) headers.set('if-match', opts.ifMatch);
    if (opts.body !== undefined) headers.set('content-type', 'application/json');
    let res: Response;
    try {
      res = await fetch(baseUrl + path + queryString(opts.query), {
        method: opts.method ?? 'GET',
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: opts.signal ?? null,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'The Pave server could not be reached. Check your connection and try again.', null);
    }
    if (!res.ok) {
      const body: unknown = await res.json().catch(() => null);
      const problem = isProblem(body) ? body : null;
      const error = new ApiError(res.status, problem?.detail ?? problem?.title ?? `${res.status} ${res.statusText}`, problem);
      if (res.status === 401) onUnauthorized?.(error);
      throw error;
    }
    return res;
  };
}

export function createApiClient(options: ApiClientOptions) {
  const send = createSender(options);
  async function json<T>(path: string, opts?: RequestOptions): Promise<T> {
    return (await send(path, opts)).json() as Promise<T>;
  }

  async function versioned<T>(path: string, opts?: RequestOptions): Promise<Versioned<T>> {
    const res = await send(path, opts);
    return { value: (await res.json()) as T, etag: res.headers.get('etag') ?? '' };
  }

  /** list / get / create / update / remove for one of the kind-specific collections. */
  function collection<Create, Update>(plural: 'teams' | 'users' | 'applications') {
    const base = `/api/v1/${plural}`;
    return {
      list: (query: KindListParams = {}, signal?: AbortSignal) => json<Page<Entity>>(base, { query, signal }),
      get: (namespace: string, name: string, signal?: AbortSignal) => versioned<Entity>(`${base}/${seg(name)}`, { query: { namespace }, signal }),
      create: (body: Create) => versioned<Entity>(base, { method: 'POST', body }),
      update: (namespace: string, name: string, etag: string, body: Update) =>
        versioned<Entity>(`${base}/${seg(name)}`, { method: 'PATCH', query: { namespace }, body, ifMatch: etag }),
      remove: async (namespace: string, name: string, etag?: string) => {
        await send(`${base}/${seg(name)}`, { method: 'DELETE', query: { namespace }, ...(etag ? { ifMatch: etag } : {}) });
      },
    };
  }

  /** Golden-path routes of one application: add-ons, environments, resources, plan and apply. */
  function golden(namespace: string, name: string) {
    const base = `/api/v1/applications/${seg(name)}`;
    const query = { namespace };
    const envBase = (env: string) => `${base}/environments/${seg(env)}`;
    return {
      get: (signal?: AbortSignal) => json<GoldenPath>(`${base}/golden-path`, { query, signal }),
      attachAddon: (body: AddOnAttach) => json<GoldenPath>(`${base}/addons`, { method: 'POST', query, body }),
      detachAddon: (addon: string) => json<GoldenPath>(`${base}/addons/${seg(addon)}`, { method: 'DELETE', query }),
      createEnvironment: (body: EnvironmentCreate) => json<GoldenPath>(`${base}/environments`, { method: 'POST', query, body }),
      deleteEnvironment: (env: string) => json<ApplyResultView>(envBase(env), { method: 'DELETE', query }),
      resources: (env: string, signal?: AbortSignal) => json<{ items: Resource[] }>(`${envBase(env)}/resources`, { query, signal }),
      plan: (env: string, signal?: AbortSignal) => json<PlanView>(`${envBase(env)}/plan`, { method: 'POST', query, signal }),
      /**
       * Applies the environment, streaming progress: `onEvent` gets each resource event as the server
       * sends it (NDJSON lines), and the promise resolves with the final result.
       */
      apply: async (env: string, onEvent: (e: ResourceEventView) => void, signal?: AbortSignal): Promise<ApplyResultView> => {
        const res = await send(`${envBase(env)}/apply`, { method: 'POST', query, signal, accept: 'application/x-ndjson, application/problem+json' });
        return readApplyStream(res, onEvent);
      },
    };
  }

  return {
    me: (signal?: AbortSignal) => json<Me>('/api/v1/me', { signal }),
    /** Which sign-in methods the server offers (public). */
    providers: (signal?: AbortSignal) => json<AuthProviders>('/api/v1/auth/providers', { signal }),
    /** Password sign-in: the server sets the session cookies. */
    passwordLogin: (user: string, password: string) => json<LoginResult>('/api/v1/auth/password/login', { method: 'POST', body: { user, password } }),
    /** Ends the cookie session (and clears its cookies). */
    logout: async () => {
      await send('/api/v1/auth/logout', { method: 'POST' });
    },
    listEntities: (query: EntityListParams = {}, signal?: AbortSignal) => json<Page<Entity>>('/api/v1/entities', { query, signal }),
    getEntity: (kind: EntityKind, namespace: string, name: string, signal?: AbortSignal) =>
      json<Entity>(`/api/v1/entities/${seg(kind)}/${seg(namespace)}/${seg(name)}`, { signal }),
    teams: collection<TeamCreate, TeamUpdate>('teams'),
    users: collection<UserCreate, UserUpdate>('users'),
    applications: collection<ApplicationCreate, ApplicationUpdate>('applications'),
    golden,
    templates: {
      list: (signal?: AbortSignal) => json<{ items: PatternSummary[] }>('/api/v1/platform/templates', { signal }),
      get: (name: string, signal?: AbortSignal) => json<PatternSummary>(`/api/v1/platform/templates/${seg(name)}`, { signal }),
    },
    addons: {
      list: (signal?: AbortSignal) => json<{ items: PatternSummary[] }>('/api/v1/platform/addons', { signal }),
      get: (name: string, signal?: AbortSignal) => json<PatternSummary>(`/api/v1/platform/addons/${seg(name)}`, { signal }),
    },
    platformStatus: (signal?: AbortSignal) => json<PlatformStatus>('/api/v1/platform/status', { signal }),
    teamProfile: (team: string, signal?: AbortSignal) => json<TeamProfile>(`/api/v1/teams/${seg(team)}/profile`, { signal }),
  };
}

type StreamLine = { event: ResourceEventView } | { result: ApplyResultView } | { error: Problem };

/** Reads an NDJSON apply stream line by line; a `{"error": problem}` line becomes an ApiError. */
async function readApplyStream(res: Response, onEvent: (e: ResourceEventView) => void): Promise<ApplyResultView> {
  if (!res.body) throw new ApiError(res.status, 'The server sent no progress stream.', null);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let result: ApplyResultView | null = null;
  const handle = (line: string): ApplyResultView | null => {
    if (!line.trim()) return null;
    const msg = JSON.parse(line) as StreamLine;
    if ('error' in msg) throw new ApiError(msg.error.status, msg.error.detail ?? msg.error.title, msg.error);
    if ('result' in msg) return msg.result;
    onEvent(msg.event);
    return null;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      result = handle(buffer.slice(0, nl)) ?? result;
      buffer = buffer.slice(nl + 1);
    }
  }
  result = handle(buffer) ?? result;
  if (!result) throw new ApiError(0, 'The progress stream ended before the apply finished. Refresh to see where it got to.', null);
  return result;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** A message fit to show for any error: the problem's detail when the server sent one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
