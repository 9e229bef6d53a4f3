import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import { PROBLEM_BASE, type FieldError, type Problem } from '../contracts/common.ts';
import { PaveError } from '../errors.ts';

export const PROBLEM_TYPE = 'application/problem+json';

/** `["links", 0, "url"]` under `body` → `body.links[0].url`. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

export function zodFieldErrors(prefix: string, err: ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of err.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: fieldPath(prefix, [...issue.path, key]), message: 'unknown field', code: issue.code });
    } else {
      out.push({ path: fieldPath(prefix, issue.path), message: issue.message, code: issue.code });
    }
  }
  return out;
}

function send(reply: FastifyReply, req: FastifyRequest, problem: Problem) {
  return reply.status(problem.status).type(PROBLEM_TYPE).send({ ...problem, instance: req.url.split('?')[0] });
}

const FASTIFY_CODES: Record<string, { type: string; title: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { type: 'malformed-json', title: 'Malformed JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { type: 'malformed-json', title: 'Empty JSON body' },
  FST_ERR_CTP_BODY_TOO_LARGE: { type: 'body-too-large', title: 'Request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { type: 'unsupported-media-type', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { type: 'bad-content-length', title: 'Bad Content-Length' },
};

/** Every error leaves as problem+json; only unexpected ones are 500, and their details stay in the log. */
export function installProblemHandlers(app: FastifyInstance, fallback?: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined): void {
  app.setErrorHandler((err: FastifyError | PaveError | Error, req, reply) => {
    if (err instanceof PaveError) {
      // a PaveError may add members of its own (e.g. a 403 names the permission and scope it lacked: src/access/rbac.ts)
      const extensions = (err as { extensions?: Record<string, unknown> }).extensions;
      return send(reply, req, { ...(extensions ?? {}), type: err.type, title: err.title, status: err.status, detail: err.message, ...(err.errors ? { errors: err.errors } : {}) });
    }
    const fe = err as FastifyError;
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
      if (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return send(reply, req, { type: PROBLEM_BASE + 'malformed-json', title: 'Malformed JSON', status: 400, detail: `the request body is not valid JSON: ${err.message}` });
      }
      return send(reply, req, { type: PROBLEM_BASE + (known?.type ?? 'bad-request'), title: known?.title ?? 'Bad request', status: fe.statusCode, detail: err.message });
    }
    // PostgreSQL cannot store NUL characters in text (22021) or JSON (22P05): the caller's input, not our fault.
    const pgCode = (err as { code?: unknown }).code;
    if (pgCode === '22021' || pgCode === '22P05') {
      return send(reply, req, { type: PROBLEM_BASE + 'invalid-text', title: 'Invalid text', status: 400, detail: 'the request holds text that cannot be stored: it must not contain NUL characters (\\u0000)' });
    }
    req.log.error({ err }, 'unhandled error');
    return send(reply, req, { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: `an unexpected error occurred; request id ${req.id}` });
  });
  // One not-found handler per server (Fastify refuses a second); `fallback` may answer first, e.g. with the portal.
  app.setNotFoundHandler((req, reply) =>
    fallback?.(req, reply) ?? send(reply, req, { type: PROBLEM_BASE + 'not-found', title: 'Not found', status: 404, detail: `no route for ${req.method} ${req.url.split('?')[0]}` }),
  );
}
