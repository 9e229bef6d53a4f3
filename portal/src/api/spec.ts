import type { Entity } from './client.ts';

/** A string found at `path` inside an entity's kind-specific spec, if there is one. */
export function specString(entity: Entity, ...path: string[]): string | null {
  let cur: unknown = entity.spec;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || !(key in cur)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'string' && cur !== '' ? cur : null;
}

/** Only web links are rendered as links; anything else (javascript:, data:) is shown as text. */
export function isWebUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' || u.protocol === 'mailto:';
  } catch {
    return false;
  }
}
