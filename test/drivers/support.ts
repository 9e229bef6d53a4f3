import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import type { DriverLog, ResourceIdentity } from '../../src/resources/drivers/driver.ts';

/** Helpers for the driver tests: unique identities, a recording log, and service gates. */

/** A random suffix for this test process, so runs (and files run in parallel) never collide. */
export const RUN = randomBytes(4).toString('hex');

/** A resource identity with a uid unique to this run, e.g. `dt3f2a1b9c.development.db-a`. */
export function identity(type: string, id: string): ResourceIdentity {
  return {
    uid: `dt${RUN}.development.${type}-${id}`,
    type,
    class: 'default',
    id,
    application: `dt${RUN}`,
    environment: 'development',
    environmentType: 'development',
    team: null,
  };
}

export interface LogLine {
  level: 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown> | undefined;
}

/** A DriverLog that keeps every line, to assert on (and to prove no secret is ever logged). */
export function recordingLog(): DriverLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (msg, fields) => void lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => void lines.push({ level: 'warn', msg, fields }),
  };
}

/** Whether a TCP port answers within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Gates a test file on a service: undefined when it answers, else a skip reason
 * (`skip: <service> not reachable at <addr>`). With CI=true an unreachable service also registers a
 * failing test, so CI never passes by skipping.
 */
export async function serviceGate(service: string, host: string, port: number): Promise<string | undefined> {
  if (await reachable(host, port)) return undefined;
  const reason = `skip: ${service} not reachable at ${host}:${port}`;
  if (process.env.CI === 'true') {
    test(`${service} is required in CI`, () => {
      throw new Error(`CI=true but ${service} is not reachable at ${host}:${port}`);
    });
  } else {
    process.stderr.write(`# ${reason}\n`);
  }
  return reason;
}

export function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a string, got ${typeof v}`);
  return v;
}

export function num(v: unknown): number {
  if (typeof v !== 'number') throw new Error(`expected a number, got ${typeof v}`);
  return v;
}
