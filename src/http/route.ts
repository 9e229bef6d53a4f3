import { finished } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/principal.ts';
import { authorize, ForbiddenError, isFullAdmin, type AccessControl, type Scope, type ScopeTarget } from '../access/rbac.ts';
import { refOf } from '../catalog/model.ts';
import type { Permission } from '../contracts/access.ts';
import { bodyDigest } from '../audit/chain.ts';
import type { AuditEntry } from '../audit/log.ts';
import { auditTarget, auditTargetOfUrl } from '../audit/target.ts';
import { PaveError, validationError } from '../errors.ts';
import { zodFieldErrors } from './problem.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

// ---- permissions ----------------------------------------------------------------------------------

/** The request as it came, before validation: what a permission's scope and condition are read from. */
export interface RawInput {
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  body: unknown;
}

/**
 * Where a permission's scope comes from. `global`: the platform as a whole. `application`: the
 * application of the path's `:name` (and `?namespace`), i.e. its owning team. `environment`: that,
 * and the environment of the path's `:env`, i.e. its type. `run`: the action run of the path's `:id`
 * (its application and environment). A function: from the raw request (e.g. a body's owner).
 */
export type ScopeSource = 'global' | 'application' | 'environment' | 'run' | ((input: RawInput) => ScopeTarget);

/** One permission a route needs (src/access/rbac.ts holds the role → permission table). */
export interface PermissionRule {
  name: Permission;
  /** Default: global. */
  scope?: ScopeSource;
  /** Needed only when this holds (e.g. `?reveal=true` needs secret.read too). */
  when?: (input: RawInput) => boolean;
  /** When the rule applies, the request is audited under this action (granted or refused), e.g. secret.read. */
  audit?: string;
}

/**
 * What a route needs: `authenticated` (any signed-in caller: their own profile, tokens and session),
 * or one or more permissions, all of which the caller must hold in their scopes. A route that declares
 * nothing is for admins only.
 */
export type RoutePermission = 'authenticated' | PermissionRule | PermissionRule[];

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The application of a request: the path's :name in ?namespace (default: default). */
export const applicationOf = (i: RawInput): string => refOf('application', str(i.query.namespace) || 'default', i.params.name ?? '');

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  req: FastifyRequest;
  reply: FastifyReply;
  /** How the kernel audits this request (see `RouteSpec.audit`). */
  audit: AuditControl;
}

/** What a route's onDenied hook gets: the request, and the 403 about to be answered. */
export interface DeniedContext {
  input: RawInput;
  principal: Principal;
  req: FastifyRequest;
  error: ForbiddenError;
  audit: AuditControl;
}

/** What a handler may say about the audit event the kernel writes for its request. */
export interface AuditControl {
  /**
   * Audits this request, also when it is a read, under `action` (default: the operationId), e.g.
   * `secret.read` for a read that reveals secrets. Call it before checking the caller's rights, so
   * that a refused attempt is audited (outcome denied) too.
   */
  record(action?: string, details?: Record<string, unknown>): void;
  /** The domain audited this request itself (e.g. action runs): the kernel writes nothing for it. */
  skip(): void;
}

