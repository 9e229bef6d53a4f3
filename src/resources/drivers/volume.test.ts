import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { driverCalls, driverConformance } from '../../../test/drivers/conformance.ts';
import { identity, str } from '../../../test/drivers/support.ts';
import { DriverError } from './driver.ts';
import { uidHash } from './util.ts';
import { volumeDriver, volumePath } from './volume.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pave-volume-test-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

driverConformance(volumeDriver, {
  inputs: {},
  dataDir,
  outputs: ['source'],
  secretOutputs: [],
  accessCheck: async (o) => {
    const source = str(o.source);
    writeFileSync(path.join(source, 'data.txt'), 'kept');
    assert.equal(readFileSync(path.join(source, 'data.txt'), 'utf8'), 'kept');
  },
  inventory: async (r) => {
    const dir = path.join(dataDir, 'volumes');
    return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(uidHash(r.uid))).sort() : [];
  },
});

describe('volume driver', () => {
  const resource = identity('volume', 'a');
  const v = driverCalls(volumeDriver, resource, { inputs: {}, dataDir });
  after(() => v.delete(null));

  test('creates <dataDir>/volumes/<sanitised uid> with mode 0750; re-provisioning keeps its content; delete removes it', async () => {
    const r = await v.provision(null);
    const source = str(r.outputs.source);
    assert.ok(path.isAbsolute(source));
    assert.equal(path.dirname(source), path.join(dataDir, 'volumes'));
    assert.match(path.basename(source), /^[a-z0-9-]+$/);
    assert.equal(statSync(source).mode & 0o777, 0o750);
    mkdirSync(path.join(source, 'nested'));
    writeFileSync(path.join(source, 'nested', 'file'), 'x');
    await v.provision(r.state);
    assert.equal(readFileSync(path.join(source, 'nested', 'file'), 'utf8'), 'x');
    await v.delete(r.state);
    assert.equal(existsSync(source), false);
  });

  test('check reports a changed mode, and provision converges it', async () => {
    const r = await v.provision(null);
    chmodSync(str(r.outputs.source), 0o777);
    const report = await v.check(r.state, r.outputs);
    assert.equal(report.status, 'changed');
    await v.provision(r.state);
    assert.deepEqual(await v.check(r.state, r.outputs), { status: 'in-sync' });
  });

  test('a file where the directory belongs is a non-retryable error, not overwritten', async () => {
    const other = identity('volume', 'file-in-the-way');
    const p = volumePath(dataDir, other.uid);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, 'not a directory');
    const c = driverCalls(volumeDriver, other, { inputs: {}, dataDir });
    await assert.rejects(c.provision(null), (err: unknown) => err instanceof DriverError && !err.retryable && /is not a directory/.test(err.message));
    assert.equal(readFileSync(p, 'utf8'), 'not a directory');
    rmSync(p);
  });

  test('a relative data directory gives an absolute source', () => {
    assert.ok(path.isAbsolute(volumePath('relative/data', 'shop.dev.files')));
    assert.notEqual(volumePath(dataDir, 'a.b'), volumePath(dataDir, 'a-b'));
  });
});
