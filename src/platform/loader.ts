import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { maxSatisfying } from 'semver';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { canonical, compileInputsSchema, inputsSchemaErrors } from './inputs.ts';
import { findPlaceholders, formatPath, type PathSegment } from './placeholders.ts';
import {
  API_VERSION,
  describeObject,
  ENVIRONMENT_TYPES,
  isPlatformKind,
  PLATFORM_KINDS,
  PLATFORM_SCHEMAS,
  type AddOn,
  type InputsSchema,
  type PlatformObject,
  type ResourceType,
} from './schema.ts';

/**
 * Loads a platform (golden paths as code) from a folder or a git repository: every `*.yaml` / `*.yml`,
 * several documents per file allowed. A bad document is reported with its file, line and reason and
 * left out; the good ones load.
 */

export interface LoadedObject {
  object: PlatformObject;
  /** Path relative to the platform folder (or to the repository root when loaded from git), with "/". */
  file: string;
  /** 1-based index of the YAML document in the file. */
  document: number;
  /** sha256 (hex) of the canonical JSON (sorted keys) of the validated object. */
  digest: string;
}

export interface PlatformFileError {
  file: string;
  /** 1-based document index; 0 for an error about the whole file (unreadable, too large). */
  document: number;
  /** 1-based line of the offending node, or null when unknown. */
  line: number | null;
  /** Dotted path of the offending field, e.g. `spec.inputs.properties.size.enum`, or null. */
  path: string | null;
  message: string;
  /** The kind of the object the error is about, when the document got that far. */
  kind?: string;
}

export interface PlatformLoadResult {
  objects: LoadedObject[];
  errors: PlatformFileError[];
}

export interface LoadOptions {
  /** Known driver ids; when given, a resource definition naming another driver is an error. */
  drivers?: readonly string[];
  /** Check references between objects (resource types, add-on versions, templates); default true. */
  checkReferences?: boolean;
}

