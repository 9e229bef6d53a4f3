import { z } from 'zod';
import { ProblemSchema } from '../contracts/common.ts';
import type { AnyRoute } from './route.ts';

type JsonSchema = Record<string, unknown>;

const PROBLEM_STATUS: Record<number, string> = {
  400: 'Invalid request (problem+json with the offending field paths)',
  401: 'Missing, unknown, expired or revoked token',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict with existing state',
  412: 'If-Match does not match the current version',
  413: 'Request body too large',
  415: 'Unsupported media type',
  428: 'If-Match is required',
};

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const js = toSchema(schema, 'input');
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

/** The OpenAPI 3.1 document of every registered route, generated from the same zod schemas that validate them. */
export function buildOpenApi(routes: AnyRoute[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, JsonSchema> = {};
    const ok = r.response;
    responses[String(ok.status)] = {
      description: ok.description,
      ...(ok.schema ? { content: { [ok.contentType ?? 'application/json']: { schema: toSchema(ok.schema, 'output') } } } : ok.contentType ? { content: { [ok.contentType]: { schema: { type: 'string' } } } } : {}),
    };
    const errors = new Set([...(r.auth === false ? [] : [401]), ...(r.params || r.query || r.body ? [400] : []), ...(r.errors ?? [])]);
    for (const status of [...errors].sort()) {
      responses[String(status)] = { description: PROBLEM_STATUS[status] ?? 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    const op: JsonSchema = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      parameters: [
        ...parameters(r.params, 'path'),
        ...parameters(r.query, 'query'),
        ...(r.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } })),
      ],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: toSchema(r.body, 'input') },
                ...Object.fromEntries((r.bodyMediaTypes ?? []).map((t) => [t, { schema: { type: 'string' } }])),
              },
            },
          }
        : {}),
      responses,
      ...(r.auth === false ? { security: [] } : {}),
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
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A Pave API token (pave_…)' } },
      schemas: { Problem: toSchema(ProblemSchema, 'output') },
    },
  };
}
