import type { z } from 'zod';

/**
 * The driver contract: the code that provisions, updates, checks and deletes one kind of resource
 * against a real system. Drivers know nothing of HTTP or the store: Pave hands them the resource's
 * identity, its params (already resolved), the definition's inputs (secrets decrypted) and the state
 * they returned last time, and keeps what they return. Modelled on Score's provisioner contract.
 *
 * Invariants every driver keeps:
 * - `provision` is idempotent and convergent: called again with the same request (or after a crash
 *   at any point, with the last saved state or none), it ends in the same place and creates nothing
 *   twice. Names of what it creates derive from `resource.uid`, never from randomness alone.
 * - `delete` removes everything `provision` created and succeeds when it is already gone.
 * - Generated credentials are least-privilege: they reach the resource's own database, vhost, key
 *   prefix or stream, and nothing else.
 * - Errors are thrown as `DriverError` with a message a developer can act on; secrets never appear in
 *   messages or logs.
 */
export interface ResourceIdentity {
  /** Stable unique id of the resource instance, e.g. `shop.development.db`; safe to derive names from. */
  uid: string;
  /** Resource type, e.g. `postgres`. */
  type: string;
  /** Resource class, e.g. `default`, `large`. */
  class: string;
  /** The resource's id in the workload (e.g. `db`), or the shared resource id. */
  id: string;
  application: string | null;
  environment: string;
  environmentType: string;
  team: string | null;
}

export interface DriverLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface ProvisionRequest<I> {
  resource: ResourceIdentity;
  params: Record<string, unknown>;
  inputs: I;
  /** What the last successful (or partial) provision returned, or null the first time. */
  state: Record<string, unknown> | null;
  /** Pave's data directory (for drivers that keep files, such as `volume`). */
  dataDir: string;
  log: DriverLog;
  signal: AbortSignal;
}

export interface ProvisionResult {
  outputs: Record<string, unknown>;
  /** Names of outputs that are secret: encrypted at rest and masked in the API. */
  secretOutputs: string[];
  /** Whatever the driver needs next time (update, check, delete). May hold secrets; stored encrypted. */
  state: Record<string, unknown>;
}

export interface CheckRequest<I> {
  resource: ResourceIdentity;
  params: Record<string, unknown>;
  inputs: I;
  state: Record<string, unknown> | null;
  outputs: Record<string, unknown>;
  dataDir: string;
  signal: AbortSignal;
}

export type DriftReport = { status: 'in-sync' } | { status: 'missing'; detail: string } | { status: 'changed'; detail: string; differences: { field: string; expected: unknown; actual: unknown }[] };

export interface DeleteRequest<I> {
  resource: ResourceIdentity;
  params: Record<string, unknown>;
  inputs: I;
  state: Record<string, unknown> | null;
  dataDir: string;
  log: DriverLog;
  signal: AbortSignal;
}

/**
 * A day-2 operation a driver offers on a resource it provisioned (the built-in resource operations of
 * golden actions: purge-cache, reindex, purge-queue…). It acts with the definition's inputs (admin
 * credentials, decrypted) and the resource's state, and touches only that resource's own data.
 */
export interface OperationRequest<I> {
  resource: ResourceIdentity;
  params: Record<string, unknown>;
  inputs: I;
  state: Record<string, unknown> | null;
  outputs: Record<string, unknown>;
  /** The operation's own parameters, validated against `parameters`. */
  args: Record<string, unknown>;
  dataDir: string;
  log: DriverLog;
  /** Aborted on cancellation or timeout: the operation stops as soon as it can. */
  signal: AbortSignal;
  /** Progress and output lines, streamed to whoever watches the run. */
  output(line: string): void;
}

export interface OperationResult {
  /** A short summary, e.g. "deleted 42 keys". */
  summary: string;
  /** Structured figures, e.g. { deletedKeys: 42 }. */
  data?: Record<string, unknown>;
}

export interface DriverOperation<I = Record<string, unknown>> {
  title: string;
  description: string;
  /** JSON Schema (an object schema) of `args`. */
  parameters: Record<string, unknown>;
  run(req: OperationRequest<I>): Promise<OperationResult>;
}

export interface Driver<I = Record<string, unknown>> {
  /** The id a resource definition names, e.g. `postgres`, `cmd`. */
  id: string;
  description: string;
  /** Validates the definition's inputs; fields whose names are in `secretInputs` are stored encrypted. */
  inputs: z.ZodType<I>;
  secretInputs: string[];
  provision(req: ProvisionRequest<I>): Promise<ProvisionResult>;
  check(req: CheckRequest<I>): Promise<DriftReport>;
  delete(req: DeleteRequest<I>): Promise<void>;
  /** Day-2 operations by id (e.g. `purge-cache`); none when absent. */
  operations?: Record<string, DriverOperation<I>>;
}

export class DriverError extends Error {
  readonly driver: string;
  readonly retryable: boolean;
  constructor(driver: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.driver = driver;
    this.retryable = opts.retryable ?? true;
  }
}

/** A registry of drivers by id; extension point for platform teams that add their own. */
export class DriverRegistry {
  private readonly drivers = new Map<string, Driver<never>>();
  register<I>(driver: Driver<I>): void {
    if (this.drivers.has(driver.id)) throw new Error(`driver ${driver.id} is registered twice`);
    this.drivers.set(driver.id, driver as unknown as Driver<never>);
  }
  get(id: string): Driver<Record<string, unknown>> | undefined {
    return this.drivers.get(id) as unknown as Driver<Record<string, unknown>> | undefined;
  }
  ids(): string[] {
    return [...this.drivers.keys()].sort();
  }
}
