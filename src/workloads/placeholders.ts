import { formatPath, type ScoreWorkload } from './score.ts';

/**
 * Score placeholders, with the semantics of score-go's substitution (used by score-compose and score-k8s):
 *
 * - `${metadata.name}`, `${metadata.annotations.x}`: the workload's metadata;
 * - `${resources.<name>.<output>}`: an output of a resource the workload declares; further dots go into
 *   nested outputs (`${resources.db.conn.host}`); `\.` is a literal dot in a key
 *   (`${metadata.annotations.example\.com/team}`);
 * - `$$` is a literal `$`, so `$${x}` yields `${x}`; a `$` not followed by `{` or `$` stays as it is;
 * - a value that is not a string is written as JSON (a port 5432 → "5432");
 * - anything else (an unknown root, resource, output or metadata key) is an error naming the
 *   placeholder and the field it is in.
 *
 * Pave extension: an output key that itself contains dots (`{"tls.crt": …}`) is found without escaping,
 * when no nested output matches.
 */

/** Metadata and resource outputs that placeholders resolve against. */
export interface PlaceholderContext {
  metadata: Readonly<Record<string, unknown>>;
  /** Outputs per resource name (the name in the workload's `resources`). */
  resources: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A placeholder found in a string. */
export interface Placeholder {
  /** As written, e.g. `${resources.db.host}`. */
  text: string;
  /** Between the braces, e.g. `resources.db.host`. */
  ref: string;
  /** The reference split on unescaped dots, e.g. ['resources', 'db', 'host']. */
  parts: string[];
  /** Offset of the placeholder in the string. */
  index: number;
}

/** A placeholder that cannot be resolved. */
export class PlaceholderError extends Error {
  /** As written, e.g. `${resources.db.hots}`. */
  readonly placeholder: string;
  /** The field it is in, e.g. `containers.web.variables.DB_HOST`; "" when not given. */
  readonly path: string;
  /** Why, e.g. "resource 'db' has no output 'hots'". */
  readonly reason: string;
  constructor(placeholder: string, path: string, reason: string) {
    super(`invalid placeholder ${placeholder}${path ? ` in ${path}` : ''}: ${reason}`);
    this.name = 'PlaceholderError';
    this.placeholder = placeholder;
    this.path = path;
    this.reason = reason;
  }
}

/** Every unresolvable placeholder of a workload. */
export class WorkloadResolveError extends Error {
  readonly errors: readonly PlaceholderError[];
  constructor(errors: readonly PlaceholderError[]) {
    super(`${errors.length} placeholder${errors.length === 1 ? '' : 's'} cannot be resolved:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'WorkloadResolveError';
    this.errors = errors;
  }
}

// score-go: \$((?:\$?{([^}]*)})|\$) — `$${…}` and `$$` are escapes, `${…}` a placeholder.
const PLACEHOLDER = /\$((?:\$?\{([^}]*)\})|\$)/g;

/** Splits a reference on dots; `\.` is a dot inside a part (as score-go's SplitRefParts). */
export function splitRef(ref: string): string[] {
  return ref
    .replaceAll('\\.', '\u0000')
    .split('.')
    .map((p) => p.replaceAll('\u0000', '.'));
}

/** The placeholders in a string, in order; escaped ones (`$${x}`) are not placeholders. */
export function placeholdersIn(value: string): Placeholder[] {
  const out: Placeholder[] = [];
  for (const m of value.matchAll(PLACEHOLDER)) {
    const body = m[1] ?? '';
    if (body.startsWith('$') || m[2] === undefined) continue;
    out.push({ text: m[0], ref: m[2], parts: splitRef(m[2]), index: m.index });
  }
  return out;
}

/** A string with every placeholder replaced and every `$$` unescaped; throws the first PlaceholderError. */
export function substitute(value: string, ctx: PlaceholderContext, where = ''): string {
  const errors: PlaceholderError[] = [];
  const out = expand(value, where, errors, (p) => lookup(p, ctx));
  if (errors[0]) throw errors[0];
  return out;
}

// ---- resolution -------------------------------------------------------------------------------------

type Lookup = { value: unknown } | { reason: string };
type Resolver = (p: Placeholder) => Lookup;

function expand(value: string, where: string, errors: PlaceholderError[], resolve: Resolver): string {
  return value.replace(PLACEHOLDER, (text: string, body: string, ref: string | undefined, index: number) => {
    if (body.startsWith('$') || ref === undefined) return text.slice(1); // `$$` → `$`, `$${x}` → `${x}`
    const found = resolve({ text, ref, parts: splitRef(ref), index });
    if ('reason' in found) {
      errors.push(new PlaceholderError(text, where, found.reason));
      return text;
    }
    return typeof found.value === 'string' ? found.value : JSON.stringify(found.value);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Follows keys into nested maps. Where a key is missing (or leads to a non-map while more keys follow),
 * keys joined with dots are tried, so a flat output named `tls.crt` is found too.
 */
function walk(root: unknown, keys: readonly string[], what: string, noun: string): Lookup {
  let node = root;
  let i = 0;
  while (i < keys.length) {
    if (!isRecord(node)) return { reason: `${what} ${noun} '${keys.slice(0, i).join('.')}' is not a map (cannot look up '${keys[i] ?? ''}')` };
    let next = -1;
    for (let j = i + 1; j <= keys.length; j++) {
      const key = keys.slice(i, j).join('.');
      if (!Object.hasOwn(node, key)) continue;
      if (j === keys.length || isRecord(node[key])) {
        next = j;
        break;
      }
      if (next < 0) next = j; // a non-map here only helps if no longer key matches
    }
    if (next < 0) return { reason: `${what} has no ${noun} '${keys.slice(0, i + 1).join('.')}'` };
    node = node[keys.slice(i, next).join('.')];
    i = next;
  }
  return { value: node };
}

function lookup(p: Placeholder, ctx: PlaceholderContext, declared?: ReadonlySet<string>): Lookup {
  const [root, ...rest] = p.parts;
  if (root === 'metadata') {
    if (rest.length === 0) return { reason: 'needs a metadata key, e.g. ${metadata.name}' };
    return walk(ctx.metadata, rest, 'metadata', 'key');
  }
  if (root === 'resources') {
    const [name, ...keys] = rest;
    if (name === undefined || name === '') return { reason: 'needs a resource name, e.g. ${resources.db.host}' };
    if (declared && !declared.has(name)) return { reason: `resource '${name}' is not declared in the workload's resources` };
    if (!Object.hasOwn(ctx.resources, name)) return { reason: `no outputs for resource '${name}' (not provisioned)` };
    if (keys.length === 0) return { reason: `needs an output key, e.g. \${resources.${name}.host}` };
    return walk(ctx.resources[name], keys, `resource '${name}'`, 'output');
  }
  return { reason: `unknown reference '${p.ref}': placeholders start with metadata. or resources. (write $$ for a literal $)` };
}

/** The secret output keys per resource name; a key covers its nested outputs (`conn` covers `conn.password`). */
export type SecretOutputs = Readonly<Record<string, Iterable<string>>>;

function secretTest(secrets: SecretOutputs | undefined): (p: Placeholder) => boolean {
  const sets = new Map<string, Set<string>>();
  for (const [name, keys] of Object.entries(secrets ?? {})) sets.set(name, new Set(keys));
  return (p) => {
    const [root, name, ...keys] = p.parts;
    const set = root === 'resources' && name !== undefined ? sets.get(name) : undefined;
    if (!set || keys.length === 0) return false;
    for (let j = 1; j <= keys.length; j++) if (set.has(keys.slice(0, j).join('.'))) return true;
    return false;
  };
}

export interface ResolveContext {
  /** Defaults to the workload's own metadata. */
  metadata?: Readonly<Record<string, unknown>>;
  resources: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface ResolvedWorkload {
  workload: ScoreWorkload;
  /** Variables whose value contains a secret output: store them as secrets. */
  secretVariables: { container: string; name: string }[];
  /** Files whose expanded content contains a secret output. */
  secretFiles: { container: string; target: string }[];
}

/**
 * A resolved copy of the workload: placeholders substituted in container command, args, variables and
 * file contents (unless `noExpand`), and in resource params (which may reference other resources'
 * outputs). Volume sources (`${resources.data}`) are resource references for the runtime and stay as
 * they are; so do files given by `source` (the runtime expands them when it reads them). Throws a
 * WorkloadResolveError listing every placeholder that cannot be resolved.
 */
export function resolveWorkload(workload: ScoreWorkload, ctx: ResolveContext, secretOutputs?: SecretOutputs): ResolvedWorkload {
  const out = structuredClone(workload);
  const full: PlaceholderContext = { metadata: ctx.metadata ?? workload.metadata, resources: ctx.resources };
  const declared = new Set(Object.keys(workload.resources ?? {}));
  const isSecret = secretTest(secretOutputs);
  const errors: PlaceholderError[] = [];
  const secretVariables: ResolvedWorkload['secretVariables'] = [];
  const secretFiles: ResolvedWorkload['secretFiles'] = [];

  const seen = { secret: false };
  const resolve: Resolver = (p) => {
    const found = lookup(p, full, declared);
    if (!('reason' in found) && isSecret(p)) seen.secret = true;
    return found;
  };
  const sub = (value: string, segments: (string | number)[]): string => expand(value, formatPath(segments), errors, resolve);

  for (const [cname, c] of Object.entries(out.containers)) {
    if (c.command) c.command = c.command.map((v, i) => sub(v, ['containers', cname, 'command', i]));
    if (c.args) c.args = c.args.map((v, i) => sub(v, ['containers', cname, 'args', i]));
    const variables = c.variables ?? {};
    for (const [name, value] of Object.entries(variables)) {
      seen.secret = false;
      variables[name] = sub(value, ['containers', cname, 'variables', name]);
      if (seen.secret) secretVariables.push({ container: cname, name });
    }
    for (const [target, file] of Object.entries(c.files ?? {})) {
      if (file.content === undefined || file.noExpand === true) continue;
      seen.secret = false;
      file.content = sub(file.content, ['containers', cname, 'files', target, 'content']);
      if (seen.secret) secretFiles.push({ container: cname, target });
    }
  }
  for (const [name, res] of Object.entries(out.resources ?? {})) {
    if (res.params) res.params = substituteDeep(res.params, ['resources', name, 'params'], sub) as Record<string, unknown>;
  }
  if (errors.length > 0) throw new WorkloadResolveError(errors);
  return { workload: out, secretVariables, secretFiles };
}

/**
 * One resource's params with placeholders resolved: what the resource graph does just before
 * provisioning that resource, once the resources it depends on have outputs.
 */
export function resolveParams(workload: ScoreWorkload, resourceName: string, ctx: ResolveContext): Record<string, unknown> {
  const res = workload.resources?.[resourceName];
  if (!res) throw new Error(`workload '${workload.metadata.name}' has no resource '${resourceName}'`);
  const full: PlaceholderContext = { metadata: ctx.metadata ?? workload.metadata, resources: ctx.resources };
  const declared = new Set(Object.keys(workload.resources ?? {}));
  const errors: PlaceholderError[] = [];
  const sub = (value: string, segments: (string | number)[]) => expand(value, formatPath(segments), errors, (p) => lookup(p, full, declared));
  const params = substituteDeep(structuredClone(res.params ?? {}), ['resources', resourceName, 'params'], sub) as Record<string, unknown>;
  if (errors.length > 0) throw new WorkloadResolveError(errors);
  return params;
}

function substituteDeep(value: unknown, segments: (string | number)[], sub: (v: string, s: (string | number)[]) => string): unknown {
  if (typeof value === 'string') return sub(value, segments);
  if (Array.isArray(value)) return value.map((v: unknown, i) => substituteDeep(v, [...segments, i], sub));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteDeep(v, [...segments, k], sub);
    return out;
  }
  return value;
}

function stringsIn(value: unknown, segments: (string | number)[], visit: (s: string, segments: (string | number)[]) => void): void {
  if (typeof value === 'string') visit(value, segments);
  else if (Array.isArray(value)) value.forEach((v: unknown, i) => stringsIn(v, [...segments, i], visit));
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) stringsIn(v, [...segments, k], visit);
}

/**
 * The dependency edges between a workload's resources: for every declared resource (in declaration
 * order), the names of the resources its params reference. A name may be undeclared (checkPlaceholders
 * reports it) or the resource itself; cycles are the resource graph's to detect.
 */
export function referencedResources(workload: ScoreWorkload): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const [name, res] of Object.entries(workload.resources ?? {})) {
    const refs = new Set<string>();
    stringsIn(res.params ?? {}, [], (s) => {
      for (const p of placeholdersIn(s)) {
        const [root, target] = p.parts;
        if (root === 'resources' && target) refs.add(target);
      }
    });
    edges.set(name, refs);
  }
  return edges;
}

