import type { InputField } from '../../api/client.ts';

/** Pure helpers of the plan form (tested without a browser). */
const LABEL_PATTERN = /^([^=\s]+)=(.*)$/;

/** The inputs of the target version that some version in use lacks: those an upgrade adds. */
export function newInputs(target: InputField[], inUse: InputField[][]): InputField[] {
  return target.filter((f) => f.editable && inUse.some((fields) => !fields.some((g) => g.name === f.name)));
}

/** "key=value" tags → the selector's labels; the tags that are not key=value are returned apart. */
export function parseLabelTags(tags: string[]): { labels: Record<string, string>; bad: string[] } {
  const labels: Record<string, string> = {};
  const bad: string[] = [];
  for (const t of tags) {
    const m = LABEL_PATTERN.exec(t.trim());
    if (m) labels[m[1]!] = m[2]!;
    else bad.push(t);
  }
  return { labels, bad };
}

