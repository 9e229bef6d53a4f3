import type { InputField, Problem } from './client.ts';

/**
 * Typed inputs of templates and add-ons as form values. The server describes each input as a form
 * field (from its JSON Schema); these helpers prefill defaults, check values as the schema would, and
 * build the `inputs` object a request sends. The server checks again and has the last word.
 */

/** A form value: what the input's control holds ('' for an empty text or number box). */
export type InputValue = unknown;
export type InputValues = Record<string, InputValue>;

/** Field errors keyed by form path: `name`, `inputs.port`, `addons.postgres.inputs.size`. */
export type FieldErrors = Record<string, string>;

export function defaultValues(fields: InputField[]): InputValues {
  const values: InputValues = {};
  for (const f of fields) {
    if (f.default !== undefined) values[f.name] = structuredClone(f.default);
    else if (f.type === 'boolean') values[f.name] = false;
    else if (f.type === 'array' || f.type === 'object') values[f.name] = '';
    else values[f.name] = f.enum ? null : '';
  }
  return values;
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

/** "1024 to 65535", "at least 1", "matches ^/": what a field accepts, shown under it. */
export function fieldHint(f: InputField): string | null {
  const parts: string[] = [];
  if (f.minimum !== undefined && f.maximum !== undefined) parts.push(`${f.minimum} to ${f.maximum}`);
  else if (f.minimum !== undefined) parts.push(`at least ${f.minimum}`);
  else if (f.maximum !== undefined) parts.push(`at most ${f.maximum}`);
  if (f.pattern) parts.push(`must match ${f.pattern}`);
  if (f.format) parts.push(f.format);
  return parts.length ? parts.join('; ') : null;
}

function regex(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return null;
  }
}

/** Why `value` does not fit the field, or null. Mirrors the schema: required, type, enum, range, pattern. */
export function checkField(f: InputField, value: InputValue): string | null {
  if (!f.editable) return null;
  if (isEmpty(value)) return f.required ? 'is required' : null;
  if (f.enum) return f.enum.some((e) => Object.is(e, value)) ? null : `must be one of ${f.enum.map(String).join(', ')}`;
  switch (f.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || Number.isNaN(value)) return 'must be a number';
      if (f.type === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
      if (f.minimum !== undefined && value < f.minimum) return `must be at least ${f.minimum}`;
      if (f.maximum !== undefined && value > f.maximum) return `must be at most ${f.maximum}`;
      return null;
    }
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be on or off';
    case 'array':
    case 'object': {
      const parsed = parseJson(value);
      if (parsed === undefined) return 'must be valid JSON';
      if (f.type === 'array' ? !Array.isArray(parsed) : typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `must be a JSON ${f.type}`;
      return null;
    }
    default: {
      if (typeof value !== 'string') return 'must be text';
      const re = f.pattern ? regex(f.pattern) : null;
      if (re && !re.test(value)) return `must match ${f.pattern}`;
      if (f.format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value)) return 'must be an email address';
      if (f.format === 'uri' && !URL.canParse(value)) return 'must be a URL';
      return null;
    }
  }
}

function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return undefined;
  }
}

/** Errors of every field, keyed `${prefix}.${name}`. */
export function checkFields(fields: InputField[], values: InputValues, prefix: string): FieldErrors {
  const errors: FieldErrors = {};
  for (const f of fields) {
    const e = checkField(f, values[f.name]);
    if (e) errors[`${prefix}.${f.name}`] = e;
  }
  return errors;
}

/**
 * The `inputs` to send: editable fields with a value. Inputs set by the platform team are left out (the
 * server applies them), as are empty optional ones (the server applies their defaults).
 */
export function toInputs(fields: InputField[], values: InputValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (!f.editable || isEmpty(v)) continue;
    out[f.name] = f.type === 'array' || f.type === 'object' ? parseJson(v) : v;
  }
  return out;
}

/**
 * The problem's field errors keyed by form path: `body.inputs.port` → `inputs.port`; `rename` maps a
 * path further (e.g. `addons[0]` to the add-on's name). Errors of no known field are returned apart.
 */
export function problemFieldErrors(problem: Problem | null, known: (path: string) => boolean, rename: (path: string) => string = (p) => p): { fields: FieldErrors; other: string[] } {
  const fields: FieldErrors = {};
  const other: string[] = [];
  for (const e of problem?.errors ?? []) {
    const path = rename(e.path.replace(/^body\./, ''));
    if (known(path) && !fields[path]) fields[path] = e.message;
    else other.push(`${e.path}: ${e.message}`);
  }
  return { fields, other };
}

/** Readable values: strings as they are, the rest as JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
