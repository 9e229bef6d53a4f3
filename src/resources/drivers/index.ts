import { amqpDriver } from './amqp.ts';
import { cmdDriver } from './cmd.ts';
import { DriverRegistry } from './driver.ts';
import { echoDriver } from './echo.ts';
import { mysqlDriver } from './mysql.ts';
import { natsStreamDriver } from './nats-stream.ts';
import { postgresDriver } from './postgres.ts';
import { redisDriver } from './redis.ts';
import { volumeDriver } from './volume.ts';

export { DriverError, DriverRegistry } from './driver.ts';
export type { CheckRequest, DeleteRequest, DriftReport, Driver, DriverLog, ProvisionRequest, ProvisionResult, ResourceIdentity } from './driver.ts';

/** A registry with every built-in driver; platform teams register their own beside them. */
export function builtinDrivers(): DriverRegistry {
  const registry = new DriverRegistry();
  registry.register(postgresDriver);
  registry.register(mysqlDriver);
  registry.register(redisDriver);
  registry.register(amqpDriver);
  registry.register(natsStreamDriver);
  registry.register(volumeDriver);
  registry.register(echoDriver);
  registry.register(cmdDriver);
  return registry;
}
