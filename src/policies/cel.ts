import { CelScalar, celEnv, isCelError, isCelList, isCelMap, isCelUint, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { isMessage } from '@bufbuild/protobuf';
import { isReflectMessage } from '@bufbuild/protobuf/reflect';
import { timestampDate, TimestampSchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { PolicyEvent } from '../contracts/policies.ts';

/**
 * The policy language: CEL (https://cel.dev) over four variables, `request`, `team`, `now` and
 * `params`. Expressions are parsed and checked once, when the platform loads: syntax, unknown names
 * and functions, and the fields of `request` (per event), `team` and `params` they use, so that a typo
 * is reported with its line instead of failing every request. Pure: no I/O, nothing of Pave but the
 * contracts.
 */

// ---- what an expression sees ---------------------------------------------------------------------

/** `value`: a scalar or a list; `open`: a map whose keys are data (inputs, params); an object: known fields. */
export type Shape = { readonly [field: string]: Shape | 'value' | 'open' };

const ACTOR: Shape = { user: 'value', roles: 'value' };
const APPLICATION: Shape = { name: 'value', namespace: 'value', ref: 'value', owner: 'value', team: 'value', template: 'value', templateVersion: 'value', inputs: 'open' };
const ENVIRONMENT: Shape = { name: 'value', type: 'value', region: 'value' };
const COMMON: Shape = { event: 'value', actor: ACTOR, application: APPLICATION, environment: ENVIRONMENT };

/** The fields of `request`, per event. Every field is always present (empty when unknown), so a checked path never fails. */
export const REQUEST_SHAPES: Record<PolicyEvent, Shape> = {
  'application.create': { ...COMMON, environments: 'value', addons: 'value' },
  'addon.attach': { ...COMMON, addon: { name: 'value', instance: 'value', version: 'value', inputs: 'open' } },
  'resource.provision': { ...COMMON, resource: { name: 'value', type: 'value', class: 'value', id: 'value', origin: 'value', params: 'open', exists: 'value' } },
  'deployment.create': { ...COMMON, deployment: { build: 'value', replicas: 'value', release: 'value', promotedFrom: 'value', runtime: 'value' } },
  release: { ...COMMON, release: { kind: 'value', deployment: 'value', build: 'value', runtime: 'value' } },
  'action.run': { ...COMMON, action: { id: 'value', key: 'value', kind: 'value', source: 'value', title: 'value', params: 'open' } },
};

export const TEAM_SHAPE: Shape = { name: 'value', applications: 'value', resources: 'open' };

export const VARIABLES = ['request', 'team', 'now', 'params'] as const;
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn', 'timestamp', 'duration']);

const env = celEnv({ funcs: strings, variables: { request: CelScalar.DYN, team: CelScalar.DYN, now: CelScalar.DYN, params: CelScalar.DYN } });
const FUNCTIONS = new Set<string>(['_&&_', '_||_', '_?_:_', '_[_]', '@not_strictly_false']);
for (const f of env.funcs) FUNCTIONS.add(f.name);
const USER_FUNCTIONS = [...FUNCTIONS].filter((f) => /^[a-z]/i.test(f)).sort();

// ---- compiling -----------------------------------------------------------------------------------

export interface CompiledExpression {
  source: string;
  /** Evaluates with bindings made by `bindings()`; returns the value or a CEL error (never throws). */
  run: (b: Bindings) => unknown;
  /** The paths it reads: `request.application.team`, `team.applications`, `params.max`, `now`, … */
  refs: string[];
}

export interface CompileScope {
  /** The events the policy listens to: `request.*` paths must exist on each (or, under has(), on one). */
  events: readonly PolicyEvent[];
  /** The policy's params: `params.<name>` must be one of them. */
  params: Readonly<Record<string, unknown>>;
}

export type CompileResult = { ok: true; expr: CompiledExpression } | { ok: false; errors: string[] };

/** Parses and checks one CEL expression; errors say where (`line 2, column 7: …` for multi-line sources). */
export function compileExpression(source: string, scope: CompileScope): CompileResult {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (e) {
    return { ok: false, errors: [syntaxError(source, (e as Error).message)] };
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const errors: string[] = [];
  const refs = new Set<string>();
  const at = (id: bigint, message: string) => {
    const offset = positions[String(id)];
    errors.push(offset === undefined ? message : `${where(source, offset)}${message}`);
  };
  walk(parsed.expr, new Set(), scope, refs, at, new Set());
  if (errors.length) return { ok: false, errors: [...new Set(errors)] };
  let program: (b: Bindings) => unknown;
  try {
    const planned = plan(env, parsed);
    program = (b) => planned(b as never);
  } catch (e) {
    return { ok: false, errors: [(e as Error).message] };
  }
  return {
    ok: true,
    expr: {
      source,
      refs: [...refs].sort(),
      run: (b) => {
        try {
          return program(b);
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      },
    },
  };
}

function where(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return source.includes('\n') ? `line ${line}, column ${column}: ` : `column ${column}: `;
}

function syntaxError(source: string, message: string): string {
  const m = /^<input>:(\d+):(\d+): ([\s\S]*)$/.exec(message);
  if (!m) return `syntax error: ${message}`;
  return `${source.includes('\n') ? `line ${m[1]}, column ${m[2]}` : `column ${m[2]}`}: syntax error: ${m[3]}`;
}

type At = (id: bigint, message: string) => void;
type Expr = ReturnType<typeof parse>['expr'];

/**
 * `guarded`: paths tested with has() on the left of && (or in the condition of ?:), which the right
 * side (the true branch) may use even where only some of the policy's events have them.
 */
function walk(e: Expr | undefined, locals: Set<string>, scope: CompileScope, refs: Set<string>, at: At, guarded: ReadonlySet<string>): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return;
    case 'identExpr': {
      const name = k.value.name;
      if (locals.has(name) || TYPE_NAMES.has(name)) return;
      if ((VARIABLES as readonly string[]).includes(name)) {
        refs.add(name);
        return;
      }
      at(e.id, `unknown name "${name}": a policy reads request, team, now and params`);
      return;
    }
    case 'selectExpr': {
      const chain: { field: string; testOnly: boolean; id: bigint }[] = [];
      let cur: Expr | undefined = e;
      while (cur?.exprKind.case === 'selectExpr') {
        chain.unshift({ field: cur.exprKind.value.field, testOnly: cur.exprKind.value.testOnly, id: cur.id });
        cur = cur.exprKind.value.operand;
      }
      if (cur?.exprKind.case === 'identExpr' && !locals.has(cur.exprKind.value.name)) {
        const root = cur.exprKind.value.name;
        if ((VARIABLES as readonly string[]).includes(root)) {
          checkChain(root as (typeof VARIABLES)[number], chain, scope, refs, at, guarded);
          return;
        }
      }
      walk(cur, locals, scope, refs, at, guarded);
      return;
    }
    case 'callExpr': {
      const fn = k.value.function;
      if (!FUNCTIONS.has(fn)) {
        const near = USER_FUNCTIONS.filter((f) => distance(f.toLowerCase(), fn.toLowerCase()) <= 2);
        at(e.id, near.length ? `unknown function ${fn}(): did you mean ${near.map((f) => `${f}()`).join(' or ')}?` : `unknown function ${fn}() (functions: ${USER_FUNCTIONS.join(', ')}; operators and the macros has, all, exists, exists_one, map, filter)`);
      }
      walk(k.value.target, locals, scope, refs, at, guarded);
      const args = k.value.args;
      if ((fn === '_&&_' || fn === '_?_:_') && args.length >= 2) {
        walk(args[0], locals, scope, refs, at, guarded);
        walk(args[1], locals, scope, refs, at, new Set([...guarded, ...hasTests(args[0]!, locals)]));
        for (const a of args.slice(2)) walk(a, locals, scope, refs, at, guarded);
        return;
      }
      for (const a of args) walk(a, locals, scope, refs, at, guarded);
      return;
    }
    case 'listExpr':
      for (const x of k.value.elements) walk(x, locals, scope, refs, at, guarded);
      return;
    case 'structExpr':
      if (k.value.messageName) at(e.id, `message ${k.value.messageName}{…}: a policy builds only lists and maps`);
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, locals, scope, refs, at, guarded);
        walk(entry.value, locals, scope, refs, at, guarded);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      walk(c.iterRange, locals, scope, refs, at, guarded);
      walk(c.accuInit, locals, scope, refs, at, guarded);
      const inner = new Set([...locals, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
      walk(c.loopCondition, inner, scope, refs, at, guarded);
      walk(c.loopStep, inner, scope, refs, at, guarded);
      walk(c.result, inner, scope, refs, at, guarded);
      return;
    }
    default:
      return;
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The `request.…` paths `e` tests with has(), alone or joined by &&. */
function hasTests(e: Expr, locals: Set<string>): string[] {
  const k = e.exprKind;
  if (k.case === 'callExpr' && k.value.function === '_&&_') return k.value.args.flatMap((a) => hasTests(a, locals));
  if (k.case !== 'selectExpr' || !k.value.testOnly) return [];
  const fields: string[] = [];
  let cur: Expr | undefined = e;
  while (cur?.exprKind.case === 'selectExpr') {
    fields.unshift(cur.exprKind.value.field);
    cur = cur.exprKind.value.operand;
  }
  return cur?.exprKind.case === 'identExpr' && cur.exprKind.value.name === 'request' && !locals.has('request') ? [['request', ...fields].join('.')] : [];
}

function checkChain(root: (typeof VARIABLES)[number], chain: { field: string; testOnly: boolean; id: bigint }[], scope: CompileScope, refs: Set<string>, at: At, guarded: ReadonlySet<string>): void {
  const first = chain[0]!;
  if (root === 'now') {
    at(first.id, `now is a timestamp: use its functions, e.g. now.getHours("UTC"), now.getDayOfWeek("Europe/Paris") (0 is Sunday)`);
    return;
  }
  if (root === 'params') {
    refs.add(`params.${first.field}`);
    if (!Object.hasOwn(scope.params, first.field) && !(first.testOnly && chain.length === 1)) {
      const known = Object.keys(scope.params);
      at(first.id, `params.${first.field} is not set in spec.params (${known.length ? `set: ${known.join(', ')}` : 'none are set'})`);
    }
    return;
  }
  if (root === 'team') {
    refs.add(`team.${first.field}`);
    checkShape('team', TEAM_SHAPE, chain, at);
    return;
  }
  refs.add(['request', ...chain.slice(0, 2).map((c) => c.field)].join('.'));
  // a path must exist on every event the policy listens to; under has(), the last field on one at least
  const missing = new Map<number, PolicyEvent[]>();
  for (const event of scope.events) {
    const i = missingIndex(REQUEST_SHAPES[event], chain.map((c) => c.field));
    if (i !== null) missing.set(i, [...(missing.get(i) ?? []), event]);
  }
  if (!missing.size) return;
  const index = Math.min(...missing.keys());
  const link = chain[index]!;
  const path = ['request', ...chain.slice(0, index + 1).map((c) => c.field)].join('.');
  const absentOn = missing.get(index)!;
  const lenient = (link.testOnly && index === chain.length - 1) || guarded.has(path);
  if (absentOn.length < scope.events.length) {
    if (lenient) return;
    const presentOn = scope.events.filter((ev) => !absentOn.includes(ev));
    at(link.id, `${path} is not part of a ${absentOn.join(' or ')} request (only of ${presentOn.join(', ')}): test it with has(${path}) or write one policy per event`);
    return;
  }
  const parentShape = shapeAt(REQUEST_SHAPES[scope.events[0]!], chain.slice(0, index).map((c) => c.field));
  const parent = ['request', ...chain.slice(0, index).map((c) => c.field)].join('.');
  at(link.id, typeof parentShape === 'object' ? `${path} does not exist (${parent} has ${Object.keys(parentShape).join(', ')})` : `${parent} has no fields`);
}

function checkShape(root: string, shape: Shape, chain: { field: string; testOnly: boolean; id: bigint }[], at: At): void {
  const i = missingIndex(shape, chain.map((c) => c.field));
  if (i === null) return;
  if (chain[i]!.testOnly && i === chain.length - 1) return;
  const parent = [root, ...chain.slice(0, i).map((c) => c.field)].join('.');
  const s = shapeAt(shape, chain.slice(0, i).map((c) => c.field));
  at(chain[i]!.id, typeof s === 'object' ? `${parent}.${chain[i]!.field} does not exist (${parent} has ${Object.keys(s).join(', ')})` : `${parent} has no fields`);
}

/** The index of the first field of `path` the shape does not have, or null when it has them all (or they are under an open map). */
function missingIndex(shape: Shape, path: string[]): number | null {
  let s: Shape | 'value' | 'open' = shape;
  for (let i = 0; i < path.length; i++) {
    if (s === 'open') return null;
    if (s === 'value') return i;
    const next: Shape | 'value' | 'open' | undefined = Object.hasOwn(s, path[i]!) ? s[path[i]!] : undefined;
    if (next === undefined) return i;
    s = next;
  }
  return null;
}

function shapeAt(shape: Shape, path: string[]): Shape | 'value' | 'open' {
  let s: Shape | 'value' | 'open' = shape;
  for (const f of path) if (typeof s === 'object') s = s[f] ?? 'value';
  return s;
}

// ---- messages ------------------------------------------------------------------------------------

export type MessagePart = string | CompiledExpression;

/** A message with `${expression}` parts (CEL, checked like the rule); `$$` is a literal `$`. */
export function compileMessage(text: string, scope: CompileScope): { ok: true; parts: MessagePart[] } | { ok: false; errors: string[] } {
  const parts: MessagePart[] = [];
  const errors: string[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$$', i)) {
      literal += '$';
      i += 2;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const end = closingBrace(text, i + 2);
    if (end === -1) {
      errors.push(`"\${" at character ${i + 1} is not closed by "}" (write $$ for a literal $)`);
      break;
    }
    const source = text.slice(i + 2, end);
    const compiled = compileExpression(source, scope);
    if (compiled.ok) {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(compiled.expr);
    } else errors.push(...compiled.errors.map((m) => `\${${source}}: ${m}`));
    i = end + 1;
  }
  if (literal) parts.push(literal);
  return errors.length ? { ok: false, errors } : { ok: true, parts };
}

/** Index of the "}" closing an expression that starts at `from`, skipping nested braces and quoted strings. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

export function renderMessage(parts: readonly MessagePart[], b: Bindings): string {
  return parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const v = p.run(b);
      return isCelError(v) || v instanceof Error ? `\${${p.source}: ${(v as Error).message}}` : display(v);
    })
    .join('');
}

// ---- values --------------------------------------------------------------------------------------

/** The variables of one evaluation, converted once and shared by every policy evaluated on the same request. */
export interface Bindings {
  request: CelInput;
  team: CelInput;
  now: CelInput;
  params: CelInput;
}

export function bindings(vars: { request: unknown; team: unknown; now: Date; params: unknown }): Bindings {
  return { request: toCel(vars.request), team: toCel(vars.team), now: timestampFromDate(vars.now), params: toCel(vars.params) };
}

/** With new params (each policy has its own), the rest shared. */
export function withParams(b: Bindings, params: unknown): Bindings {
  return { ...b, params: toCel(params) };
}

/** JSON-like values to CEL: whole numbers become ints (so that `params.max - 1` is int arithmetic), objects maps. */
export function toCel(v: unknown): CelInput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (v instanceof Date) return timestampFromDate(v);
  if (Array.isArray(v)) return v.map(toCel);
  if (typeof v === 'object') {
    const m = new Map<string, CelInput>();
    for (const [k, x] of Object.entries(v)) if (x !== undefined) m.set(k, toCel(x));
    return m;
  }
  return String(v);
}

/** A CEL value as JSON-like data. */
export function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (isCelUint(v)) return Number(v.value);
  if (isCelList(v)) return [...v].map(fromCel);
  if (isCelMap(v)) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(isCelUint(k) ? k.value : k), fromCel(x)]));
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const message = isReflectMessage(v) ? v.message : v;
  if (isMessage(message, TimestampSchema)) return timestampDate(message).toISOString();
  if (v !== null && typeof v === 'object' && '$typeName' in v) return String((v as { $typeName: unknown }).$typeName);
  return v;
}

/** How a value reads in a message. */
export function display(v: unknown): string {
  const js = fromCel(v);
  if (typeof js === 'string') return js;
  if (Array.isArray(js)) return js.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
  return js === undefined ? '' : typeof js === 'object' && js !== null ? JSON.stringify(js) : String(js);
}

export function celErrorMessage(v: unknown): string | null {
  return isCelError(v) || v instanceof Error ? (v as Error).message : null;
}

/** The CEL type name of a value, for messages ("deny gave an int, not true or false"). */
export function celTypeName(v: unknown): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string') return 'string';
  if (v === null) return 'null';
  if (isCelList(v)) return 'list';
  if (isCelMap(v)) return 'map';
  if (isCelUint(v)) return 'uint';
  return typeof v;
}
