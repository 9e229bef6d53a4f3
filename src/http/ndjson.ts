import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PaveError } from '../errors.ts';

export const NDJSON = 'application/x-ndjson';

export const wantsStream = (req: FastifyRequest) => (req.headers.accept ?? '').includes(NDJSON);

/**
 * Streams long work as newline-delimited JSON: one `{"event": …}` line per progress event, then one
 * `{"result": …}` line, or `{"error": problem}` when the work fails after the stream began.
 */
export function streamWork<E, R>(reply: FastifyReply, work: (emit: (e: E) => void) => Promise<R>): PassThrough {
  const out = new PassThrough();
  reply.type(NDJSON);
  reply.header('cache-control', 'no-store');
  const line = (v: unknown) => out.write(`${JSON.stringify(v)}\n`);
  work((event) => line({ event }))
    .then((result) => line({ result }))
    .catch((err: unknown) => {
      if (err instanceof PaveError) line({ error: { type: err.type, title: err.title, status: err.status, detail: err.message } });
      else {
        reply.log.error({ err }, 'streamed work failed');
        line({ error: { title: 'Internal error', status: 500, detail: 'an unexpected error occurred' } });
      }
    })
    .finally(() => out.end());
  return out;
}