/** `platform/addons/postgres.yaml:12: spec.inputs.properties.size.enum: must be array`. */
export function formatPlatformError(e: PlatformFileError): string {
  const where = e.line === null ? e.file : `${e.file}:${e.line}`;
  const doc = e.document > 1 ? ` (document ${e.document})` : '';
  return `${where}${doc}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

const MAX_FILE_BYTES = 1024 * 1024;
const YAML_FILE = /\.ya?ml$/i;

// ---- one file ------------------------------------------------------------------------------------

/** A loaded object and how to find the line of one of its fields (for errors found later). */
interface Parsed {
  loaded: LoadedObject;
  lineOf: (path: readonly PathSegment[]) => number | null;
}

interface FileResult {
  parsed: Parsed[];
  errors: PlatformFileError[];
}

/** Parses and validates one file's text; `file` is the path to report. Checks nothing across objects. */
export function parsePlatformFile(file: string, text: string): PlatformLoadResult {
  const r = parseFile(file, text);
  return { objects: r.parsed.map((p) => p.loaded), errors: r.errors };
}

function parseFile(file: string, text: string): FileResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true });
  const parsed: Parsed[] = [];
  const errors: PlatformFileError[] = [];
  let index = 0;
  for (const doc of docs) {
    index += 1;
    const document = index;
    let kind: string | undefined;
    const err = (line: number | null, path: string | null, message: string) => errors.push({ file, document, line, path, message, ...(kind ? { kind } : {}) });
    const syntax = doc.errors[0];
    if (syntax) {
      err(syntax.linePos?.[0].line ?? null, null, `YAML syntax error: ${syntaxMessage(syntax.message)}`);
      continue;
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue; // an empty document, e.g. after a trailing "---"
    const lineOf = (path: readonly PathSegment[]) => locate(doc, lineCounter, path);
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      err(lineOf([]), null, `cannot read the document: ${(e as Error).message}`);
      continue;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      err(lineOf([]), null, `must be a mapping with apiVersion, kind, metadata and spec`);
      continue;
    }
    const obj = data as Record<string, unknown>;
    if (obj.apiVersion !== API_VERSION) {
      err(lineOf(['apiVersion']), 'apiVersion', obj.apiVersion === undefined ? `is required: "${API_VERSION}"` : `must be "${API_VERSION}" (got ${JSON.stringify(obj.apiVersion)})`);
      continue;
    }
    if (!isPlatformKind(obj.kind)) {
      err(
        lineOf(['kind']),
        'kind',
        obj.kind === undefined ? `is required: one of ${PLATFORM_KINDS.join(', ')}` : `unknown kind ${JSON.stringify(obj.kind)}: must be one of ${PLATFORM_KINDS.join(', ')}`,
      );
      continue;
    }
    kind = obj.kind;
    const schema: z.ZodType = PLATFORM_SCHEMAS[obj.kind];
    const result = schema.safeParse(obj);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const { path, message } = describeIssue(issue);
        err(lineOf(path), formatPath(path) || null, message);
      }
      continue;
    }
    const object = result.data as PlatformObject;
    const schemaErrors = checkInputsSchema(object);
    if (schemaErrors.length) {
      for (const e of schemaErrors) err(lineOf(e.path), formatPath(e.path), e.message);
      continue;
    }
    parsed.push({ loaded: { object, file, document, digest: digestOf(object) }, lineOf });
  }
  return { parsed, errors };
}

function syntaxMessage(message: string): string {
  // yaml's pretty errors append " at line N, column M:" and a code excerpt; the line is reported apart
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

/** sha256 hex of the canonical JSON (object keys sorted) of a value. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue): { path: PathSegment[]; message: string } {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    if (path[path.length - 1] === 'environments' && path[0] === 'spec')
      return { path: [...path, keys[0] as string], message: `unknown environment type ${keys.map((k) => `"${k}"`).join(', ')}: must be one of ${ENVIRONMENT_TYPES.join(', ')}` };
    return { path: keys.length === 1 ? [...path, keys[0] as string] : path, message: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}` };
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0];
    return { path, message: `invalid name: ${inner ? cleanMessage(inner.message) : issue.message}` };
  }
  return { path, message: cleanMessage(issue.message) };
}

function cleanMessage(message: string): string {
  if (/^Invalid input: expected \w+, received undefined$/.test(message)) return 'is required';
  const m = /^Invalid input: expected (\w+), received (\w+)$/.exec(message);
  if (m) return `must be ${article(m[1] as string)} (got ${m[2]})`;
  if (/^Too small: expected string to have >=1 characters?$/.test(message)) return 'must not be empty';
  const size = /^Too (?:small|big): expected \w+ to (?:be|have) ([<>]=?)(\S+)( \w+)?$/.exec(message);
  if (size) return `must ${size[3] ? 'have' : 'be'} ${size[1]} ${size[2]}${size[3] ?? ''}`;
  return message;
}

function article(type: string): string {
  const t = type === 'record' ? 'object' : type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/**
 * Line of the node at `path`: the line of the key holding it (or of the sequence item), or of the
 * deepest existing ancestor when the field is missing.
 */
function locate(doc: Document, lc: LineCounter, path: readonly PathSegment[]): number | null {
  const lineAt = (n: unknown): number | null => (isNode(n) && n.range ? lc.linePos(n.range[0]).line : null);
  let node: unknown = doc.contents;
  let line = lineAt(node);
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (!pair) break;
      line = lineAt(pair.key) ?? lineAt(pair.value) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) break;
      line = lineAt(item) ?? line;
      node = item;
    } else break;
  }
  return line;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string' || typeof key === 'number') return String(key);
  return undefined;
}

