import { badRequest } from '../errors.ts';

/** Opaque keyset cursors: the last ref of a page, versioned so that old cursors fail clearly. */
export function encodeCursor(lastRef: string): string {
  return Buffer.from(JSON.stringify({ v: 1, r: lastRef })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; r?: unknown };
    if (parsed.v === 1 && typeof parsed.r === 'string' && parsed.r.length > 0) return parsed.r;
  } catch {
    // fall through to the error below
  }
  throw badRequest('bad-cursor', 'the cursor is not one this server issued; start again without a cursor', [
    { path: 'query.cursor', message: 'invalid cursor', code: 'invalid_cursor' },
  ]);
}
