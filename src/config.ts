import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** Server configuration: flags win over environment variables, which win over defaults. */
export const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(7400),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./.pave'),
  databaseUrl: z.string().url().optional(),
  bootstrapToken: z.string().min(16, 'PAVE_BOOTSTRAP_TOKEN must be at least 16 characters').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  bodyLimit: z.coerce.number().int().positive().default(1024 * 1024),
  importBodyLimit: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  secretKey: z.string().min(1).optional(),
  platform: z.string().min(1).optional(),
  platformSyncInterval: z.coerce.number().int().min(0).default(300),
  routerPort: z.coerce.number().int().min(0).max(65535).default(7480),
  keepWarm: z.coerce.number().int().min(0).max(20).default(2),
  warmSeconds: z.coerce.number().int().min(0).default(900),
  healthTimeout: z.coerce.number().int().min(1).max(600).default(30),
  stopGrace: z.coerce.number().int().min(0).max(600).default(10),
  reaperInterval: z.coerce.number().min(0.1).default(30),
  // identity (OpenID Connect, sessions, local passwords)
  publicUrl: z.string().url().regex(/^https?:\/\//, 'must be an http(s) URL').optional(),
  oidcIssuer: z.string().url().optional(),
  oidcClientId: z.string().min(1).optional(),
  oidcClientSecret: z.string().min(1).optional(),
  oidcScopes: z.string().min(1).default('openid profile email groups'),
  oidcGroupsClaim: z.string().min(1).default('groups'),
  oidcTeamMapping: z.string().optional(),
  oidcName: z.string().min(1).max(60).optional(),
  sessionTtl: z.coerce.number().int().min(60).default(43_200),
  loginMaxFailures: z.coerce.number().int().min(1).default(5),
  loginMaxFailuresPerIp: z.coerce.number().int().min(1).default(20),
  loginWindow: z.coerce.number().int().min(1).default(900),
}).refine((c) => !c.oidcIssuer || c.oidcClientId, { message: 'PAVE_OIDC_CLIENT_ID is required with PAVE_OIDC_ISSUER', path: ['oidcClientId'] });
export type Config = z.infer<typeof ConfigSchema>;

const ENV: Record<keyof Config, string> = {
  port: 'PAVE_PORT',
  host: 'PAVE_HOST',
  dataDir: 'PAVE_DATA_DIR',
  databaseUrl: 'PAVE_DATABASE_URL',
  bootstrapToken: 'PAVE_BOOTSTRAP_TOKEN',
  logLevel: 'PAVE_LOG_LEVEL',
  bodyLimit: 'PAVE_BODY_LIMIT',
  importBodyLimit: 'PAVE_IMPORT_BODY_LIMIT',
  secretKey: 'PAVE_SECRET_KEY',
  platform: 'PAVE_PLATFORM',
  platformSyncInterval: 'PAVE_PLATFORM_SYNC_INTERVAL',
  routerPort: 'PAVE_ROUTER_PORT',
  keepWarm: 'PAVE_KEEP_WARM',
  warmSeconds: 'PAVE_WARM_SECONDS',
  healthTimeout: 'PAVE_HEALTH_TIMEOUT',
  stopGrace: 'PAVE_STOP_GRACE',
  reaperInterval: 'PAVE_REAPER_INTERVAL',
  publicUrl: 'PAVE_PUBLIC_URL',
  oidcIssuer: 'PAVE_OIDC_ISSUER',
  oidcClientId: 'PAVE_OIDC_CLIENT_ID',
  oidcClientSecret: 'PAVE_OIDC_CLIENT_SECRET',
  oidcScopes: 'PAVE_OIDC_SCOPES',
  oidcGroupsClaim: 'PAVE_OIDC_GROUPS_CLAIM',
  oidcTeamMapping: 'PAVE_OIDC_TEAM_MAPPING',
  oidcName: 'PAVE_OIDC_NAME',
  sessionTtl: 'PAVE_SESSION_TTL',
  loginMaxFailures: 'PAVE_LOGIN_MAX_FAILURES',
  loginMaxFailuresPerIp: 'PAVE_LOGIN_MAX_FAILURES_PER_IP',
  loginWindow: 'PAVE_LOGIN_WINDOW',
};

export const CONFIG_ENV = ENV;

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'log-level': { type: 'string' },
      platform: { type: 'string' },
      'router-port': { type: 'string' },
    },
    strict: true,
  });
  const raw: Record<string, string | undefined> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (values.port) raw.port = values.port;
  if (values.host) raw.host = values.host;
  if (values['data-dir']) raw.dataDir = values['data-dir'];
  if (values['database-url']) raw.databaseUrl = values['database-url'];
  if (values['log-level']) raw.logLevel = values['log-level'];
  if (values.platform) raw.platform = values.platform;
  if (values['router-port']) raw.routerPort = values['router-port'];
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      return `${ENV[key as keyof Config] ?? key}: ${i.message}`;
    });
    throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) };
}
