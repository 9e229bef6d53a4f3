import type { FastifyReply, FastifyRequest } from 'fastify';
import { preconditionRequired, validationError } from '../errors.ts';

export const etagOf = (version: number) => `"${version}"`;

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', etagOf(version));
}

/** The version an If-Match header names; `required` makes a missing header a 428. */
export function ifMatch(req: FastifyRequest, required: true): number;
export function ifMatch(req: FastifyRequest, required: false): number | undefined;
export function ifMatch(req: FastifyRequest, required: boolean): number | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined || raw === '') {
    if (required) throw preconditionRequired('send If-Match with the ETag (version) you last read, so that concurrent edits are not lost');
    return undefined;
  }
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(String(raw));
  if (!m) throw validationError('If-Match must be an ETag this server issued, e.g. "3"', [{ path: 'header.if-match', message: 'not a version ETag' }]);
  return Number(m[1]);
}