/**
 * Checks every placeholder of a workload without resource outputs: the root is metadata or resources,
 * metadata keys exist, referenced resources are declared and name an output (a volume source may name
 * just the resource: `${resources.data}`).
 */
export function checkPlaceholders(workload: ScoreWorkload): PlaceholderError[] {
  const errors: PlaceholderError[] = [];
  const declared = new Set(Object.keys(workload.resources ?? {}));
  const check = (value: string, segments: (string | number)[], wholeResource = false) => {
    for (const p of placeholdersIn(value)) {
      const [root, name, ...keys] = p.parts;
      let reason: string | undefined;
      if (root === 'metadata') {
        const found = lookup(p, { metadata: workload.metadata, resources: {} });
        if ('reason' in found) reason = found.reason;
      } else if (root === 'resources') {
        if (name === undefined || name === '') reason = 'needs a resource name, e.g. ${resources.db.host}';
        else if (!declared.has(name)) reason = `resource '${name}' is not declared in the workload's resources`;
        else if (keys.length === 0 && !wholeResource) reason = `needs an output key, e.g. \${resources.${name}.host}`;
      } else {
        reason = `unknown reference '${p.ref}': placeholders start with metadata. or resources. (write $$ for a literal $)`;
      }
      if (reason !== undefined) errors.push(new PlaceholderError(p.text, formatPath(segments), reason));
    }
  };
  for (const [cname, c] of Object.entries(workload.containers)) {
    c.command?.forEach((v, i) => check(v, ['containers', cname, 'command', i]));
    c.args?.forEach((v, i) => check(v, ['containers', cname, 'args', i]));
    for (const [name, value] of Object.entries(c.variables ?? {})) check(value, ['containers', cname, 'variables', name]);
    for (const [target, file] of Object.entries(c.files ?? {})) {
      if (file.content !== undefined && file.noExpand !== true) check(file.content, ['containers', cname, 'files', target, 'content']);
    }
    for (const [target, volume] of Object.entries(c.volumes ?? {})) check(volume.source, ['containers', cname, 'volumes', target, 'source'], true);
  }
  for (const [name, res] of Object.entries(workload.resources ?? {})) {
    stringsIn(res.params ?? {}, ['resources', name, 'params'], (s, segments) => check(s, segments));
  }
  return errors;
}
