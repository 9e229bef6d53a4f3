import { bootstrapAdmin } from '../access/bootstrap.ts';
import { loadConfig } from '../config.ts';
import { buildApp } from '../http/app.ts';
import { createLogger } from '../logging.ts';
import { openStore } from '../store/db.ts';
import { VERSION } from '../version.ts';

/**
 * `npm start`: opens the store (embedded PostgreSQL in the data directory unless PAVE_DATABASE_URL is
 * set), applies migrations, creates the first admin on first start, and serves API and portal on one port.
 */
async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, log });
  const { app } = await buildApp({ store, log, version: VERSION, bodyLimit: config.bodyLimit, importBodyLimit: config.importBodyLimit });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'stopping');
    await app.close().catch((err: unknown) => log.error({ err }, 'error while closing the server'));
    await store.close().catch((err: unknown) => log.error({ err }, 'error while closing the store'));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  const boot = await bootstrapAdmin(store.db, config.bootstrapToken);
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  // The banner is for the person who ran `npm start`; it goes to stdout, not the JSON log.
  const lines = [``, `  Pave ${VERSION} is running`, `  Portal:  ${url}/`, `  API:     ${url}/api/v1 (OpenAPI: ${url}/api/v1/openapi.json)`, `  Store:   ${store.mode === 'embedded' ? `embedded PostgreSQL in ${config.dataDir}` : 'external PostgreSQL'}`];
  if (boot && !boot.preset) {
    lines.push('', '  First start: an admin token was created. It is shown only this once; keep it safe:', '', `    ${boot.token}`, '', `  Sign in:  npx pave login --url ${url} --token ${boot.token}`);
  } else if (boot) {
    lines.push('', '  First start: the admin token is the one given in PAVE_BOOTSTRAP_TOKEN.');
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`pave: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
