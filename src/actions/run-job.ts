import { conflict } from '../errors.ts';
import { jobKind, type JobHandler } from '../jobs/types.ts';
import type { ActionService } from './service.ts';

/**
 * An action run as a job (`actions.run`): the run's work stays on the server that started it (its
 * parameters, secret ones in clear, live only there), and the job, claimed at birth by that server,
 * holds a lease while it goes on. Actions are not run twice (a command or an HTTP request may not be
 * idempotent): when that server dies, the server that finds the lease run out does not run it again;
 * it marks the run failed, with the reason.
 */
export interface ActionRunPayload {
  run: string;
}

export const ACTION_RUN = jobKind<ActionRunPayload>('actions.run');

const INTERRUPTED = 'the Pave server running it stopped before it ended (an action is not run again on another server)';

const parse = (raw: unknown): ActionRunPayload => {
  const p = raw as Partial<ActionRunPayload> | null;
  if (!p || typeof p.run !== 'string') throw new Error('an actions.run job needs a run id');
  return { run: p.run };
};

export function actionRunJob(actions: ActionService): JobHandler<ActionRunPayload> {
  return {
    kind: ACTION_RUN,
    parse,
    subject: (p) => `run:${p.run}`,
    takeover: 'fail',
    maxAttempts: 1,
    interrupted: (p) => actions.interrupted(p.run, INTERRUPTED),
    // only reached when a stopping server gave the job back: the run cannot go on elsewhere
    run: async (p) => {
      await actions.interrupted(p.run, INTERRUPTED);
      throw conflict(INTERRUPTED);
    },
  };
}