/** Compiles the inputs JSON Schema of a template or add-on with ajv, and checks its defaults. */
function checkInputsSchema(object: PlatformObject): { path: PathSegment[]; message: string }[] {
  if (object.kind !== 'Template' && object.kind !== 'AddOn') return [];
  const inputs: InputsSchema = object.spec.inputs;
  const base: PathSegment[] = ['spec', 'inputs'];
  const metaErrors = inputsSchemaErrors(inputs);
  if (metaErrors.length) return metaErrors.map((x) => ({ path: [...base, ...pointerSegments(x.instancePath)], message: `invalid JSON Schema: ${x.message}` }));
  let validate: ReturnType<typeof compileInputsSchema>;
  try {
    validate = compileInputsSchema(inputs);
  } catch (e) {
    const message = (e as Error).message;
    const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
    const at = keyword ? findKey(inputs, keyword) : null;
    return [{ path: [...base, ...(at ?? [])], message: keyword ? `invalid JSON Schema: unknown keyword "${keyword}"` : `invalid JSON Schema: ${message}` }];
  }
  // defaults must satisfy their own property's schema
  const defaults: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(inputs.properties)) if (prop.default !== undefined) defaults[name] = structuredClone(prop.default);
  if (validate(defaults)) return [];
  const out: { path: PathSegment[]; message: string }[] = [];
  for (const e of validate.errors ?? []) {
    const [name] = pointerSegments(e.instancePath);
    if (typeof name !== 'string' || !Object.hasOwn(inputs.properties, name) || inputs.properties[name]?.default === undefined) continue;
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    const message = allowed ? `must be one of ${allowed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}` : (e.message ?? 'is invalid');
    out.push({ path: [...base, 'properties', name, 'default'], message: `the default ${JSON.stringify(inputs.properties[name]?.default)} does not fit the input's schema: ${message}` });
  }
  return out;
}

function pointerSegments(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function findKey(value: unknown, key: string, path: PathSegment[] = []): PathSegment[] | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = findKey(value[i], key, [...path, i]);
      if (r) return r;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) return [...path, k];
      const r = findKey(v, key, [...path, k]);
      if (r) return r;
    }
  }
  return null;
}

// ---- a folder ------------------------------------------------------------------------------------

/** Loads every `*.yaml` / `*.yml` under `dir` (hidden folders and node_modules skipped), sorted by path. */
export async function loadPlatformFolder(dir: string, opts: LoadOptions = {}): Promise<PlatformLoadResult> {
  const root = resolve(dir);
  const files = await listYamlFiles(root);
  const results: FileResult[] = [];
  for (const abs of files) {
    const file = relative(root, abs).split(sep).join('/');
    try {
      const info = await stat(abs);
      if (info.size > MAX_FILE_BYTES) {
        results.push({ parsed: [], errors: [{ file, document: 0, line: null, path: null, message: `file is larger than ${MAX_FILE_BYTES} bytes` }] });
        continue;
      }
      results.push(parseFile(file, await readFile(abs, 'utf8')));
    } catch (e) {
      results.push({ parsed: [], errors: [{ file, document: 0, line: null, path: null, message: `cannot read the file: ${(e as Error).message}` }] });
    }
  }
  return finish(results, opts);
}

async function listYamlFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && YAML_FILE.test(e.name)) out.push(p);
    }
  };
  await walk(root);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function finish(results: FileResult[], opts: LoadOptions): PlatformLoadResult {
  const errors = results.flatMap((r) => r.errors);
  let parsed = results.flatMap((r) => r.parsed);
  const checked = checkPlatform(parsed, opts);
  parsed = checked.parsed;
  errors.push(...checked.errors);
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.document - b.document || (a.line ?? 0) - (b.line ?? 0)));
  return { objects: parsed.map((p) => p.loaded), errors };
}

// ---- checks across objects -----------------------------------------------------------------------

/**
 * Duplicates and references. Objects are checked in dependency order (resource types, then definitions
 * and add-ons, then templates, then team profiles; policies stand alone), so an object left out makes those that need it
 * fail too, each with its own reason.
 */
