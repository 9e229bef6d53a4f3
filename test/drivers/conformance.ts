import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DriftReport, Driver, ProvisionResult, ResourceIdentity } from '../../src/resources/drivers/driver.ts';
import { identity, recordingLog, RUN, type LogLine } from './support.ts';

/**
 * The driver conformance suite: the same assertions against every driver, each run against its real
 * system (no mocks). It proves the invariants of `driver.ts`:
 *
 * 1. the definition's inputs validate against the driver's schema;
 * 2. provision returns exactly the type's outputs (and secret outputs), a JSON-serialisable state,
 *    logs no secret, and the outputs work (`accessCheck`);
 * 3. provisioning again with the saved state returns the same outputs and creates nothing twice
 *    (`inventory` unchanged);
 * 4. provisioning again with `state: null` (a crash before the state was saved) converges: nothing
 *    created twice, and the (possibly new) outputs work;
 * 5. check → in-sync;
 * 6. delete removes everything (`inventory` empty); deleting again succeeds;
 * 7. check after delete → missing. The `echo` driver is the documented exception: it provisions
 *    nothing, so there is nothing to go missing and its check is always in-sync
 *    (`checkAfterDelete: 'in-sync'`).
 *
 * Each call gets a uid unique to the test run; `after` deletes whatever a failed step left behind.
 */
export interface ConformanceOptions<I> {
  inputs: I;
  params?: Record<string, unknown>;
  /** Output names the resource type promises, and which of them are secret. */
  outputs: string[];
  secretOutputs: string[];
  /** Proves the outputs work against the real system (connect, write, read…). */
  accessCheck?: (outputs: Record<string, unknown>, resource: ResourceIdentity) => Promise<void>;
  /** What exists on the real system for this resource, as sorted names; [] when nothing does. */
  inventory?: (resource: ResourceIdentity) => Promise<string[]>;
  /** Expected check status after delete; 'missing' unless the driver provisions nothing. */
  checkAfterDelete?: DriftReport['status'];
  /** Data directory handed to the driver (default: a temporary directory removed afterwards). */
  dataDir?: string;
  /** Skip the whole suite with this reason (service not reachable). */
  skip?: string | undefined;
  /** Per-test timeout in ms (default 20 s). */
  timeout?: number;
}

/** Calls a driver for one resource with sensible defaults, keeping what the log received. */
export function driverCalls<I>(driver: Driver<I>, resource: ResourceIdentity, opts: { inputs: I; params?: Record<string, unknown>; dataDir: string }) {
  const log = recordingLog();
  const params = opts.params ?? {};
  const inputs = opts.inputs;
  const signal = new AbortController().signal;
  return {
    log,
    provision: (state: Record<string, unknown> | null, override: { params?: Record<string, unknown>; inputs?: I; signal?: AbortSignal } = {}) =>
      driver.provision({ resource, params: override.params ?? params, inputs: override.inputs ?? inputs, state, dataDir: opts.dataDir, log, signal: override.signal ?? signal }),
    check: (state: Record<string, unknown> | null, outputs: Record<string, unknown>, override: { params?: Record<string, unknown>; inputs?: I } = {}) =>
      driver.check({ resource, params: override.params ?? params, inputs: override.inputs ?? inputs, state, outputs, dataDir: opts.dataDir, signal }),
    delete: (state: Record<string, unknown> | null, override: { inputs?: I } = {}) =>
      driver.delete({ resource, params, inputs: override.inputs ?? inputs, state, dataDir: opts.dataDir, log, signal }),
  };
}

