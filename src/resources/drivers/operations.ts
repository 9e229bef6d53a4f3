import { z } from 'zod';
import { DriverError, type DriverOperation, type OperationRequest, type OperationResult } from './driver.ts';
import { describeError, redact } from './util.ts';

/**
 * Helpers for the built-in drivers' day-2 operations (`Driver.operations`): arguments declared once
 * as a zod object, from which both the JSON Schema `parameters` (draft-07, what Pave's ajv compiles)
 * and the validation inside `run` derive, so the two never disagree; and one place that turns an
 * aborted signal into a "cancelled" DriverError and keeps secrets out of output lines and messages.
 */

export interface OperationContext<A> {
  /** The arguments, validated, with defaults applied. */
  args: A;
  /** Secrets of this call (admin URL and password, the resource's password…), removed from output lines. */
  secrets: (string | undefined)[];
  /** Records what has been done so far; a cancellation message ends with it ("… after deleting 1000 keys"). */
  progress(doneSoFar: string): void;
}

export interface OperationDefinition<I, A> {
  title: string;
  description: string;
  /** The arguments: a strict zod object of JSON-representable fields (string, number, boolean, enum, array). */
  args: z.ZodType<A>;
  /** Secrets that must not appear in output or errors: the driver's admin credentials, the resource's password. */
  secrets(req: OperationRequest<I>): (string | undefined)[];
  run(req: OperationRequest<I>, ctx: OperationContext<A>): Promise<OperationResult>;
}

/** The JSON Schema (draft-07, no `$schema`) of an operation's arguments: properties, defaults, required. */
export function parametersOf(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'throw' }) as Record<string, unknown>;
  delete json.$schema;
  if (json.type !== 'object') throw new Error('operation parameters must be an object schema');
  if (json.properties === undefined) json.properties = {};
  return json;
}

/** A non-retryable DriverError for arguments an operation refuses. */
export function badArgs(driver: string, operation: string, message: string): DriverError {
  return new DriverError(driver, `${operation}: ${message}`, { retryable: false });
}

/** Validates `args` (defaults applied), or throws a non-retryable DriverError naming every problem. */
export function parseArgs<A>(driver: string, operation: string, schema: z.ZodType<A>, args: unknown): A {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'arguments'}: ${i.message}`);
  throw badArgs(driver, operation, `invalid arguments: ${problems.join('; ')}`);
}

/** The cancellation error: not retryable (someone asked to stop), and says how far it got. */
export function cancelledError(driver: string, operation: string, doneSoFar: string | undefined): DriverError {
  return new DriverError(driver, `${operation} was cancelled${doneSoFar ? ` after ${doneSoFar}` : ' before it changed anything'}`, { retryable: false });
}

/**
 * Makes a DriverOperation: validates the arguments, refuses to start on an aborted signal, redacts
 * secrets from output lines, and reports an abort (whatever error the cut connection raised) as a
 * cancellation. Any other non-DriverError failure is wrapped without secrets.
 */
export function defineOperation<I, A>(driver: string, operation: string, def: OperationDefinition<I, A>): DriverOperation<I> {
  return {
    title: def.title,
    description: def.description,
    parameters: parametersOf(def.args),
    async run(req: OperationRequest<I>): Promise<OperationResult> {
      const args = parseArgs(driver, operation, def.args, req.args);
      const secrets = def.secrets(req);
      let doneSoFar: string | undefined;
      if (req.signal.aborted) throw cancelledError(driver, operation, undefined);
      const output = (line: string) => req.output(redact(line, secrets));
      try {
        return await def.run({ ...req, output }, { args, secrets, progress: (s) => void (doneSoFar = s) });
      } catch (err) {
        if (req.signal.aborted) throw cancelledError(driver, operation, doneSoFar);
        if (err instanceof DriverError) throw err;
        throw new DriverError(driver, `${operation}: ${describeError(err, secrets)}`, { retryable: false });
      }
    },
  };
}

/** Calls `onAbort` when the signal aborts while `fn` runs (e.g. to cancel the server-side statement). */
export async function whileAbortable<T>(signal: AbortSignal, onAbort: () => void, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** `n thing` / `n things`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