function checkPlatform(all: Parsed[], opts: LoadOptions): { parsed: Parsed[]; errors: PlatformFileError[] } {
  const errors: PlatformFileError[] = [];
  const fail = (p: Parsed, path: PathSegment[], message: string) =>
    errors.push({ file: p.loaded.file, document: p.loaded.document, line: p.lineOf(path), path: formatPath(path), message, kind: p.loaded.object.kind });

  // duplicates: the first (by file, then document) wins
  const seen = new Map<string, Parsed>();
  const teams = new Map<string, Parsed>();
  const unique: Parsed[] = [];
  for (const p of all) {
    const o = p.loaded.object;
    const key = `${o.kind}\u0000${o.metadata.name}\u0000${o.metadata.version ?? ''}`;
    const first = seen.get(key);
    if (first) {
      fail(p, ['metadata', 'name'], `duplicate ${describeObject(o)}: already defined in ${first.loaded.file} (document ${first.loaded.document})`);
      continue;
    }
    if (o.kind === 'TeamProfile') {
      const other = teams.get(o.spec.team);
      if (other) {
        fail(p, ['spec', 'team'], `team ${o.spec.team === '*' ? '"*" (the default profile)' : o.spec.team} already has a profile: ${describeObject(other.loaded.object)} in ${other.loaded.file}`);
        continue;
      }
      teams.set(o.spec.team, p);
    }
    seen.set(key, p);
    unique.push(p);
  }
  if (opts.checkReferences === false) return { parsed: unique, errors };

  const kept = new Set<Parsed>();
  const ofKind = <K extends PlatformObject['kind']>(kind: K) => unique.filter((p): p is Parsed & { loaded: { object: Extract<PlatformObject, { kind: K }> } } => p.loaded.object.kind === kind);

  const types = new Map<string, ResourceType>();
  for (const p of ofKind('ResourceType')) {
    types.set(p.loaded.object.metadata.name, p.loaded.object);
    kept.add(p);
  }
  const typeList = () => [...types.keys()].sort().join(', ') || 'none';
  const knownDrivers = opts.drivers ? new Set(opts.drivers) : null;

  for (const p of ofKind('ResourceDefinition')) {
    const spec = p.loaded.object.spec;
    let ok = true;
    if (!types.has(spec.type)) {
      fail(p, ['spec', 'type'], `unknown resource type "${spec.type}" (resource types: ${typeList()})`);
      ok = false;
    }
    if (knownDrivers && !knownDrivers.has(spec.driver)) {
      fail(p, ['spec', 'driver'], `unknown driver "${spec.driver}" (drivers: ${[...knownDrivers].sort().join(', ')})`);
      ok = false;
    }
    if (ok) kept.add(p);
  }

  const addons = new Map<string, AddOn[]>();
  for (const p of ofKind('AddOn')) {
    const spec = p.loaded.object.spec;
    let ok = true;
    for (const [name, res] of Object.entries(spec.resources)) {
      if (!types.has(res.type)) {
        fail(p, ['spec', 'resources', name, 'type'], `unknown resource type "${res.type}" (resource types: ${typeList()})`);
        ok = false;
      }
    }
    // ${resources.<name>.<output>} must name an output of the resource's type
    const refs = [
      ...placeholderRefs(spec.outputs, ['spec', 'outputs']),
      ...Object.entries(spec.resources).flatMap(([name, r]) => placeholderRefs(r.params ?? {}, ['spec', 'resources', name, 'params'])),
    ];
    for (const { path, ref, raw } of refs) {
      if (ref[0] !== 'resources') continue;
      const type = types.get(spec.resources[ref[1] as string]?.type ?? '');
      const output = ref[2] as string;
      if (type && !type.spec.openOutputs && !Object.hasOwn(type.spec.outputs, output)) {
        fail(p, path, `${raw}: resource type ${type.metadata.name} has no output "${output}" (outputs: ${Object.keys(type.spec.outputs).join(', ') || 'none'})`);
        ok = false;
      }
    }
    if (ok) {
      kept.add(p);
      const list = addons.get(p.loaded.object.metadata.name) ?? [];
      list.push(p.loaded.object);
      addons.set(p.loaded.object.metadata.name, list);
    }
  }

  const templates = new Set<string>();
  for (const p of ofKind('Template')) {
    const spec = p.loaded.object.spec;
    let ok = true;
    spec.addons.forEach((ref, i) => {
      const versions = addons.get(ref.addon);
      if (!versions) {
        fail(p, ['spec', 'addons', i, 'addon'], `unknown add-on "${ref.addon}" (add-ons: ${[...addons.keys()].sort().join(', ') || 'none'})`);
        ok = false;
        return;
      }
      const best = maxSatisfying(
        versions.map((a) => a.metadata.version),
        ref.version,
      );
      const addon = versions.find((a) => a.metadata.version === best);
      if (!addon) {
        fail(p, ['spec', 'addons', i, 'version'], `no version of add-on ${ref.addon} satisfies "${ref.version}" (versions: ${versions.map((a) => a.metadata.version).join(', ')})`);
        ok = false;
        return;
      }
      for (const key of Object.keys(ref.inputs ?? {})) {
        if (!Object.hasOwn(addon.spec.inputs.properties, key)) {
          fail(p, ['spec', 'addons', i, 'inputs', key], `add-on ${ref.addon} ${addon.metadata.version} has no input "${key}" (inputs: ${Object.keys(addon.spec.inputs.properties).join(', ') || 'none'})`);
          ok = false;
        }
      }
    });
    for (const [name, res] of Object.entries(spec.workload.resources ?? {})) {
      const type = (res as { type?: unknown } | null)?.type;
      if (typeof type === 'string' && !type.includes('${') && !types.has(type)) {
        fail(p, ['spec', 'workload', 'resources', name, 'type'], `unknown resource type "${type}" (resource types: ${typeList()})`);
        ok = false;
      }
    }
    if (ok) {
      kept.add(p);
      templates.add(p.loaded.object.metadata.name);
    }
  }

  for (const p of ofKind('TeamProfile')) {
    const t = p.loaded.object.spec.defaultTemplate;
    if (t !== undefined && !templates.has(t)) fail(p, ['spec', 'defaultTemplate'], `unknown template "${t}" (templates: ${[...templates].sort().join(', ') || 'none'})`);
    else kept.add(p);
  }

  // policies need nothing else: their expressions were compiled when they were parsed
  for (const p of ofKind('Policy')) kept.add(p);

  return { parsed: unique.filter((p) => kept.has(p)), errors };
}