function secretValues(result: ProvisionResult): string[] {
  return result.secretOutputs.map((k) => result.outputs[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function assertNoSecretLogged(lines: LogLine[], secrets: string[]): void {
  const text = JSON.stringify(lines);
  for (const s of secrets) assert.ok(!text.includes(s), 'a secret value reached the driver log');
}

export function driverConformance<I>(driver: Driver<I>, opts: ConformanceOptions<I>): void {
  const resource = identity(driver.id, `conf`);
  const ownDataDir = opts.dataDir === undefined;
  // Created in `before`, so a skipped suite leaves nothing behind.
  const dataDir = opts.dataDir ?? path.join(os.tmpdir(), `pave-driver-${driver.id}-${RUN}`);
  const calls = driverCalls(driver, resource, { inputs: opts.inputs, params: opts.params ?? {}, dataDir });
  const timeout = opts.timeout ?? 20_000;
  const expectAfterDelete = opts.checkAfterDelete ?? 'missing';
  const inputSecrets = driver.secretInputs
    .map((k) => (opts.inputs as Record<string, unknown>)[k])
    .flatMap((v) => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).filter((x): x is string => typeof x === 'string') : []))
    .filter((v) => v.length >= 6);
  let first: ProvisionResult | undefined;
  let current: ProvisionResult | undefined;

  describe(`${driver.id} driver conformance`, { skip: opts.skip ?? false, timeout }, () => {
    before(() => {
      if (ownDataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    });
    after(async () => {
      await calls.delete(current?.state ?? null).catch(() => undefined);
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('inputs validate against the driver schema; secret inputs are named', () => {
      const parsed = driver.inputs.safeParse(opts.inputs);
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      assert.ok(driver.id.length > 0 && driver.description.length > 0);
      for (const k of driver.secretInputs) assert.equal(typeof k, 'string');
    });

    test("provision returns the type's outputs, and they work", async () => {
      first = await calls.provision(null);
      current = first;
      assert.deepEqual(Object.keys(first.outputs).sort(), [...opts.outputs].sort(), 'output names');
      assert.deepEqual([...first.secretOutputs].sort(), [...opts.secretOutputs].sort(), 'secret output names');
      for (const k of first.secretOutputs) assert.ok(k in first.outputs, `secret output ${k} is an output`);
      assert.deepEqual(JSON.parse(JSON.stringify(first.state)), first.state, 'state is JSON');
      assert.deepEqual(JSON.parse(JSON.stringify(first.outputs)), first.outputs, 'outputs are JSON');
      assertNoSecretLogged(calls.log.lines, [...secretValues(first), ...inputSecrets]);
      if (opts.accessCheck) await opts.accessCheck(first.outputs, resource);
    });

    test('provisioning again with the saved state returns the same outputs and creates nothing twice', async () => {
      assert.ok(first, 'provisioned');
      const before = opts.inventory ? await opts.inventory(resource) : [];
      const again = await calls.provision(first.state);
      current = again;
      assert.deepEqual(again.outputs, first.outputs);
      assert.deepEqual([...again.secretOutputs].sort(), [...first.secretOutputs].sort());
      if (opts.inventory) assert.deepEqual(await opts.inventory(resource), before, 'nothing created twice');
      if (opts.accessCheck) await opts.accessCheck(again.outputs, resource);
    });

    test('provisioning again with state: null (crash before the state was saved) converges', async () => {
      assert.ok(first, 'provisioned');
      const before = opts.inventory ? await opts.inventory(resource) : [];
      if (opts.inventory) assert.ok(before.length > 0, 'inventory lists what provision created');
      const recovered = await calls.provision(null);
      current = recovered;
      assert.deepEqual(Object.keys(recovered.outputs).sort(), Object.keys(first.outputs).sort());
      if (opts.inventory) assert.deepEqual(await opts.inventory(resource), before, 'nothing created twice');
      if (opts.accessCheck) await opts.accessCheck(recovered.outputs, resource);
      assertNoSecretLogged(calls.log.lines, [...secretValues(first), ...secretValues(recovered), ...inputSecrets]);
    });

    test('check → in-sync', async () => {
      assert.ok(current, 'provisioned');
      assert.deepEqual(await calls.check(current.state, current.outputs), { status: 'in-sync' });
    });

    test('delete removes everything; deleting again succeeds', async () => {
      assert.ok(current, 'provisioned');
      await calls.delete(current.state);
      if (opts.inventory) assert.deepEqual(await opts.inventory(resource), [], 'nothing left');
      await calls.delete(current.state);
      await calls.delete(null);
    });

    test(`check after delete → ${expectAfterDelete}`, async () => {
      assert.ok(current, 'provisioned');
      const report = await calls.check(current.state, current.outputs);
      assert.equal(report.status, expectAfterDelete, JSON.stringify(report));
      if (report.status === 'missing') assert.ok(report.detail.length > 0, 'missing says what is missing');
    });
  });
}

/**
 * Two applications' resources of one driver, provisioned before the tests of the calling suite and
 * deleted after them: the fixture of every least-privilege test (what `a` may do to `b`'s).
 */
export function twoTenants<I>(driver: Driver<I>, type: string, inputs: I) {
  const t = {
    a: driverCalls(driver, identity(type, 'a'), { inputs, dataDir: '/nonexistent' }),
    b: driverCalls(driver, identity(type, 'b'), { inputs, dataDir: '/nonexistent' }),
    ra: undefined as unknown as ProvisionResult,
    rb: undefined as unknown as ProvisionResult,
  };
  before(async () => {
    [t.ra, t.rb] = await Promise.all([t.a.provision(null), t.b.provision(null)]);
  });
  after(async () => {
    await Promise.all([t.a.delete(t.ra?.state ?? null), t.b.delete(t.rb?.state ?? null)]);
  });
  return t;
}
