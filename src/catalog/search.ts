/**
 * Turns free text into a PostgreSQL tsquery for the 'simple' configuration: every word must match,
 * each as a prefix ("arch" finds "archive"). Returns undefined when no searchable word is left.
 */
export function toTsQuery(text: string): string | undefined {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((w) => w.length > 0)
    .slice(0, 16);
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : undefined;
}