export interface RouteSpec<P, Q, B, R> {
  method: Method;
  /** Fastify path, e.g. `/api/v1/teams/:name`. */
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  description?: string;
  /** false only for health endpoints. */
  auth?: boolean;
  /**
   * Whether every authenticated request writes an audit event once answered: by default POST, PUT,
   * PATCH and DELETE do and GET does not (a GET handler may still ask with `audit.record`). false for
   * a POST that changes nothing (e.g. a plan).
   */
  audit?: boolean;
  /** The permission(s) the caller needs, checked by the kernel before the handler (see RoutePermission). */
  permission?: RoutePermission;
  /** Called when the kernel refuses the request (403), before it answers: e.g. to audit it as the domain would. */
  onDenied?: (ctx: DeniedContext) => Promise<void> | void;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Media types the body may come in besides JSON (parsed before validation by the route's own preParse). */
  bodyLimit?: number;
  /** Turns a non-JSON body (e.g. YAML text) into the shape `body` validates. */
  bodyFrom?: (req: FastifyRequest) => unknown;
  /** Extra media types accepted for the body, documented beside JSON. */
  bodyMediaTypes?: string[];
  headers?: { name: string; required: boolean; description: string }[];
  /** A binary body (e.g. application/gzip) instead of JSON: the handler reads `req.body` as a Buffer. */
  rawBody?: string[];
  response: { status: number; description: string; schema?: z.ZodType<R>; contentType?: string };
  errors?: number[];
  handler: (ctx: RouteContext<P, Q, B>) => Promise<R | undefined> | R | undefined;
}

/** A route, type-erased for the registry. */
export interface AnyRoute {
  method: Method;
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  description?: string;
  auth?: boolean;
  audit?: boolean;
  permission?: RoutePermission;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  bodyLimit?: number;
  bodyMediaTypes?: string[];
  headers?: { name: string; required: boolean; description: string }[];
  rawBody?: string[];
  response: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  errors?: number[];
}

/** A declared route: its documentation, and how to mount it. */
export interface Route {
  doc: AnyRoute;
  /**
   * Mounts the route; `audit` receives its audit events (none are written without it); `access` checks
   * permissions (without it, which only tests of the kernel do, callers are authenticated, not authorized).
   */
  mount(app: FastifyInstance, authenticate: (req: FastifyRequest) => Promise<Principal>, audit?: AuditSink, access?: AccessControl): void;
}

/** Where the kernel's audit events go (AuditLog.append). */
export type AuditSink = ((e: AuditEntry) => Promise<unknown>) & { digest?: (body: unknown) => string | null };

/** Declares a route once: its schemas validate input, type the handler, and document the API. */
export function defineRoute<P = undefined, Q = undefined, B = undefined, R = unknown>(spec: RouteSpec<P, Q, B, R>): Route {
  return { doc: spec as unknown as AnyRoute, mount: (app, authenticate, audit, access) => mountRoute(app, spec, authenticate, audit, access) };
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const res = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!res.success) {
    const errors = zodFieldErrors(where, res.error);
    throw validationError(`${where === 'body' ? 'the request body' : `the ${where} parameters`} failed validation: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }
  return res.data;
}

/** Routes without query parameters still refuse unknown ones, as every other route does. */
const NO_QUERY = z.strictObject({});

/** Principals of authenticated requests, set before the body is read. */
const principals = new WeakMap<FastifyRequest, Principal>();

/** A body is JSON, or one of the route's extra media types; anything else (e.g. text/plain) is a 415. */
function checkMediaType(req: FastifyRequest, extra: string[] | undefined): void {
  if (req.body === undefined) return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || extra?.includes(type)) return;
  throw new PaveError(415, 'unsupported-media-type', 'Unsupported media type', `this route takes ${['application/json', ...(extra ?? [])].join(' or ')}, not ${type || 'an untyped body'}`);
}

// ---- audit ----------------------------------------------------------------------------------------

const CHANGES = new Set<Method>(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What the kernel knows of an authenticated request's audit event until it writes it. */
interface AuditState {
  principal: Principal;
  /** Written when answered: the route audits its method, or the handler asked (record). */
  wanted: boolean;
  /** The route's operationId, and the action recorded (the same unless the handler named another). */
  operation: string;
  action: string;
  details: Record<string, unknown>;
  skipped: boolean;
  /** How the body is digested (keyed by the audit log when it has a key). */
  digest?: ((body: unknown) => string | null) | undefined;
}
const audits = new WeakMap<FastifyRequest, AuditState>();

function auditControl(state: AuditState | undefined): AuditControl {
  return {
    record(action, details) {
      if (!state) return;
      state.wanted = true;
      if (action) state.action = action;
      if (details) Object.assign(state.details, details);
    },
    skip() {
      if (state) state.skipped = true;
    },
  };
}

/** succeeded (2xx, 3xx), denied (401, 403), failed (anything else). */
const outcomeOf = (status: number) => (status < 400 ? 'succeeded' : status === 401 || status === 403 ? 'denied' : 'failed');

/** Type and title of the problem+json being sent; never its detail, which may quote the request. */
function problemOf(reply: FastifyReply, payload: unknown): { type: string; title: string } | undefined {
  if (reply.statusCode < 400 || typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').startsWith('application/problem+json')) return undefined;
  try {
    const p = JSON.parse(payload) as { type?: unknown; title?: unknown };
    return { type: String(p.type ?? ''), title: String(p.title ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * The event of an answered request: the caller, the operation, the target (src/audit/target.ts; a
 * creation's target is what it created, from the Location header), how it ended, and a digest of the
 * request body, never the body itself (it may hold secrets).
 */
function auditEntry(req: FastifyRequest, reply: FastifyReply, state: AuditState, payload: unknown, extra: Record<string, unknown>): AuditEntry {
  const status = reply.statusCode;
  const location = reply.getHeader('location');
  const path = req.url.split('?')[0]!;
  const target = status === 201 && typeof location === 'string' && location.startsWith('/api/') ? auditTargetOfUrl(location) : auditTarget(path, (req.query as { namespace?: unknown } | undefined)?.namespace);
  const digest = CHANGES.has(req.method as Method) ? (state.digest ?? bodyDigest)(req.body) : null;
  const problem = problemOf(reply, payload);
  return {
    actor: state.principal.userRef,
    action: state.action,
    target,
    outcome: outcomeOf(status),
    requestId: req.id,
    details: { status, method: req.method, path, ...(digest ? { bodyDigest: digest } : {}), ...(problem ? { problem } : {}), ...(state.action !== state.operation ? { operation: state.operation } : {}), token: state.principal.tokenName, ...state.details, ...extra },
  };
}

function auditHooks(spec: AnyRoute, sink: AuditSink) {
  const write = async (req: FastifyRequest, entry: AuditEntry) => {
    try {
      await sink(entry);
    } catch (err) {
      req.log.error({ err, audit: { action: entry.action, target: entry.target, outcome: entry.outcome } }, 'audit event not written');
    }
  };
  return {
    /** Before the answer leaves (so a client that reads the log next sees it); a stream is audited when it ended. */
    onSend: async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const state = audits.get(req);
      if (!state || !state.wanted || state.skipped) return payload;
      audits.delete(req);
      if (payload && typeof (payload as { pipe?: unknown }).pipe === 'function') {
        finished(payload as NodeJS.ReadableStream, (err) => void write(req, auditEntry(req, reply, state, undefined, { streamed: true, ...(err ? { interrupted: true } : {}) })));
        return payload;
      }
      await write(req, auditEntry(req, reply, state, payload, {}));
      return payload;
    },
    wants: spec.audit ?? CHANGES.has(spec.method),
  };
}

// ---- authorization --------------------------------------------------------------------------------

async function scopeTarget(source: ScopeSource, input: RawInput): Promise<ScopeTarget> {
  if (typeof source === 'function') return source(input);
  switch (source) {
    case 'global':
      return { kind: 'global' };
    case 'application':
      return { kind: 'application', application: applicationOf(input) };
    case 'environment':
      return { kind: 'application', application: applicationOf(input), environment: input.params.env ?? '' };
    case 'run':
      return { kind: 'run', run: input.params.id ?? '' };
  }
}

/**
 * The one place permissions are checked: after authentication, before validation and the handler.
 * Each rule that applies is checked in its scope (looked up once per request and target); a refusal
 * is a 403 problem naming the permission and the scope. Full admins need no look-up.
 */
async function checkPermissions(spec: AnyRoute & { onDenied?: RouteSpec<unknown, unknown, unknown, unknown>['onDenied'] }, access: AccessControl, principal: Principal, req: FastifyRequest, input: RawInput): Promise<void> {
  const permission = spec.permission;
  if (permission === 'authenticated') return;
  const control = auditControl(audits.get(req));
  try {
    if (permission === undefined) {
      if (!isFullAdmin(principal)) throw new ForbiddenError('admin', {}, `${spec.operationId} declares no permission, so only admins may call it`);
      return;
    }
    const rules = (Array.isArray(permission) ? permission : [permission]).filter((r) => {
      try {
        return !r.when || r.when(input);
      } catch {
        return true; // a condition that cannot be read from a malformed request: check the permission anyway
      }
    });
    for (const r of rules) if (r.audit) control.record(r.audit);
    if (isFullAdmin(principal)) return;
    const scopes = new Map<string, Promise<Scope>>();
    for (const r of rules) {
      let target: ScopeTarget;
      try {
        target = await scopeTarget(r.scope ?? 'global', input);
      } catch {
        target = { kind: 'application', application: '', environment: '' }; // unreadable: nothing by that name
      }
      const key = JSON.stringify(target);
      if (!scopes.has(key)) scopes.set(key, access.scopeOf(target));
      authorize(principal, r.name, await scopes.get(key)!);
    }
  } catch (err) {
    if (err instanceof ForbiddenError && spec.onDenied) await spec.onDenied({ input, principal, req, error: err, audit: control });
    throw err;
  }
}

function mountRoute<P, Q, B, R>(app: FastifyInstance, spec: RouteSpec<P, Q, B, R>, authenticate: (req: FastifyRequest) => Promise<Principal>, sink?: AuditSink, access?: AccessControl): void {
  const audit = sink && spec.auth !== false ? auditHooks(spec as unknown as AnyRoute, sink) : undefined;
  app.route({
    method: spec.method,
    url: spec.url,
    ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
    // Authenticate before the body is read, so that unauthenticated callers cannot make the server parse it.
    ...(spec.auth === false
      ? {}
      : {
          onRequest: async (req: FastifyRequest) => {
            const principal = await authenticate(req);
            principals.set(req, principal);
            // only authenticated requests are audited: from here on, whatever the answer (400, 403, 415, …)
            if (audit) audits.set(req, { principal, wanted: audit.wants, operation: spec.operationId, action: spec.operationId, details: {}, skipped: false, digest: sink?.digest });
          },
        }),
    ...(audit ? { onSend: audit.onSend } : {}),
    handler: async (req, reply) => {
      let principal = spec.auth === false ? (undefined as unknown as Principal) : principals.get(req)!;
      if (spec.auth !== false && access) {
        // the caller's grants, once per request; then the route's permissions, before anything else is read
        principal = await access.withGrants(principal);
        principals.set(req, principal);
        const state = audits.get(req);
        if (state) state.principal = principal;
        let body: unknown = req.body;
        try {
          if (spec.bodyFrom) body = spec.bodyFrom(req);
        } catch {
          body = undefined;
        }
        const input: RawInput = { params: (req.params ?? {}) as RawInput['params'], query: (req.query ?? {}) as RawInput['query'], body };
        await checkPermissions(spec as unknown as AnyRoute, access, principal, req, input);
      }
      if (spec.body) checkMediaType(req, spec.bodyMediaTypes);
      if (spec.rawBody) {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!spec.rawBody.includes(type) || !Buffer.isBuffer(req.body)) throw new PaveError(415, 'unsupported-media-type', 'Unsupported media type', `this route takes ${spec.rawBody.join(' or ')}, not ${type || 'an untyped body'}`);
      }
      const params = parse(spec.params, req.params, 'path');
      const query = parse(spec.query ?? (NO_QUERY as unknown as z.ZodType<Q>), req.query, 'query');
      const body = parse(spec.body, spec.bodyFrom ? spec.bodyFrom(req) : req.body, 'body');
      const result = await spec.handler({ params, query, body, principal, req, reply, audit: auditControl(audits.get(req)) });
      if (reply.sent) return reply;
      // a handler may answer with another status (e.g. readiness: 503), set with reply.status() before returning
      if (reply.statusCode === 200) reply.status(spec.response.status);
      if (spec.response.contentType) reply.type(spec.response.contentType);
      return spec.response.status === 204 ? reply.send() : reply.send(result);
    },
  });
}
