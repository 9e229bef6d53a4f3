/**
 * `${...}` placeholders in platform files, with Score's syntax: `${inputs.size}`, `${resources.db.host}`,
 * `${metadata.name}`, `${context.application}`; a dot inside a key is written `\.`; `$$` stands for a
 * literal `$` (so `$${inputs.x}` is the text `${inputs.x}`).
 *
 * Placeholders are expanded in stages, each of which substitutes its own namespace and leaves the others
 * untouched for a later stage:
 *
 * 1. `expandInputs`: `${inputs.*}` in a template's workload and add-ons, an add-on's resources and outputs.
 * 2. (later, elsewhere) `${resources.*}` / `${metadata.*}` in the workload and the add-on outputs.
 * 3. `expandContext`: `${context.*}` in a resource definition's inputs, just before the driver runs.
 *
 * Every stage but the last keeps `$$` escapes as they are, and escapes the `$` of the values it inserts as
 * `$$`, so that a later stage never reads a developer's input as a placeholder. The last stage (option
 * `final: true`, or `unescapePlaceholders` afterwards) turns `$$` into `$`.
 */

export type PathSegment = string | number;

/** A placeholder that cannot be expanded; `path` is the field holding it, e.g. `containers.web.variables.PORT`. */
export class PlaceholderError extends Error {
  readonly path: string;
  constructor(message: string, path: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'PlaceholderError';
    this.path = path;
  }
}

export type PlaceholderToken = { kind: 'text'; text: string } | { kind: 'escape' } | { kind: 'ref'; ref: string[]; raw: string };

/** Splits a string into text, `$$` escapes and `${...}` references; throws a plain Error on an unterminated `${`. */
export function tokenize(s: string): PlaceholderToken[] {
  const tokens: PlaceholderToken[] = [];
  let text = '';
  let i = 0;
  const flush = () => {
    if (text) tokens.push({ kind: 'text', text });
    text = '';
  };
  while (i < s.length) {
    const c = s[i];
    if (c === '$' && s[i + 1] === '$') {
      flush();
      tokens.push({ kind: 'escape' });
      i += 2;
    } else if (c === '$' && s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0) throw new Error(`unterminated placeholder "${s.slice(i, i + 40)}": a "\${" needs a closing "}" (write "$$" for a literal "$")`);
      flush();
      const raw = s.slice(i, end + 1);
      tokens.push({ kind: 'ref', ref: splitRef(s.slice(i + 2, end)), raw });
      i = end + 1;
    } else {
      text += c;
      i += 1;
    }
  }
  flush();
  return tokens;
}

function splitRef(inner: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\' && inner[i + 1] === '.') {
      cur += '.';
      i++;
    } else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

export function formatPath(path: readonly PathSegment[], prefix = ''): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** What a resolver returns: a value, an error message, or undefined to leave the placeholder untouched. */
export type Resolution = { value: unknown } | { error: string } | undefined;
export type Resolver = (ref: readonly string[], raw: string) => Resolution;

export interface ExpandOptions {
  /** Prefix of the paths in errors, e.g. `workload`. */
  path?: string;
  /** Last stage: `$$` becomes `$` and inserted values are not escaped. */
  final?: boolean;
  /**
   * Fields whose value must stay a string even when it is exactly one placeholder (e.g. Score's
   * container variables). Elsewhere a string that is exactly `${...}` takes the value's own type.
   */
  stringAt?: (path: readonly PathSegment[]) => boolean;
}

/** A deep copy of `value` with the placeholders `resolve` knows substituted. */
export function expandPlaceholders(value: unknown, resolve: Resolver, opts: ExpandOptions = {}): unknown {
  const final = opts.final ?? false;
  const walk = (v: unknown, path: PathSegment[]): unknown => {
    if (typeof v === 'string') return expandString(v, path);
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, [...path, k]);
      return out;
    }
    return v;
  };
  const fail = (message: string, path: PathSegment[]) => new PlaceholderError(message, formatPath(path, opts.path ?? ''));
  const expandString = (s: string, path: PathSegment[]): unknown => {
    if (!s.includes('$')) return s;
    let tokens: PlaceholderToken[];
    try {
      tokens = tokenize(s);
    } catch (err) {
      throw fail((err as Error).message, path);
    }
    const resolved = tokens.map((t) => {
      if (t.kind !== 'ref') return undefined;
      const r = resolve(t.ref, t.raw);
      if (r && 'error' in r) throw fail(r.error, path);
      if (r && r.value === undefined) throw fail(`${t.raw} has no value`, path);
      return r;
    });
    const only = tokens.length === 1 ? resolved[0] : undefined;
    if (only && !(opts.stringAt?.(path) ?? false)) return final ? structuredClone(only.value) : escapeDeep(only.value);
    let out = '';
    tokens.forEach((t, i) => {
      if (t.kind === 'text') out += t.text;
      else if (t.kind === 'escape') out += final ? '$' : '$$';
      else {
        const r = resolved[i];
        if (!r) out += t.raw;
        else {
          const text = stringifyValue(r.value);
          out += final ? text : text.replaceAll('$', () => '$$');
        }
      }
    });
    return out;
  };
  return walk(value, []);
}

function stringifyValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(v);
}

function escapeDeep(v: unknown): unknown {
  if (typeof v === 'string') return v.replaceAll('$', () => '$$');
  if (Array.isArray(v)) return v.map(escapeDeep);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDeep(x)]));
  return v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The last stage for values no later stage reads: `$$` becomes `$` in every string. */
