import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import type { DriverLog, ResourceIdentity } from '../../src/resources/drivers/driver.ts';

/** Helpers for the driver tests: unique identities, a recording log, and service gates. */

/** A random suffix for this test process, so runs (and files run in parallel) never collide. */
export const RUN = randomBytes(4).toString('hex');

/** A resource identity with a uid unique to this run, e.g. `dt3f2a1b9c.development.db-a`. */
export function identity(type: string, id: string): ResourceIdentity {
  return {
    uid: `dt${RUN}.development.${type}-${id}`,
    type,
    class: 'default',
    id,
    application: `dt${RUN}`,
    environment: 'development',
    environmentType: 'development',
    team: null,
  };
}

export interface LogLine {
  level: 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown> | undefined;
}

/** A DriverLog that keeps every line, to assert on (and to prove no secret is ever logged). */
export function recordingLog(): DriverLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (msg, fields) => void lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => void lines.push({ level: 'warn', msg, fields }),
  };
}

/** Whether a TCP port answers within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Gates a test file on a service: undefined when it answers, else a skip reason
 * (`skip: <service> not reachable at <addr>`). With CI=true an unreachable service also registers a
 * failing test, so CI never passes by skipping.
 */
export async function serviceGate(service: string, host: string, port: number): Promise<string | undefined> {
  if (await reachable(host, port)) return undefined;
  const reason = `skip: ${service} not reachable at ${host}:${port}`;
  if (process.env.CI === 'true') {
    test(`${service} is required in CI`, () => {
      throw new Error(`CI=true but ${service} is not reachable at ${host}:${port}`);
    });
  } else {
    process.stderr.write(`# ${reason}\n`);
  }
  return reason;
}

export function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a string, got ${typeof v}`);
  return v;
}

export function num(v: unknown): number {
  if (typeof v !== 'number') throw new Error(`expected a number, got ${typeof v}`);
  return v;
}

export interface OperationRun {
  result: import('../../src/resources/drivers/driver.ts').OperationResult;
  lines: string[];
  log: LogLine[];
}

/**
 * Runs a driver's day-2 operation the way Pave's actions module does (the resource's stored state,
 * outputs and params, the definition's inputs), keeping the output lines and log. Throws what the
 * operation throws; `opts.onOutput` sees each line as it comes (e.g. to abort mid-way).
 */
export async function runOperation<I>(
  driver: import('../../src/resources/drivers/driver.ts').Driver<I>,
  operation: string,
  opts: {
    resource: ResourceIdentity;
    inputs: I;
    state: Record<string, unknown> | null;
    outputs: Record<string, unknown>;
    args?: Record<string, unknown>;
    params?: Record<string, unknown>;
    signal?: AbortSignal;
    onOutput?: (line: string) => void;
    lines?: string[];
  },
): Promise<OperationRun> {
  const op = driver.operations?.[operation];
  if (!op) throw new Error(`driver ${driver.id} has no operation ${operation}`);
  const lines = opts.lines ?? [];
  const log = recordingLog();
  const result = await op.run({
    resource: opts.resource,
    params: opts.params ?? {},
    inputs: opts.inputs,
    state: opts.state,
    outputs: opts.outputs,
    args: opts.args ?? {},
    dataDir: '/nonexistent',
    log,
    signal: opts.signal ?? new AbortController().signal,
    output: (line) => {
      lines.push(line);
      opts.onOutput?.(line);
    },
  });
  return { result, lines, log: log.lines };
}

/**
 * Checks the shape of every operation of a driver: title, description, and `parameters` an object
 * schema that Pave's inputs ajv (draft-07, strict) compiles, whose defaults match what `run` applies.
 */
export async function assertOperationShapes(driver: import('../../src/resources/drivers/driver.ts').Driver<never>, expected: string[]): Promise<void> {
  const assert: typeof import('node:assert/strict') = (await import('node:assert/strict')).default;
  const { createInputsAjv } = await import('../../src/platform/inputs.ts');
  assert.deepEqual(Object.keys(driver.operations ?? {}).sort(), [...expected].sort());
  for (const [id, op] of Object.entries(driver.operations ?? {})) {
    assert.match(id, /^[a-z][a-z0-9-]*$/);
    assert.ok(op.title.length > 0 && op.description.length > 0, `${id}: title and description`);
    assert.equal(op.parameters.type, 'object', `${id}: an object schema`);
    assert.equal(op.parameters.additionalProperties, false, `${id}: unknown arguments are refused`);
    assert.ok(op.parameters.properties && typeof op.parameters.properties === 'object', `${id}: properties`);
    const validate = createInputsAjv().compile(op.parameters);
    const args: Record<string, unknown> = {};
    assert.ok(validate(args) || Array.isArray(op.parameters.required), `${id}: {} is valid unless something is required`);
    assert.equal(validate({ notAParameter: 1 }), false, `${id}: an unknown argument is invalid`);
  }
}

/** Secrets must never reach output lines, the summary, data, or the log. */
export function assertNoSecrets(run: OperationRun, secrets: (string | undefined)[]): void {
  const text = JSON.stringify([run.lines, run.result, run.log]);
  for (const s of secrets) if (s && s.length >= 6 && text.includes(s)) throw new Error('a secret value reached the operation output');
}
