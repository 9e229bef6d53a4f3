import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { InputsSchema } from './schema.ts';

/**
 * Typed inputs of templates and add-ons: JSON Schema (draft-07) validated with ajv. Defaults are applied,
 * types are not coerced, unknown inputs are rejected, and `user_editable: false` inputs may only be set by
 * the platform team.
 */

export type InputsCaller = 'developer' | 'platform';

export interface InputError {
  /** e.g. `inputs.size`, `inputs.tags[0]`. */
  path: string;
  message: string;
  /** The allowed values, for an enum (or const) error. */
  allowed?: unknown[];
}

export type InputsResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: InputError[] };

export interface ValidateInputsOptions {
  caller: InputsCaller;
  /**
   * The inputs the application has now. A developer may resend a `user_editable: false` input unchanged
   * (e.g. a client that reads, edits and writes back all inputs); any other value is rejected.
   */
  previous?: Record<string, unknown>;
  /** Prefix of error paths; `inputs` by default. */
  prefix?: string;
}

/** An ajv instance that accepts Pave's input schemas (`user_editable`, formats, union types). */
export function createInputsAjv(): Ajv {
  const ajv = new Ajv({
    useDefaults: true,
    allErrors: true,
    coerceTypes: false,
    strict: true,
    strictRequired: true,
    strictTypes: false,
    allowUnionTypes: true,
    logger: false,
  });
  ajvFormats.default(ajv);
  ajv.addKeyword({ keyword: 'user_editable', schemaType: 'boolean' });
  return ajv;
}

/**
 * Checks an inputs schema against the JSON Schema meta-schema: the errors, one per offending location,
 * with `instancePath` a JSON pointer into the schema (e.g. `/properties/size/enum`). Empty when valid.
 * Strict-mode problems (unknown keywords) only show when compiling.
 */
export function inputsSchemaErrors(schema: unknown): { instancePath: string; message: string }[] {
  const ajv = sharedAjv();
  if (ajv.validateSchema(closeObjects(schema) as object)) return [];
  const seen = new Set<string>();
  const out: { instancePath: string; message: string }[] = [];
  for (const e of ajv.errors ?? []) {
    if (seen.has(e.instancePath)) continue;
    seen.add(e.instancePath);
    out.push({ instancePath: e.instancePath, message: e.message ?? 'is invalid' });
  }
  return out;
}

/** Compiles an inputs schema (cached); throws ajv's error when the schema itself is invalid. */
export function compileInputsSchema(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const fn = sharedAjv().compile(closeObjects(schema) as object);
  cache.set(key, fn);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return fn;
}

const CACHE_SIZE = 256;
const cache = new Map<string, ValidateFunction>();
let ajvInstance: Ajv | undefined;
function sharedAjv(): Ajv {
  ajvInstance ??= createInputsAjv();
  return ajvInstance;
}

/**
 * Unknown inputs are rejected: an object schema with `properties` and no `additionalProperties` gets
 * `additionalProperties: false` (recursively, for nested object inputs too).
 */
function closeObjects(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = { ...schema };
  delete out.$id; // schemas share one ajv instance; ids would collide
  if (isObject(out.properties)) {
    if (out.additionalProperties === undefined && out.patternProperties === undefined) out.additionalProperties = false;
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, closeObjects(v)]));
  }
  if (isObject(out.items)) out.items = closeObjects(out.items);
  return out;
}

export function validateInputs(schema: InputsSchema | Record<string, unknown>, given: unknown, opts: ValidateInputsOptions): InputsResult {
  const prefix = opts.prefix ?? 'inputs';
  if (given === undefined || given === null) given = {};
  if (!isObject(given)) return { ok: false, errors: [{ path: prefix, message: 'must be an object of input names and values' }] };
  const errors: InputError[] = [];
  const properties = isObject(schema.properties) ? schema.properties : {};

  if (opts.caller === 'developer') {
    for (const [name, prop] of Object.entries(properties)) {
      if (!isObject(prop) || prop.user_editable !== false || !Object.hasOwn(given, name)) continue;
      if (opts.previous && Object.hasOwn(opts.previous, name) && deepEqual(opts.previous[name], given[name])) continue;
      errors.push({ path: `${prefix}.${name}`, message: `is set by the platform team and cannot be changed by developers (user_editable: false)` });
    }
  }

  const value = structuredClone(given);
  const validate = compileInputsSchema(schema);
  if (!validate(value)) {
    for (const e of validate.errors ?? []) {
      const mapped = mapError(e, prefix, properties);
      if (mapped && !errors.some((x) => x.path === mapped.path && x.message === mapped.message)) errors.push(mapped);
    }
  }
  if (errors.length) return { ok: false, errors: errors.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
  return { ok: true, value };
}

function mapError(e: ErrorObject, prefix: string, properties: Record<string, unknown>): InputError | null {
  const path = prefix + pointerToPath(e.instancePath);
  switch (e.keyword) {
    case 'if':
    case 'anyOf':
    case 'oneOf':
      // the branch errors say what is wrong; the combinator's own message only adds noise
      return e.keyword === 'if' ? null : { path, message: e.message ?? 'is invalid' };
    case 'required': {
      const name = (e.params as { missingProperty: string }).missingProperty;
      return { path: `${path}.${name}`, message: 'is required' };
    }
    case 'additionalProperties': {
      const name = (e.params as { additionalProperty: string }).additionalProperty;
      const known = e.instancePath === '' ? Object.keys(properties) : [];
      return {
        path: `${path}.${name}`,
        message: e.instancePath === '' ? `is not an input${known.length ? `; the inputs are ${known.join(', ')}` : '; there are no inputs'}` : 'is not a known field',
      };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      return { path, message: `must be one of ${allowed.map(show).join(', ')}`, allowed };
    }
    case 'const': {
      const allowed = [(e.params as { allowedValue: unknown }).allowedValue];
      return { path, message: `must be ${show(allowed[0])}`, allowed };
    }
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('');
}

// ---- form fields ---------------------------------------------------------------------------------

export interface InputFormField {
  name: string;
  /** JSON Schema type: string, integer, number, boolean, array, object. */
  type: string;
  title: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  required: boolean;
  /** False for `user_editable: false` inputs: the portal shows them read-only. */
  editable: boolean;
}

/** The inputs of a schema as a flat list of form fields, in declaration order, for the portal. */
export function inputsFormFields(schema: InputsSchema | Record<string, unknown>): InputFormField[] {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  return Object.entries(properties).map(([name, raw]) => {
    const p = isObject(raw) ? raw : {};
    const field: InputFormField = {
      name,
      type: typeOf(p),
      title: typeof p.title === 'string' ? p.title : humanize(name),
      required: required.has(name),
      editable: p.user_editable !== false,
    };
    if (typeof p.description === 'string') field.description = p.description;
    if (Array.isArray(p.enum)) field.enum = [...(p.enum as unknown[])];
    if (p.default !== undefined) field.default = structuredClone(p.default);
    if (typeof p.minimum === 'number') field.minimum = p.minimum;
    if (typeof p.maximum === 'number') field.maximum = p.maximum;
    if (typeof p.pattern === 'string') field.pattern = p.pattern;
    if (typeof p.format === 'string') field.format = p.format;
    return field;
  });
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

/** `nodeVersion` → `Node version`, `health_path` → `Health path`. */
export function humanize(name: string): string {
  const words = name
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A copy with object keys sorted, for canonical JSON. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}