function placeholderRefs(value: unknown, base: PathSegment[]): { path: PathSegment[]; ref: string[]; raw: string }[] {
  const found = findPlaceholders(value);
  return Array.isArray(found) ? found.map((f) => ({ ...f, path: [...base, ...f.path] })) : [];
}

// ---- git -----------------------------------------------------------------------------------------

export interface GitLoadOptions extends LoadOptions {
  /** Where clones are kept, one folder per repository URL; reused (fetch + checkout) on the next load. */
  cacheDir: string;
  /** The platform's folder inside the repository. */
  subdir?: string;
  /** Time limit for each git command; 120 s by default. */
  timeoutMs?: number;
}

export interface GitLoadResult extends PlatformLoadResult {
  /** The commit that was loaded (full sha). */
  commit: string;
  /** The working copy in the cache. */
  dir: string;
}

/** Git could not clone or fetch; the message is git's own, with credentials in URLs removed. */
export class PlatformGitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformGitError';
  }
}

const locks = new Map<string, Promise<unknown>>();

/**
 * Clones (or, when already cloned, fetches and checks out) `ref` — a branch, tag or full commit sha —
 * of the repository at `url` (https/ssh/file:// URL or local path) into `opts.cacheDir`, and loads the
 * platform from it (or from `opts.subdir`). File paths in the result are relative to the repository root.
 */
