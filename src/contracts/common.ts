import { z } from 'zod';

/** RFC 9457 problem details, with the offending field paths for validation errors. */
export const FieldErrorSchema = z.object({
  path: z.string().describe('JSON path of the offending field, e.g. "body.links[0].url" or "query.limit"'),
  message: z.string(),
  code: z.string().optional(),
});
export const ProblemSchema = z
  .object({
    type: z.string().describe('URI identifying the problem type, e.g. https://pave.dev/problems/validation'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof ProblemSchema>;
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const PROBLEM_BASE = 'https://pave.dev/problems/';

export const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('page size, 1 to 500'),
  cursor: z.string().max(1024).optional().describe('opaque cursor from a previous page\'s nextCursor'),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('pass as cursor to fetch the next page; null on the last page'),
  });
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Names follow Backstage's rules so that imported descriptors keep theirs. */
export const NAME_PATTERN = /^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/;
export const NAMESPACE_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const NameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(NAME_PATTERN, 'must be 1-63 characters of letters, digits and single "-", "_" or "." between them');
export const NamespaceSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(NAMESPACE_PATTERN, 'must be 1-63 lowercase letters, digits and single "-" between them');

export const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']), store: z.enum(['embedded', 'external']).optional() });
