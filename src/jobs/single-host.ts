import { PaveError } from '../errors.ts';
import type { ServerRegistry } from './servers.ts';

/**
 * The local process runtime is single-host: a deployment's processes and the router that serves them
 * live on the machine of the server that started them. A multi-server installation (servers.ts)
 * therefore refuses, with a 409 problem (single-host-runtime), to deploy or release a production
 * environment on it. This wraps the policy gate the deployments module checks before it does anything
 * (so a refusal writes nothing); which checks concern the local runtime the composition root decides
 * (`runsLocally`: the environment's resolved runtime target, or the released deployment's).
 */
export interface HostBoundCheck {
  event: string;
  application: { ref: string };
  environment: { name: string; type: string } | null;
  details?: Record<string, unknown> | undefined;
}

export interface Gate<C> {
  enforce(checks: C | readonly C[]): Promise<void>;
  denial(checks: readonly C[]): Promise<string | null>;
}

const GUARDED = new Set(['deployment.create', 'release']);

export function singleHostGate<C extends HostBoundCheck>(inner: Gate<C>, servers: ServerRegistry, runsLocally: (check: C) => Promise<boolean>): Gate<C> {
  const refusal = async (checks: readonly C[]): Promise<string | null> => {
    for (const c of checks) {
      if (!GUARDED.has(c.event) || c.environment?.type !== 'production') continue;
      const what = `${c.event === 'release' ? 'Releasing in' : 'Deploying to'} ${c.environment.name} (production) of ${c.application.ref} on the local process runtime`;
      // the installation first (one query; a single server is never refused), then where the check would run
      const why = await servers.singleHostRefusal(what);
      if (why && (await runsLocally(c))) return why;
    }
    return null;
  };
  const list = (checks: C | readonly C[]): readonly C[] => (Array.isArray(checks) ? (checks as readonly C[]) : [checks as C]);
  return {
    async enforce(checks) {
      // before the policies: a refusal here is not a policy's, and is not audited as one
      const why = await refusal(list(checks));
      if (why) throw new PaveError(409, 'single-host-runtime', 'Single-host runtime', why);
      return inner.enforce(checks);
    },
    async denial(checks) {
      return (await refusal(checks)) ?? inner.denial(checks);
    },
  };
}
