import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driverConformance } from '../../../test/drivers/conformance.ts';
import { echoDriver } from './echo.ts';
import { builtinDrivers } from './index.ts';

const outputs = { host: 'db.example.internal', port: 5432, name: 'shop', password: 'an-existing-s3cret' };

// echo provisions nothing: its check is in-sync even after delete (the conformance suite's documented exception).
driverConformance(echoDriver, {
  inputs: { outputs, secretOutputs: ['password'] },
  outputs: ['host', 'port', 'name', 'password'],
  secretOutputs: ['password'],
  checkAfterDelete: 'in-sync',
  accessCheck: async (o) => assert.deepEqual(o, outputs),
});

test('echo: the outputs input is secret, and secretOutputs must name outputs', () => {
  assert.deepEqual(echoDriver.secretInputs, ['outputs']);
  const bad = echoDriver.inputs.safeParse({ outputs: { a: 1 }, secretOutputs: ['b'] });
  assert.equal(bad.success, false);
  assert.match(bad.error?.issues[0]?.message ?? '', /secretOutputs must be a key of outputs/);
  assert.equal(echoDriver.inputs.safeParse({ outputs: {}, extra: 1 }).success, false);
});

test('builtinDrivers registers every built-in driver once', () => {
  assert.deepEqual(builtinDrivers().ids(), ['amqp', 'cmd', 'echo', 'mysql', 'nats-stream', 'postgres', 'redis', 'volume']);
  for (const id of builtinDrivers().ids()) assert.equal(builtinDrivers().get(id)?.id, id);
});