export function unescapePlaceholders(value: unknown): unknown {
  return expandPlaceholders(value, () => undefined, { final: true });
}

/** Every `${...}` reference in a value, with the path of the string holding it (for validation). */
export function findPlaceholders(value: unknown): { path: PathSegment[]; ref: string[]; raw: string }[] | { path: PathSegment[]; error: string } {
  const found: { path: PathSegment[]; ref: string[]; raw: string }[] = [];
  let error: { path: PathSegment[]; error: string } | undefined;
  const walk = (v: unknown, path: PathSegment[]): void => {
    if (error) return;
    if (typeof v === 'string') {
      if (!v.includes('$')) return;
      try {
        for (const t of tokenize(v)) if (t.kind === 'ref') found.push({ path, ref: t.ref, raw: t.raw });
      } catch (err) {
        error = { path, error: (err as Error).message };
      }
    } else if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, i]));
    else if (isPlainObject(v)) for (const [k, item] of Object.entries(v)) walk(item, [...path, k]);
  };
  walk(value, []);
  return error ?? found;
}

// ---- stage 1: inputs -----------------------------------------------------------------------------

/**
 * Substitutes `${inputs.x}` (and `${inputs.x.field}` for object inputs) in a deep copy of `value`.
 * A string that is exactly `${inputs.x}` takes the input's own type (8080 stays a number) unless
 * `opts.stringAt` says the field is a string. `${resources.*}`, `${metadata.*}` and other namespaces are
 * left for later stages. An input that is not in `inputs` throws a PlaceholderError naming the field.
 */
export function expandInputs(value: unknown, inputs: Record<string, unknown>, opts: ExpandOptions = {}): unknown {
  return expandPlaceholders(value, (ref, raw) => resolveIn('inputs', inputs, ref, raw, 'input'), opts);
}

function resolveIn(namespace: string, values: Record<string, unknown>, ref: readonly string[], raw: string, noun: string): Resolution {
  if (ref[0] !== namespace) return undefined;
  const known = Object.keys(values).sort();
  const knownText = known.length ? `known ${noun}s: ${known.join(', ')}` : `there are no ${noun}s`;
  if (ref.length < 2 || !ref[1]) return { error: `${raw} must name ${noun === 'input' ? 'an' : 'a'} ${noun}, e.g. \${${namespace}.${known[0] ?? 'name'}} (${knownText})` };
  const name = ref[1];
  if (!Object.hasOwn(values, name) || values[name] === undefined) return { error: `unknown ${noun} "${name}" in ${raw} (${knownText})` };
  let v: unknown = values[name];
  for (let i = 2; i < ref.length; i++) {
    const key = ref[i] as string;
    if (isPlainObject(v) && Object.hasOwn(v, key)) v = v[key];
    else if (Array.isArray(v) && /^\d+$/.test(key) && Number(key) < v.length) v = v[Number(key)];
    else return { error: `${noun} "${ref.slice(1, i).join('.')}" has no field "${key}" (in ${raw})` };
  }
  return { value: v };
}

/**
 * Fields of a Score workload that are strings whatever the placeholder: everything under `containers`
 * except probe ports, files' `noExpand` and volumes' `readOnly`; plus `metadata.name` and annotations.
 * Pass as `stringAt` when expanding a template's workload so that `PORT: ${inputs.port}` stays "8080".
 */
export function isScoreStringField(path: readonly PathSegment[]): boolean {
  if (path[0] === 'metadata') return path[1] === 'name' || path[1] === 'annotations';
  if (path[0] !== 'containers') return false;
  const rest = path.slice(2);
  const last = rest[rest.length - 1];
  if ((rest[0] === 'livenessProbe' || rest[0] === 'readinessProbe') && rest[1] === 'httpGet' && rest[2] === 'port') return false;
  if (rest[0] === 'files' && last === 'noExpand') return false;
  if (rest[0] === 'volumes' && last === 'readOnly') return false;
  return true;
}

// ---- stage 3: resource definition context -------------------------------------------------------

export const CONTEXT_KEYS = ['application', 'environment', 'environmentType', 'team', 'id', 'class', 'resource'] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];
export type PlaceholderContext = Record<ContextKey, string | null>;

/**
 * Substitutes `${context.application|environment|environmentType|team|id|class}` in a resource
 * definition's inputs. Final by default (`$$` becomes `$`), because drivers read the result; other
 * `${...}` (e.g. `${HOME}` in a cmd script) are left as they are. A context value that is null (the
 * application or team of a shared resource) is an error.
 */
export function expandContext(value: unknown, ctx: PlaceholderContext, opts: ExpandOptions = {}): unknown {
  return expandPlaceholders(
    value,
    (ref, raw) => {
      if (ref[0] !== 'context') return undefined;
      const key = ref[1];
      if (ref.length !== 2 || !isContextKey(key)) return { error: `unknown context field in ${raw}; use one of ${CONTEXT_KEYS.map((k) => `\${context.${k}}`).join(', ')}` };
      const v = ctx[key];
      if (v === null || v === undefined) return { error: `${raw} is not set for this resource (a shared resource has no ${key})` };
      return { value: v };
    },
    { final: true, ...opts },
  );
}

export function isContextKey(key: string | undefined): key is ContextKey {
  return (CONTEXT_KEYS as readonly (string | undefined)[]).includes(key);
}
