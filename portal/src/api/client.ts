/**
 * A tiny typed client for Pave's HTTP API. Types come from the contracts the server validates with
 * (src/contracts); nothing here is re-declared. Every failure is an ApiError carrying the server's
 * problem+json body when there is one.
 */
import type { Me } from '../../../src/contracts/access.ts';
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

export type { Entity, EntityKind, Me, Page, Problem };

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

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  ifMatch?: string;
  signal?: AbortSignal;
}

function isProblem(x: unknown): x is Problem {
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

export function createApiClient({ token, onUnauthorized, baseUrl = '' }: ApiClientOptions) {
  async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers = new Headers({ accept: 'application/json, application/problem+json' });
    if (token) headers.set('authorization', `Bearer ${token}`);
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
  }

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

  return {
    me: (signal?: AbortSignal) => json<Me>('/api/v1/me', { signal }),
    listEntities: (query: EntityListParams = {}, signal?: AbortSignal) => json<Page<Entity>>('/api/v1/entities', { query, signal }),
    getEntity: (kind: EntityKind, namespace: string, name: string, signal?: AbortSignal) =>
      json<Entity>(`/api/v1/entities/${seg(kind)}/${seg(namespace)}/${seg(name)}`, { signal }),
    teams: collection<TeamCreate, TeamUpdate>('teams'),
    users: collection<UserCreate, UserUpdate>('users'),
    applications: collection<ApplicationCreate, ApplicationUpdate>('applications'),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** A message fit to show for any error: the problem's detail when the server sent one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
