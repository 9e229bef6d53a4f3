import path from 'node:path';
import type { Logger } from 'pino';
import { TokenService } from './access/tokens.ts';
import { ApplicationService } from './applications/service.ts';
import { CatalogService } from './catalog/service.ts';
import { PlatformSecrets } from './platform/secrets.ts';
import { PlatformSync, type PlatformSource } from './platform/sync.ts';
import type { DriverRegistry } from './resources/drivers/driver.ts';
import { ResourceEngine } from './resources/engine.ts';
import { ResourceRepository } from './resources/repository.ts';
import { DefinitionResolver } from './resources/resolve.ts';
import type { SecretBox } from './secrets/secret-box.ts';
import type { Store } from './store/db.ts';

/** The composition root of the domain: every service, wired once, for the HTTP layer and tests. */
export interface Services {
  store: Store;
  tokens: TokenService;
  catalog: CatalogService;
  secrets: PlatformSecrets;
  sync: PlatformSync;
  engine: ResourceEngine;
  applications: ApplicationService;
  drivers: DriverRegistry;
}

export interface ServicesOptions {
  store: Store;
  log: Logger;
  dataDir: string;
  box: SecretBox;
  platformSource: PlatformSource;
  drivers: DriverRegistry;
}

export function createServices(o: ServicesOptions): Services {
  const db = o.store.db;
  const tokens = new TokenService(db);
  const catalog = new CatalogService(db);
  catalog.onDeleted((e) => {
    if (e.kind === 'user') tokens.forgetUser(e.id);
  });
  const secrets = new PlatformSecrets(db, o.box);
  const sync = new PlatformSync(db, { source: o.platformSource, cacheDir: path.join(o.dataDir, 'platform-cache'), drivers: o.drivers.ids(), log: o.log });
  const resolver = new DefinitionResolver(db, o.drivers, secrets);
  const engine = new ResourceEngine({ repo: new ResourceRepository(db, o.box), resolver, dataDir: o.dataDir, log: o.log.child({ module: 'resources' }) });
  const applications = new ApplicationService(db, catalog, engine);
  return { store: o.store, tokens, catalog, secrets, sync, engine, applications, drivers: o.drivers };
}

/** The platform that ships with Pave (`platform/`), loaded on first start when no other source is set. */
export const SAMPLE_PLATFORM = path.resolve(import.meta.dirname, '../platform');

/**
 * Credentials of this machine's local services, which the sample platform's resource definitions
 * reference; set once on first start, so that a newcomer's first application gets real resources.
 */
export const LOCAL_SERVICE_SECRETS: Record<string, string> = {
  'local-postgres-admin': 'postgres://postgres@127.0.0.1:5432/postgres',
  'local-mysql-admin': 'mysql://root@127.0.0.1:3306/mysql',
  'local-redis-admin': 'redis://127.0.0.1:6379',
  'local-rabbitmq-admin': 'http://guest:guest@127.0.0.1:15672',
  'local-nats': 'nats://127.0.0.1:4222',
};
