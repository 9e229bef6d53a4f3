import type { z } from 'zod';
import type { InputFieldSchema } from '../contracts/golden.ts';
import { CliError } from './output.ts';

/**
 * Typed inputs of templates and add-ons from the command line: `--input key=value` becomes a number,
 * a boolean, a list or an object when the pattern declares the input so (GET /api/v1/platform/…/:name
 * lists them as form fields). A value that does not parse is sent as typed, and the server's answer
 * names the input and what it accepts.
 */

export type InputField = z.infer<typeof InputFieldSchema>;

export function parseInputValue(raw: string, type: string | undefined, flag = '--input'): unknown {
  switch (type) {
    case 'integer':
      return /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      if (/^(true|yes|on)$/i.test(raw)) return true;
      if (/^(false|no|off)$/i.test(raw)) return false;
      return raw;
    case 'array':
      if (raw.trim().startsWith('[')) return json(raw, flag);
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'object':
      return json(raw, flag);
    default:
      return raw;
  }
}

function json(raw: string, flag: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new CliError(`${flag}: ${JSON.stringify(raw)} is not valid JSON`, 2);
  }
}

/** `key=value` pairs → inputs, each value parsed by its field's type. Undeclared keys are sent as strings (the server lists the inputs there are). */
export function parseInputs(values: string[] | undefined, fields: InputField[], flag = '--input'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new CliError(`${flag} takes key=value; got "${v}"`, 2);
    const key = v.slice(0, i);
    out[key] = parseInputValue(v.slice(i + 1), fields.find((f) => f.name === key)?.type, `${flag} ${key}`);
  }
  return out;
}

/** What an input accepts, for people: its allowed values, range or pattern. */
export function allowedText(f: InputField): string {
  if (f.enum) return f.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('|');
  if (f.minimum !== undefined || f.maximum !== undefined) return `${f.minimum ?? ''}..${f.maximum ?? ''}`;
  if (f.pattern) return `matches ${f.pattern}`;
  if (f.format) return f.format;
  return '';
}

export const showValue = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
