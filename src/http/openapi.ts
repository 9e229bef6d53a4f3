import { z } from 'zod';
import { ProblemSchema } from '../contracts/common.ts';
import type { AnyRoute } from './route.ts';

type JsonSchema = Record<string, unknown>;

const PROBLEM_STATUS: Record<number, string> = {
  400: 'Invalid request (problem+json with the offending field paths)',
  401: 'Missing, unknown, expired or revoked token (or session)',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict with existing state',
  412: 'If-Match does not match the current version',
  413: 'Request body too large',
  415: 'Unsupported media type',
  428: 'If-Match is required',
};

/** Rewrites `#/$defs/X` refs by `names` to `#/components/schemas/Y`. */
function rewriteRefs(value: unknown, names: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const m = k === '$ref' && typeof v === 'string' ? /^#\/\$defs\/(.+)$/.exec(v) : null;
      return [k, m ? `#/components/schemas/${names.get(m[1]!) ?? m[1]}` : rewriteRefs(v, names)];
    }),
  );
}

/**
 * JSON Schema of `schema`. Named schemas (zod `.meta({ id })`) come out as `$defs` with `#/$defs/…` refs, which
 * inside an OpenAPI document would point at its root: they are moved to `defs` (components.schemas) instead.
 */
function toSchema(schema: z.ZodType, io: 'input' | 'output', defs: Record<string, JsonSchema>): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  const local = (out.$defs ?? {}) as Record<string, JsonSchema>;
  delete out.$defs;
  const names = new Map<string, string>();
  for (const [name, def] of Object.entries(local)) {
    const same = defs[name] === undefined || JSON.stringify(defs[name]) === JSON.stringify(rewriteRefs(def, new Map()));
    names.set(name, same ? name : `${name}${io === 'input' ? 'Input' : 'Output'}`);
  }
  for (const [name, def] of Object.entries(local)) defs[names.get(name)!] = rewriteRefs(def, names) as JsonSchema;
  return rewriteRefs(out, names) as JsonSchema;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query', defs: Record<string, JsonSchema>): JsonSchema[] {
  if (!schema) return [];
  const js = toSchema(schema, 'input', defs);
  const props = (js.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((js.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(where === 'query' && (rest.anyOf || rest.type === 'array') ? { style: 'form', explode: true } : {}),
    };
  });
}

/**
 * What a route needs, for the document (`x-pave-permission`): `public`, `authenticated`, `admin` (it
 * declares nothing), or the permissions with where their scope comes from (`request`: from the body or
 * query) and whether they apply only to some requests.
 */
function permissionDoc(r: AnyRoute): unknown {
  if (r.auth === false) return 'public';
  if (r.permission === undefined) return 'admin';
  if (r.permission === 'authenticated') return 'authenticated';
  return (Array.isArray(r.permission) ? r.permission : [r.permission]).map((p) => ({
    permission: p.name,
    scope: typeof p.scope === 'function' ? 'request' : (p.scope ?? 'global'),
    ...(p.when ? { conditional: true } : {}),
  }));
}

/** The OpenAPI 3.1 document of every registered route, generated from the same zod schemas that validate them. */
export function buildOpenApi(routes: AnyRoute[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const defs: Record<string, JsonSchema> = {};
  const problem = toSchema(ProblemSchema, 'output', defs);
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, JsonSchema> = {};
    const ok = r.response;
    responses[String(ok.status)] = {
      description: ok.description,
      ...(ok.schema ? { content: { [ok.contentType ?? 'application/json']: { schema: toSchema(ok.schema, 'output', defs) } } } : ok.contentType ? { content: { [ok.contentType]: { schema: { type: 'string' } } } } : {}),
    };
    const errors = new Set([...(r.auth === false ? [] : [401]), ...(r.auth === false || r.permission === 'authenticated' ? [] : [403]), ...(r.params || r.query || r.body ? [400] : []), ...(r.errors ?? [])]);
    for (const status of [...errors].sort()) {
      responses[String(status)] = { description: PROBLEM_STATUS[status] ?? 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    const op: JsonSchema = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      parameters: [
        ...parameters(r.params, 'path', defs),
        ...parameters(r.query, 'query', defs),
        ...(r.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } })),
      ],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: toSchema(r.body, 'input', defs) },
                ...Object.fromEntries((r.bodyMediaTypes ?? []).map((t) => [t, { schema: { type: 'string' } }])),
              },
            },
          }
        : {}),
      ...(r.rawBody ? { requestBody: { required: true, content: Object.fromEntries(r.rawBody.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])) } } : {}),
      responses,
      ...(r.auth === false ? { security: [] } : {}),
      'x-pave-permission': permissionDoc(r),
    };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pave API',
      version: info.version,
      description: 'The HTTP API of Pave, an internal developer platform. The portal and the pave CLI use it too.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A Pave API token (pave_…)' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'pave_session', description: 'The portal\'s session (__Host-pave_session over https); POST, PUT, PATCH and DELETE also need the X-CSRF-Token header' },
      },
      schemas: problem.$ref ? defs : { ...defs, Problem: problem },
    },
  };
}
