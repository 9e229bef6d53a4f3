import { conflict, PaveError } from '../errors.ts';
import { jobKind, RetryLater, type JobHandler } from '../jobs/types.ts';
import type { ApplyResult, ResourceEvent } from '../resources/types.ts';
import type { ApplicationService } from './service.ts';

/**
 * Deleting an environment (or a whole application) as a job (`resources.delete`): any Pave server may
 * run it, and when the server running it dies, another runs it again from the start. That converges:
 * the environment is marked `deleting` before the job is queued (so nothing applies or uses it), a
 * driver's delete succeeds when the thing is already gone, a resource's row is removed only after its
 * driver deleted it, and the environment's rows (then the application's) only after every resource was.
 */
export interface DeleteResourcesPayload {
  /** The application's ref, e.g. application:default/shop. */
  application: string;
  /** One environment, or null: every environment, then the application itself. */
  environment: string | null;
}

export const DELETE_RESOURCES = jobKind<DeleteResourcesPayload, ApplyResult>('resources.delete');

/** One deletion per environment (or application) at a time: asking again while one is queued or running is a 409 naming it. */
export const deleteKey = (id: string) => `resources.delete:${id}`;

function parse(raw: unknown): DeleteResourcesPayload {
  const p = raw as Partial<DeleteResourcesPayload> | null;
  if (!p || typeof p.application !== 'string' || (p.environment !== null && typeof p.environment !== 'string')) throw new Error('a resources.delete job needs an application and an environment (or null for all)');
  return { application: p.application, environment: p.environment };
}

/** What the client is told when a resource could not be deleted (the environment or application stays, with the errors). */
export function notDeleted(p: DeleteResourcesPayload, res: ApplyResult): PaveError {
  return p.environment !== null
    ? conflict(`environment ${p.environment} was not deleted: ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`)
    : conflict(`${p.application} was not deleted because some of its resources could not be deleted (they are kept, with their errors, and retried next time): ${res.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`);
}

export function deleteResourcesJob(apps: ApplicationService): JobHandler<DeleteResourcesPayload, ApplyResult> {
  return {
    kind: DELETE_RESOURCES,
    parse,
    subject: (p) => (p.environment !== null ? `${p.application}/${p.environment}` : p.application),
    takeover: 'rerun',
    run: async (p, ctx) => {
      const progress = (e: ResourceEvent) => ctx.progress(e);
      let res: ApplyResult;
      try {
        res = p.environment !== null ? await apps.deleteEnvironment(p.application, p.environment, progress) : await apps.delete(p.application, progress);
      } catch (err) {
        // the server that died had finished: the environment (or application) is gone already
        if (ctx.resumed && err instanceof PaveError && err.status === 404) return { ok: true, events: [], failed: [] };
        // taken over from a stalled (not dead) server whose session may still hold the environment's lock
        if (ctx.resumed && err instanceof PaveError && err.status === 409) throw new RetryLater(err.message);
        throw err;
      }
      if (!res.ok) throw notDeleted(p, res);
      return res;
    },
  };
}
