import { jobKind, RetryLater, type JobHandler } from '../jobs/types.ts';
import type { FleetService } from './service.ts';

/**
 * A fleet upgrade as a job (`fleet.upgrade`): one job per upgrade at a time (key `fleet.upgrade:<id>`),
 * claimed by one of the servers; its run is the upgrade's loop, until the upgrade ends or pauses (a
 * resume submits a new job). When the server running it dies, another takes the job over once its
 * lease runs out and runs the loop again, which converges: it first puts back (and tries again) the
 * applications the dead server left in flight, then goes on with the pending ones. A server that
 * stops lets the applications in flight finish and puts the job back in the queue for another.
 */
export interface FleetUpgradePayload {
  upgrade: string;
}

export interface FleetUpgradeResult {
  upgrade: string;
  /** The upgrade's status when the run ended (e.g. succeeded, paused, cancelled). */
  status: string;
}

export const FLEET_UPGRADE = jobKind<FleetUpgradePayload, FleetUpgradeResult>('fleet.upgrade');

/** At most one queued or running job per upgrade. */
export const upgradeKey = (id: string) => `fleet.upgrade:${id}`;

/** Seconds a stopping server's upgrade waits in the queue before another server (or this one, restarted) claims it. */
const HAND_BACK_SECONDS = 2;

const parse = (raw: unknown): FleetUpgradePayload => {
  const p = raw as Partial<FleetUpgradePayload> | null;
  if (!p || typeof p.upgrade !== 'string') throw new Error('a fleet.upgrade job needs an upgrade id');
  return { upgrade: p.upgrade };
};

export function fleetUpgradeJob(fleet: FleetService): JobHandler<FleetUpgradePayload, FleetUpgradeResult> {
  return {
    kind: FLEET_UPGRADE,
    parse,
    subject: (p) => `fleet-upgrade:${p.upgrade}`,
    takeover: 'rerun',
    // every server stop during a long upgrade is one more run of its job
    maxAttempts: 25,
    run: async (p, ctx) => {
      const end = await fleet.runUpgrade(p.upgrade, { signal: ctx.signal, progress: (e) => ctx.progress(e) });
      // this server stops (the job was not taken from it): the upgrade goes on on another server
      if (end === 'stopped' && !ctx.signal.aborted) throw new RetryLater('this server is stopping; the upgrade goes on on another server', HAND_BACK_SECONDS);
      return { upgrade: p.upgrade, status: (await fleet.get(p.upgrade)).status };
    },
  };
}
