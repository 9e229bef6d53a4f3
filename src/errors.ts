import { PROBLEM_BASE, type FieldError } from './contracts/common.ts';

/**
 * A failure the caller can act on. Domain modules throw these; the HTTP layer turns them into
 * RFC 9457 problem+json, the CLI into a message and a non-zero exit.
 */
export class PaveError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  constructor(status: number, type: string, title: string, detail: string, errors?: FieldError[]) {
    super(detail);
    this.status = status;
    this.type = PROBLEM_BASE + type;
    this.title = title;
    this.errors = errors;
  }
}

export const validationError = (detail: string, errors: FieldError[]) => new PaveError(400, 'validation', 'Invalid request', detail, errors);
export const notFound = (what: string) => new PaveError(404, 'not-found', 'Not found', `${what} does not exist`);
export const conflict = (detail: string) => new PaveError(409, 'conflict', 'Conflict', detail);
export const preconditionFailed = (detail: string) => new PaveError(412, 'precondition-failed', 'Precondition failed', detail);
export const preconditionRequired = (detail: string) => new PaveError(428, 'precondition-required', 'Precondition required', detail);
export const unauthorized = (detail: string) => new PaveError(401, 'unauthorized', 'Unauthorized', detail);
export const forbidden = (detail: string) => new PaveError(403, 'forbidden', 'Forbidden', detail);
export const badRequest = (type: string, detail: string, errors?: FieldError[]) => new PaveError(400, type, 'Bad request', detail, errors);