export async function loadPlatformFromGit(url: string, ref: string, opts: GitLoadOptions): Promise<GitLoadResult> {
  if (!ref || ref.startsWith('-') || /[\s~^:?*[\\]|\.\.|@\{/.test(ref)) throw new PlatformGitError(`invalid git ref "${ref}"`);
  if (!url || url.startsWith('-')) throw new PlatformGitError(`invalid git repository URL "${redact(url)}"`);
  // a local path is read through file:// so that --depth applies (git ignores it for plain paths)
  const source = isLocalPath(url) ? `file://${resolve(url)}` : url;
  const cacheDir = resolve(opts.cacheDir);
  const dir = join(cacheDir, createHash('sha256').update(source).digest('hex').slice(0, 24));

  const previous = locks.get(dir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => checkout(source, ref, dir, cacheDir, opts.timeoutMs ?? 120_000));
  locks.set(dir, run);
  let commit: string;
  try {
    commit = await run;
  } finally {
    if (locks.get(dir) === run) locks.delete(dir);
  }

  let root = dir;
  let prefix = '';
  if (opts.subdir) {
    root = resolve(dir, opts.subdir);
    if (root !== dir && !root.startsWith(dir + sep)) throw new PlatformGitError(`subdir "${opts.subdir}" is outside the repository`);
    prefix = relative(dir, root).split(sep).join('/');
    const info = await stat(root).catch(() => null);
    if (!info?.isDirectory()) throw new PlatformGitError(`subdir "${opts.subdir}" does not exist at ${ref} (${commit})`);
  }
  const loaded = await loadPlatformFolder(root, opts);
  if (prefix) {
    for (const o of loaded.objects) o.file = `${prefix}/${o.file}`;
    for (const e of loaded.errors) e.file = `${prefix}/${e.file}`;
  }
  return { ...loaded, commit, dir };
}

async function checkout(source: string, ref: string, dir: string, cacheDir: string, timeoutMs: number): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const isSha = /^[0-9a-f]{40}$/i.test(ref);
  const exists = await stat(join(dir, '.git')).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (exists) {
    try {
      await git(['fetch', '--depth', '1', '--force', '--no-tags', 'origin', ref], dir, timeoutMs);
      await git(['checkout', '--force', '--detach', 'FETCH_HEAD'], dir, timeoutMs);
      await git(['clean', '-ffdx'], dir, timeoutMs);
      return await git(['rev-parse', 'HEAD'], dir, timeoutMs);
    } catch (e) {
      if (!(e instanceof PlatformGitError)) throw e;
      // a broken cache (or a remote that moved) is cloned again; the old copy goes once that succeeded
    }
  }
  const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    if (isSha) {
      await git(['init', '--quiet', tmp], cacheDir, timeoutMs);
      await git(['remote', 'add', 'origin', source], tmp, timeoutMs);
      await git(['fetch', '--depth', '1', '--no-tags', 'origin', ref], tmp, timeoutMs);
      await git(['checkout', '--quiet', '--detach', 'FETCH_HEAD'], tmp, timeoutMs);
    } else {
      await git(['clone', '--quiet', '--depth', '1', '--no-tags', '--branch', ref, '--', source, tmp], cacheDir, timeoutMs);
    }
    const commit = await git(['rev-parse', 'HEAD'], tmp, timeoutMs);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return commit;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

function git(args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_CEILING_DIRECTORIES']) delete env[k];
  return new Promise((resolvePromise, reject) => {
    execFile('git', args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const lines = String(stderr).trim().split('\n').filter(Boolean);
        const serious = lines.filter((l) => !l.startsWith('warning:') && !l.startsWith('hint:'));
        const reason = redact((serious.length ? serious : lines).join('; ') || error.message);
        reject(new PlatformGitError(`git ${args[0]} failed: ${reason}`));
      } else resolvePromise(String(stdout).trim());
    });
  });
}

/** Removes user:password@ from URLs in a message. */
function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

function isLocalPath(url: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return false; // https://, ssh://, file://
  if (/^[^/\s]+@[^/\s]+:/.test(url)) return false; // scp-like git@host:org/repo
  return isAbsolute(url) || url.startsWith('.') || !url.includes(':');
}

/** For callers that want to know what a digest covers: the objects of a platform sorted by kind and name. */
export function platformDigest(objects: readonly LoadedObject[]): string {
  const keys = objects.map((o) => `${describeObject(o.object)} ${o.digest}`).sort();
  return createHash('sha256').update(keys.join('\n')).digest('hex');
}
