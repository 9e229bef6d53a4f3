import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

/**
 * Score workload files (`score.dev/v1b1`, https://score.dev) → validated, typed `ScoreWorkload`s.
 *
 * Validation is the official Score JSON Schema (`score-v1b1.json`, shipped beside this file; see
 * SCORE-SCHEMA.md), run with ajv and all errors collected. Errors name the offending field in dotted
 * form (`containers.web.image`) and, when the input was text, its line. After validation the deprecated
 * array forms of `files` and `volumes` are converted to the map form keyed by target path, as the
 * reference implementations (score-compose, score-k8s) do, so a `ScoreWorkload` only has the map form.
 */

export const SCORE_API_VERSION = 'score.dev/v1b1';

/** The official Score JSON Schema (draft 2020-12), as shipped with Pave. */
export const SCORE_SCHEMA: Readonly<Record<string, unknown>> = JSON.parse(
  readFileSync(new URL('./score-v1b1.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

// ---- types (by hand, from score-v1b1.json) --------------------------------------------------------

/** Annotation keys: an optional DNS-prefix and '/', then a name (e.g. `prefix.com/my-key`). */
export type ScoreAnnotations = Record<string, string>;

export interface ScoreWorkloadMetadata {
  /** RFC 1123 label, 2–63 characters. */
  name: string;
  annotations?: ScoreAnnotations;
  /** Score allows any further metadata. */
  [key: string]: unknown;
}

export interface ScoreServicePort {
  port: number;
  /** Defaults to TCP. */
  protocol?: 'TCP' | 'UDP';
  /** Defaults to `port`. */
  targetPort?: number;
}

export interface ScoreService {
  /** Named ports; names are RFC 1123 labels. */
  ports?: Record<string, ScoreServicePort>;
}

interface ScoreFileOptions {
  /** Octal access mode, e.g. "0600". */
  mode?: string;
  /** When true, placeholders in the content are not expanded. */
  noExpand?: boolean;
}

/** A file mounted into a container: exactly one of `content`, `binaryContent` (base64) or `source` (a path). */
export type ScoreFile = ScoreFileOptions &
  (
    | { content: string; binaryContent?: never; source?: never }
    | { binaryContent: string; content?: never; source?: never }
    | { source: string; content?: never; binaryContent?: never }
  );

export interface ScoreVolume {
  /** The external volume reference, typically `${resources.<name>}`. */
  source: string;
  /** Sub path in the volume. */
  path?: string;
  readOnly?: boolean;
}

export interface ScoreResourceLimits {
  /** Bytes with an optional unit, e.g. "128M", "1.5Gi". */
  memory?: string;
  /** Whole or fractional CPUs, or milli-CPUs, e.g. "2", "0.5", "125m". */
  cpu?: string;
}

export interface ScoreHttpProbe {
  path: string;
  port: number;
  host?: string;
  scheme?: 'HTTP' | 'HTTPS';
  httpHeaders?: { name: string; value: string }[];
}

export interface ScoreExecProbe {
  command: string[];
}

/** At least one of `httpGet` and `exec`. */
export interface ScoreProbe {
  httpGet?: ScoreHttpProbe;
  exec?: ScoreExecProbe;
}

export interface ScoreContainer {
  image: string;
  command?: string[];
  args?: string[];
  variables?: Record<string, string>;
  /** Keyed by target path in the container. */
  files?: Record<string, ScoreFile>;
  /** Keyed by target path in the container. */
  volumes?: Record<string, ScoreVolume>;
  /** Containers that must reach a state before this one starts. */
  before?: Record<string, { ready: 'started' | 'healthy' | 'complete' }>;
  resources?: { limits?: ScoreResourceLimits; requests?: ScoreResourceLimits };
  livenessProbe?: ScoreProbe;
  readinessProbe?: ScoreProbe;
}

export interface ScoreResourceMetadata {
  annotations?: ScoreAnnotations;
  [key: string]: unknown;
}

export interface ScoreResource {
  /** e.g. postgres, redis, dns, route, volume, service. */
  type: string;
  /** A specialisation of the type; implementations default it to "default". */
  class?: string;
  /** Makes the resource shared: same type, class and id is the same resource across workloads. */
  id?: string;
  metadata?: ScoreResourceMetadata;
  params?: Record<string, unknown>;
}

export interface ScoreWorkload {
  apiVersion: typeof SCORE_API_VERSION;
  metadata: ScoreWorkloadMetadata;
  service?: ScoreService;
  /** At least one; names are RFC 1123 labels. */
  containers: Record<string, ScoreContainer>;
  resources?: Record<string, ScoreResource>;
}

/** One problem with a Score file: the field in dotted form (`containers.web.image`, "" for the document). */
export interface ScoreError {
  path: string;
  message: string;
  /** 1-based line in the source text, when the input was text and the place is known. */
  line?: number;
  /** The `location` given to parseScore (a file name, a URL). */
  location?: string;
}

/** Success carries the workload and notes about deprecated forms that were converted. */
export type ScoreResult = { workload: ScoreWorkload; warnings: string[] } | { errors: ScoreError[] };

// ---- paths ------------------------------------------------------------------------------------------

/**
 * A field path in dotted form: names as `.name`, array indices as `[0]`, and keys that are not plain
 * names (file targets, annotation keys with dots) as `["/etc/app.conf"]`. E.g.
 * `containers.web.files["/etc/app.conf"].content`, `containers.web.command[1]`.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

// ---- parsing ----------------------------------------------------------------------------------------

/** Parses a Score file (YAML or JSON) and validates it against the Score schema. */
export function parseScore(text: string, location?: string): ScoreResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (e: ScoreError): ScoreError => (location === undefined ? e : { ...e, location });
  if (doc.errors.length > 0) {
    // After the first few, syntax errors are mostly consequences of the first.
    return {
      errors: doc.errors.slice(0, 5).map((e) => at({ path: '', message: `invalid YAML: ${e.message}`, line: lineOf(lineCounter, e.pos[0]) })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { errors: [at({ path: '', message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` })] };
  }
  const result = check(data, (segments) => lineAt(doc, lineCounter, segments));
  if ('errors' in result) return { errors: result.errors.map(at) };
  const warnings = doc.warnings.map((w) => `line ${lineOf(lineCounter, w.pos[0]) ?? '?'}: ${w.message}`);
  return { workload: result.workload, warnings: [...warnings, ...result.warnings] };
}

/** Validates an already-decoded Score document (e.g. from JSON or an API body); errors carry no lines. */
export function validateScore(obj: unknown): ScoreResult {
  return check(obj, () => undefined);
}

/** The result's workload, or a thrown Error listing every problem. */
export function loadScore(text: string, location?: string): ScoreWorkload {
  const result = parseScore(text, location);
  if ('workload' in result) return result.workload;
  const where = location ? `${location}: ` : '';
  throw new Error(`${where}invalid Score file:\n${result.errors.map(formatScoreError).join('\n')}`);
}

/** `containers.web.image (line 7): must be string`. */
export function formatScoreError(e: ScoreError): string {
  const line = e.line === undefined ? '' : ` (line ${e.line})`;
  return `${e.path || '(document)'}${line}: ${e.message}`;
}

type Segments = (string | number)[];
type Locate = (segments: Segments) => number | undefined;

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  // verbose: errors carry their schema, which the messages below use.
  compiled ??= new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false }).compile(SCORE_SCHEMA);
  return compiled;
}

function check(data: unknown, locate: Locate): ScoreResult {
  const validate = validator();
  if (!validate(data)) return { errors: located(explain(validate.errors ?? [], data), locate) };
  const copy = structuredClone(data) as Record<string, unknown>;
  const upgraded = upgradeDeprecatedForms(copy);
  if (upgraded.errors.length > 0) return { errors: located(upgraded.errors, locate) };
  return { workload: copy as unknown as ScoreWorkload, warnings: upgraded.warnings };
}

function located(issues: readonly Issue[], locate: Locate): ScoreError[] {
  const errors = issues.map(({ segments, message }): ScoreError => {
    const line = locate(segments);
    return line === undefined ? { path: formatPath(segments), message } : { path: formatPath(segments), message, line };
  });
  return sortErrors(errors);
}

function sortErrors(errors: ScoreError[]): ScoreError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.line ?? Infinity) - (b.e.line ?? Infinity) || a.i - b.i)
    .map(({ e }) => e);
}

// ---- ajv errors → messages --------------------------------------------------------------------------

interface Issue {
  segments: Segments;
  message: string;
}

/** Plain-words descriptions of the Score schema's patterns; others keep ajv's message. */
export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  '^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$': "must be an RFC 1123 label of 2 to 63 characters: a-z, 0-9 and '-', not starting or ending with '-'",
  '^(([a-z0-9][a-z0-9-]{0,61}[a-z0-9])(\\.[a-z0-9][a-z0-9-]{0,61}[a-z0-9])*/)?[A-Za-z0-9][A-Za-z0-9._-]{0,61}[A-Za-z0-9]$':
    "must be an annotation key: an optional DNS prefix and '/', then letters, digits, '.', '_' or '-' (e.g. example.com/my-key)",
  '^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$': "must be 2 to 63 letters, digits and '-', not starting or ending with '-'",
  '^[a-z0-9]+(?:-+[a-z0-9]+)*(?:\\.[a-z0-9]+(?:-+[a-z0-9]+)*)*$': "must be one or more labels of a-z, 0-9 and '-' separated by '.'",
  '^(0\\.\\d+|[1-9]\\d*(\\.\\d+)?)(K|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$': 'must be a memory quantity such as 128M or 1.5Gi',
  '^\\d+(?:m|\\.\\d+)?$': 'must be a CPU quantity such as 2, 0.5 or 125m',
  '^0?[0-7]{3}$': 'must be an octal file mode such as 0600',
  '^[^=]+$': "must not contain '='",
  '^[A-Za-z0-9_-]+$': "must be letters, digits, '_' and '-'",
};

const LENGTH_IN_PATTERN = new Set(['^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$', '^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$']);

/** JSON pointer → segments, array indices as numbers (looked up in the data). */
function pointerSegments(pointer: string, data: unknown): Segments {
  if (pointer === '') return [];
  const out: Segments = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      out.push(index);
      node = node[index];
    } else {
      out.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Each branch of a oneOf/anyOf is only `{required: [one property]}`: returns those properties. */
function requiredOnlyBranches(branches: unknown): string[] | null {
  if (!Array.isArray(branches)) return null;
  const names: string[] = [];
  for (const b of branches) {
    if (!isRecord(b) || Object.keys(b).length !== 1 || !Array.isArray(b.required) || b.required.length !== 1) return null;
    names.push(String(b.required[0]));
  }
  return names;
}

function branchTypes(branches: unknown): string[] | null {
  if (!Array.isArray(branches)) return null;
  const types: string[] = [];
  for (const b of branches) {
    if (!isRecord(b) || typeof b.type !== 'string') return null;
    types.push(b.type);
  }
  return types;
}

/**
 * Turns ajv's raw errors into one message per problem: the combinators of the Score schema (exactly one
 * of content/binaryContent/source, at least one of httpGet/exec, array-or-map files and volumes) produce
 * one clear message instead of one error per branch.
 */
function explain(raw: readonly ErrorObject[], data: unknown): Issue[] {
  const dropped = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, string>();
  const at = (e: ErrorObject, pointer: string) => e.instancePath === pointer;
  const within = (e: ErrorObject, pointer: string) => e.instancePath === pointer || e.instancePath.startsWith(`${pointer}/`);

  for (const e of raw) {
    if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') continue;
    const branches = isRecord(e.parentSchema) ? e.parentSchema[e.keyword] : undefined;
    const names = requiredOnlyBranches(branches);
    if (names) {
      for (const other of raw) {
        const missing = other.keyword === 'required' ? String(other.params.missingProperty) : null;
        if (other !== e && at(other, e.instancePath) && missing !== null && names.includes(missing)) dropped.add(other);
      }
      const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
      if (e.keyword === 'anyOf') replaced.set(e, `must have at least one of ${quoted(names)}`);
      else if (Array.isArray(passing)) replaced.set(e, `must have only one of ${quoted(passing.map((i) => names[i] ?? String(i)))}`);
      else replaced.set(e, `must have exactly one of ${quoted(names)}`);
      continue;
    }
    const types = branchTypes(branches);
    if (types) {
      // Type mismatches with the other branches are noise once the value has one of the branch types.
      for (const other of raw) {
        if (other !== e && other.keyword === 'type' && at(other, e.instancePath) && types.includes(String(other.params.type))) dropped.add(other);
      }
      const rest = raw.some((other) => other !== e && !dropped.has(other) && within(other, e.instancePath));
      if (rest) dropped.add(e);
      else replaced.set(e, `must be ${types.join(' or ')}`);
    }
  }

  // The label patterns imply the length limits: one message is enough.
  const patternAt = new Set(
    raw.filter((e) => e.keyword === 'pattern' && LENGTH_IN_PATTERN.has(String(e.params.pattern))).map((e) => `${e.instancePath}\u0000${e.propertyName ?? ''}`),
  );
  for (const e of raw) {
    if ((e.keyword === 'minLength' || e.keyword === 'maxLength') && patternAt.has(`${e.instancePath}\u0000${e.propertyName ?? ''}`)) dropped.add(e);
  }

  const issues: Issue[] = [];
  const seen = new Set<string>();
  const push = (segments: Segments, message: string) => {
    const key = `${JSON.stringify(segments)}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    issues.push({ segments, message });
  };

  for (const e of raw) {
    if (dropped.has(e) || e.keyword === 'propertyNames') continue;
    const base = pointerSegments(e.instancePath, data);
    const message = replaced.get(e);
    if (message !== undefined) {
      push(base, message);
      continue;
    }
    if (e.propertyName !== undefined) {
      // An invalid key of a map (a container, port, resource or annotation name).
      const why = e.keyword === 'pattern' ? PATTERN_MESSAGES[String(e.params.pattern)] : undefined;
      push([...base, e.propertyName], `invalid name: ${why ?? e.message ?? 'is not valid'}`);
      continue;
    }
    switch (e.keyword) {
      case 'required':
        push([...base, String(e.params.missingProperty)], 'is required');
        break;
      case 'additionalProperties':
        push([...base, String(e.params.additionalProperty)], 'is not allowed (unknown field)');
        break;
      case 'enum':
        push(base, `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
        break;
      case 'minProperties':
        push(base, `must have at least ${String(e.params.limit)} ${e.params.limit === 1 ? 'entry' : 'entries'}`);
        break;
      case 'not': {
        const not = isRecord(e.parentSchema) ? e.parentSchema.not : undefined;
        const required = isRecord(not) && Array.isArray(not.required) ? not.required.map(String) : [];
        if (required.length === 1 && required[0] === 'target') {
          push([...base, 'target'], 'is only allowed in the deprecated array form; in the map form the key is the target path');
        } else if (required.length > 0) {
          push(base, `must not have ${quoted(required)}`);
        } else {
          push(base, e.message ?? 'is not valid');
        }
        break;
      }
      case 'pattern':
        if (e.instancePath === '/apiVersion') push(base, `must be "${SCORE_API_VERSION}" (got ${JSON.stringify(e.data)})`);
        else push(base, PATTERN_MESSAGES[String(e.params.pattern)] ?? e.message ?? 'is not valid');
        break;
      default:
        push(base, e.message ?? 'is not valid');
    }
  }
  return issues;
}

// ---- deprecated forms -----------------------------------------------------------------------------

/** The array forms of files and volumes → maps keyed by `target`, as score-go's upgrade transforms. */
function upgradeDeprecatedForms(workload: Record<string, unknown>): { warnings: string[]; errors: Issue[] } {
  const warnings: string[] = [];
  const errors: Issue[] = [];
  const containers = isRecord(workload.containers) ? workload.containers : {};
  for (const [name, container] of Object.entries(containers)) {
    if (!isRecord(container)) continue;
    for (const field of ['files', 'volumes'] as const) {
      const list = container[field];
      if (!Array.isArray(list)) continue;
      const asMap: Record<string, unknown> = {};
      list.forEach((item: unknown, i) => {
        if (!isRecord(item)) return;
        const { target, ...rest } = item;
        if (typeof target !== 'string' || target === '') {
          errors.push({ segments: ['containers', name, field, i, 'target'], message: `is required in the deprecated array form of ${field}` });
        } else if (Object.hasOwn(asMap, target)) {
          errors.push({ segments: ['containers', name, field, i, 'target'], message: `duplicates the target ${JSON.stringify(target)}` });
        } else {
          asMap[target] = rest;
        }
      });
      container[field] = asMap;
      warnings.push(`${formatPath(['containers', name, field])}: the array form is deprecated; converted to a map keyed by target path`);
    }
  }
  return { warnings, errors };
}

// ---- lines ------------------------------------------------------------------------------------------

function lineOf(lineCounter: LineCounter, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  const { line } = lineCounter.linePos(offset);
  return line > 0 ? line : 1;
}

/**
 * The line of the field at `segments`: the line of its key for a map entry, of the item for a sequence
 * entry; for a field that is missing, the line of the deepest part that exists (the parent).
 */
function lineAt(doc: Document, lineCounter: LineCounter, segments: Segments): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const seg of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? rangeStart(pair.value) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineOf(lineCounter, offset);
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}
