import type { CreatedTokenSchema, Me, Token } from '../contracts/access.ts';
import type {
  ApplicationCreate,
  ApplicationUpdate,
  Entity,
  EntityKind,
  EntityListQuery,
  ImportRequest,
  ImportResult,
  TeamCreate,
  TeamUpdate,
  UserCreate,
  UserUpdate,
} from '../contracts/catalog.ts';
import type { FieldError, Page, Problem } from '../contracts/common.ts';
import type { z } from 'zod';
import { VERSION } from '../version.ts';

/** A typed client for the Pave HTTP API (fetch-based; shares its types with the server via src/contracts). */

export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

/** The API answered with an error: its status, problem detail and field errors. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly url: string;
  constructor(status: number, url: string, problem: Partial<Problem>) {
    const detail = problem.detail ?? problem.title ?? `HTTP ${status}`;
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.type = problem.type ?? 'about:blank';
    this.detail = detail;
    this.errors = problem.errors ?? [];
    this.url = url;
  }
}

/** The server could not be reached (connection refused, DNS, TLS, timeout). */
export class NetworkError extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`cannot reach the Pave server at ${url}: ${describeCause(cause)}`);
    this.name = 'NetworkError';
    this.url = url;
  }
}

function describeCause(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'the request timed out';
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}

/** Writable kinds, by the plural the API uses in its paths. */
export interface KindBodies {
  teams: { create: TeamCreate; update: TeamUpdate };
  users: { create: UserCreate; update: UserUpdate };
  applications: { create: ApplicationCreate; update: ApplicationUpdate };
}
export type KindPath = keyof KindBodies;

export type ListQuery = Partial<Omit<EntityListQuery, 'kind'>> & { kind?: EntityKind | EntityKind[] };
export type ExportQuery = { kind?: EntityKind[]; namespace?: string; owner?: string };

type QueryValue = string | number | boolean | string[] | undefined;

interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export class PaveClient {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  url(path: string, query: Record<string, QueryValue> = {}): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(one));
    }
    return u.toString();
  }

  /** Sends a request; returns the response when it is 2xx, throws ApiError or NetworkError otherwise. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: 'application/json, application/problem+json',
      'user-agent': `pave-cli/${VERSION}`,
      ...opts.headers,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch (err) {
      throw new NetworkError(url, err);
    }
    if (!res.ok) throw await toApiError(res, url);
    return res;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  me(): Promise<Me> {
    return this.json('GET', '/api/v1/me');
  }

  list(kind: KindPath, query: ListQuery = {}): Promise<Page<Entity>> {
    return this.json('GET', `/api/v1/${kind}`, { query: { ...query, kind: undefined } });
  }

  listEntities(query: ListQuery = {}): Promise<Page<Entity>> {
    return this.json('GET', '/api/v1/entities', { query });
  }

  get(kind: KindPath, name: string, namespace = 'default'): Promise<Entity> {
    return this.json('GET', `/api/v1/${kind}/${encodeURIComponent(name)}`, { query: { namespace } });
  }

  getEntity(kind: string, namespace: string, name: string): Promise<Entity> {
    return this.json('GET', `/api/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
  }

  create<K extends KindPath>(kind: K, body: KindBodies[K]['create']): Promise<Entity> {
    return this.json('POST', `/api/v1/${kind}`, { body });
  }

  /** PATCH with If-Match: a stale `version` gets a 412 ApiError. */
  update<K extends KindPath>(kind: K, name: string, namespace: string, version: number, patch: KindBodies[K]['update']): Promise<Entity> {
    return this.json('PATCH', `/api/v1/${kind}/${encodeURIComponent(name)}`, { query: { namespace }, body: patch, headers: { 'if-match': `"${version}"` } });
  }

  async remove(kind: KindPath, name: string, namespace = 'default', version?: number): Promise<void> {
    const headers: Record<string, string> = version === undefined ? {} : { 'if-match': `"${version}"` };
    await this.send('DELETE', `/api/v1/${kind}/${encodeURIComponent(name)}`, { query: { namespace }, headers });
  }

  importCatalog(req: ImportRequest): Promise<ImportResult> {
    return this.json('POST', '/api/v1/catalog/import', { body: req, timeoutMs: 15 * 60_000 });
  }

  async exportCatalog(query: ExportQuery = {}): Promise<Response> {
    return this.send('GET', '/api/v1/catalog/export', { query, headers: { accept: 'application/yaml, application/problem+json' }, timeoutMs: 15 * 60_000 });
  }

  listTokens(): Promise<{ items: Token[] }> {
    return this.json('GET', '/api/v1/tokens');
  }

  createToken(name: string, expiresInDays?: number): Promise<CreatedToken> {
    return this.json('POST', '/api/v1/tokens', { body: { name, ...(expiresInDays === undefined ? {} : { expiresInDays }) } });
  }

  revokeToken(id: string): Promise<Token> {
    return this.json('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
  }
}

async function toApiError(res: Response, url: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return new ApiError(res.status, url, JSON.parse(text) as Partial<Problem>);
    } catch {
      // fall through: not the JSON it claims to be
    }
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(res.status, url, { detail: `HTTP ${res.status} ${res.statusText} from ${url}${snippet ? `: ${snippet}` : ''}` });
}
