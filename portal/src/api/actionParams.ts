/**
 * Golden actions as forms: an action's parameters (a JSON Schema object) as the typed form fields of
 * the template gallery (api/inputs.ts checks and sends them), which parameters are secrets, when a run
 * asks for a typed confirmation, and words for where an action may run. Pure functions, no React.
 */
import type { ActionRun, ActionView } from '../../../src/contracts/actions.ts';
import type { InputField } from './client.ts';

export type { ActionRun, ActionView };
export type RunStatus = ActionRun['status'];

/** A parameter as a form field; a secret one is typed into a password box and masked in the run's record. */
export interface ParameterField extends InputField {
  secret: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `nodeVersion` → `Node version`, `dry_run` → `Dry run` (as the server titles template inputs). */
export function humanize(name: string): string {
  const words = name
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function typeOf(p: Record<string, unknown>): string {
  if (typeof p.type === 'string') return p.type;
  if (Array.isArray(p.type)) {
    const t = p.type.find((x) => typeof x === 'string' && x !== 'null');
    if (typeof t === 'string') return t;
  }
  if (Array.isArray(p.enum) && p.enum.length) {
    const first: unknown = p.enum[0];
    return typeof first === 'number' ? (Number.isInteger(first) ? 'integer' : 'number') : typeof first === 'boolean' ? 'boolean' : 'string';
  }
  return 'string';
}

/**
 * The parameters of an action as form fields, in declaration order: the same shape the server gives
 * for template inputs (src/platform/inputs.ts `inputsFormFields`), plus whether each is a secret
 * (`writeOnly: true` or `format: password`).
 */
export function parameterFields(schema: Record<string, unknown> | null | undefined): ParameterField[] {
  const properties = isObject(schema?.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  return Object.entries(properties).map(([name, raw]) => {
    const p = isObject(raw) ? raw : {};
    const field: ParameterField = {
      name,
      type: typeOf(p),
      title: typeof p.title === 'string' ? p.title : humanize(name),
      required: required.has(name),
      editable: p.user_editable !== false,
      secret: p.writeOnly === true || p.format === 'password',
    };
    if (typeof p.description === 'string') field.description = p.description;
    if (Array.isArray(p.enum)) field.enum = [...(p.enum as unknown[])];
    if (p.default !== undefined) field.default = structuredClone(p.default);
    if (typeof p.minimum === 'number') field.minimum = p.minimum;
    if (typeof p.maximum === 'number') field.maximum = p.maximum;
    if (typeof p.pattern === 'string') field.pattern = p.pattern;
    // "password" is said by the password box; other formats (uri, email) are checked and shown.
    if (typeof p.format === 'string' && p.format !== 'password') field.format = p.format;
    return field;
  });
}

/** Whether running `action` in an environment of this type asks for its name, typed (as the server decides). */
export function needsConfirmation(action: Pick<ActionView, 'confirm'>, environmentType: string | null | undefined): boolean {
  return action.confirm === 'always' || (action.confirm === 'production' && environmentType === 'production');
}

/** Why an action cannot run in the chosen environment ("Only in development, preview"), or null when it can. */
export function notAllowedReason(action: Pick<ActionView, 'allowedHere' | 'environments'>): string | null {
  if (action.allowedHere !== false) return null;
  return `Only in ${action.environments.join(', ')}`;
}

/** "Run Scale", but "Run database migrations" as it is, not "Run Run database migrations". */
export const runLabel = (title: string): string => (/^run\b/i.test(title) ? title : `Run ${title}`);

/** 600 → "10 min", 30 → "30 s", 3600 → "1 h". */
export function timeoutLabel(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed-out'];
export const isFinal = (status: RunStatus): boolean => FINAL_STATUSES.includes(status);

export const RUN_STATUS_COLORS: Record<RunStatus, string> = {
  queued: 'gray',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'orange',
  'timed-out': 'red',
};

export const KIND_COLORS: Record<ActionView['kind'], string> = { operation: 'grape', http: 'cyan', command: 'indigo', lifecycle: 'teal' };

export const KIND_HINTS: Record<ActionView['kind'], string> = {
  operation: 'an operation of a resource (its driver runs it)',
  http: 'an HTTP request',
  command: 'a command run with the released build and the environment\'s variables',
  lifecycle: 'a deployment step (deploy, release, restart, scale, rollback…)',
};

/** A stored output line, `<ISO time> <text>`, split; a line without a time keeps all its text. */
export function splitOutputLine(raw: string): { ts: string; line: string } {
  const space = raw.indexOf(' ');
  const ts = space > 0 ? raw.slice(0, space) : '';
  if (ts && !Number.isNaN(Date.parse(ts))) return { ts, line: raw.slice(space + 1) };
  return { ts: '', line: raw };
}
