import { PaveError } from '../errors.ts';
import { jobKind, RetryLater, type JobHandler } from '../jobs/types.ts';
import type { ApplyResult, ResourceEvent } from '../resources/types.ts';
import type { ApplicationService } from './service.ts';

/**
 * Applying an environment's resources as a job (`resources.apply`): any Pave server may run it, and
 * when the server running it dies, another runs it again from the start. That converges: the resource
 * engine resumes from the rows it wrote before and after each driver call (a resource that was being
 * provisioned is provisioned again, one that is ready and unchanged is left alone), and one apply per
 * environment runs at a time (its advisory lock, held by a session that dies with its server).
 */
export interface ApplyResourcesPayload {
  /** The application's ref, e.g. application:default/shop. */
  application: string;
  environment: string;
  refresh: boolean;
}

export const APPLY_RESOURCES = jobKind<ApplyResourcesPayload, ApplyResult>('resources.apply');

/** One job per environment at a time: a second apply is refused (409) while one is queued or running. */
export const applyKey = (environmentId: string) => `resources.apply:${environmentId}`;

function parse(raw: unknown): ApplyResourcesPayload {
  const p = raw as Partial<ApplyResourcesPayload> | null;
  if (!p || typeof p.application !== 'string' || typeof p.environment !== 'string') throw new Error('a resources.apply job needs an application and an environment');
  return { application: p.application, environment: p.environment, refresh: p.refresh === true };
}

export function applyResourcesJob(apps: ApplicationService): JobHandler<ApplyResourcesPayload, ApplyResult> {
  return {
    kind: APPLY_RESOURCES,
    parse,
    subject: (p) => `${p.application}/${p.environment}`,
    run: async (p, ctx) => {
      try {
        return await apps.apply(p.application, p.environment, (e: ResourceEvent) => ctx.progress(e), { refresh: p.refresh });
      } catch (err) {
        // Taken over from a server that is stalled rather than dead (paused, cut off from the network): its
        // database session may still hold the environment's apply lock. Try again later instead of failing.
        if (ctx.resumed && err instanceof PaveError && err.status === 409) throw new RetryLater(err.message);
        throw err;
      }
    },
  };
}
