import { z } from 'zod';

/**
 * Settings of the job queue and the server registry, from the environment (documented in the README's
 * configuration reference, "Running several Pave servers").
 */
export interface JobSettings {
  /** PAVE_HA: declare a multi-server installation even while one server runs. */
  ha: boolean;
  /** PAVE_JOB_LEASE: seconds a server holds a job without renewing it; a job whose server died is taken over after it. */
  leaseSeconds: number;
  /** PAVE_JOB_POLL_INTERVAL: seconds between a worker's looks at the queue when nothing woke it. */
  pollSeconds: number;
  /** PAVE_JOB_CONCURRENCY: jobs one server runs at once. */
  concurrency: number;
  /** PAVE_JOB_STOP_TIMEOUT: seconds a stopping server lets its running jobs finish before giving them back. */
  stopTimeoutSeconds: number;
}

export const DEFAULT_JOB_SETTINGS: JobSettings = { ha: false, leaseSeconds: 15, pollSeconds: 1, concurrency: 4, stopTimeoutSeconds: 30 };

const ENV = {
  ha: 'PAVE_HA',
  leaseSeconds: 'PAVE_JOB_LEASE',
  pollSeconds: 'PAVE_JOB_POLL_INTERVAL',
  concurrency: 'PAVE_JOB_CONCURRENCY',
  stopTimeoutSeconds: 'PAVE_JOB_STOP_TIMEOUT',
} as const satisfies Record<keyof JobSettings, string>;

const Schema = z.object({
  ha: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(DEFAULT_JOB_SETTINGS.ha),
  leaseSeconds: z.coerce.number().min(1).max(3600).default(DEFAULT_JOB_SETTINGS.leaseSeconds),
  pollSeconds: z.coerce.number().min(0.05).max(60).default(DEFAULT_JOB_SETTINGS.pollSeconds),
  concurrency: z.coerce.number().int().min(1).max(64).default(DEFAULT_JOB_SETTINGS.concurrency),
  stopTimeoutSeconds: z.coerce.number().min(0).max(3600).default(DEFAULT_JOB_SETTINGS.stopTimeoutSeconds),
});

/** Reads the settings; a bad value is an error naming the variable. */
export function loadJobSettings(env: NodeJS.ProcessEnv = process.env): JobSettings {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v.trim().toLowerCase();
  }
  const parsed = Schema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`Invalid configuration:\n  ${parsed.error.issues.map((i) => `${ENV[String(i.path[0]) as keyof JobSettings] ?? String(i.path[0])}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}
