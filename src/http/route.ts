import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/principal.ts';
import { PaveError, validationError } from '../errors.ts';
import { zodFieldErrors } from './problem.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  req: FastifyRequest;
  reply: FastifyReply;
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
  mount(app: FastifyInstance, authenticate: (req: FastifyRequest) => Promise<Principal>): void;
}

/** Declares a route once: its schemas validate input, type the handler, and document the API. */
export function defineRoute<P = undefined, Q = undefined, B = undefined, R = unknown>(spec: RouteSpec<P, Q, B, R>): Route {
  return { doc: spec as unknown as AnyRoute, mount: (app, authenticate) => mountRoute(app, spec, authenticate) };
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

function mountRoute<P, Q, B, R>(app: FastifyInstance, spec: RouteSpec<P, Q, B, R>, authenticate: (req: FastifyRequest) => Promise<Principal>): void {
  app.route({
    method: spec.method,
    url: spec.url,
    ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
    // Authenticate before the body is read, so that unauthenticated callers cannot make the server parse it.
    ...(spec.auth === false ? {} : { onRequest: async (req: FastifyRequest) => void principals.set(req, await authenticate(req)) }),
    handler: async (req, reply) => {
      const principal = spec.auth === false ? (undefined as unknown as Principal) : principals.get(req)!;
      if (spec.body) checkMediaType(req, spec.bodyMediaTypes);
      if (spec.rawBody) {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!spec.rawBody.includes(type) || !Buffer.isBuffer(req.body)) throw new PaveError(415, 'unsupported-media-type', 'Unsupported media type', `this route takes ${spec.rawBody.join(' or ')}, not ${type || 'an untyped body'}`);
      }
      const params = parse(spec.params, req.params, 'path');
      const query = parse(spec.query ?? (NO_QUERY as unknown as z.ZodType<Q>), req.query, 'query');
      const body = parse(spec.body, spec.bodyFrom ? spec.bodyFrom(req) : req.body, 'body');
      const result = await spec.handler({ params, query, body, principal, req, reply });
      if (reply.sent) return reply;
      // a handler may answer with another status (e.g. readiness: 503), set with reply.status() before returning
      if (reply.statusCode === 200) reply.status(spec.response.status);
      if (spec.response.contentType) reply.type(spec.response.contentType);
      return spec.response.status === 204 ? reply.send() : reply.send(result);
    },
  });
}
