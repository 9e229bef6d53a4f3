import { jobKind, type JobHandler } from '../jobs/types.ts';
import type { RuntimeName } from '../targets/target.ts';
import type { DeploymentService } from './service.ts';

/**
 * A deployment's work as a job (`deployments.run`): a deploy (and a release, rollback or promotion
 * that does work) holds one while it runs on the server that took the request, which streams its
 * progress as before (JobService.track). The job's lease says the work is alive. When that server
 * dies, the server that finds the lease run out runs this handler, which does what fits the runtime:
 *
 * - local: the processes are on the dead server's host: the deployment is marked failed ("the server
 *   running it stopped"), what was released keeps serving; the job fails with the reason (not run twice);
 * - kubernetes, gitops: converged: the deployment's recorded objects are applied again (server-side
 *   apply is idempotent), the rollout awaited with its deadline, and it is released when the request
 *   asked for a release and that release was not recorded yet. It ends healthy/released or failed.
 *
 * The kind's `takeover` is `rerun` (so that cluster deployments converge); the handler itself fails
 * what runs on the local runtime, which is the `fail` semantics for that runtime.
 */
export interface DeploymentRunPayload {
  deployment: string;
  /** What the request was: a deploy (also restart, scale, a clone's deploy), or a release of an existing deployment. */
  op: 'deploy' | 'promote' | 'release' | 'rollback';
  /** Whether the request asked for a release (always for release and rollback). */
  release: boolean;
  runtime: RuntimeName;
  /** The rollout deadline asked for (seconds); else the cluster's. */
  timeoutSeconds?: number | undefined;
  /** Who asked (a user ref): the taker releases in their name. */
  by: string;
}

export const DEPLOYMENT_RUN = jobKind<DeploymentRunPayload>('deployments.run');

const OPS = new Set(['deploy', 'promote', 'release', 'rollback']);
const RUNTIMES = new Set(['local', 'kubernetes', 'gitops']);

function parse(raw: unknown): DeploymentRunPayload {
  const p = raw as Partial<DeploymentRunPayload> | null;
  if (!p || typeof p.deployment !== 'string' || typeof p.op !== 'string' || !OPS.has(p.op) || typeof p.runtime !== 'string' || !RUNTIMES.has(p.runtime) || typeof p.by !== 'string') {
    throw new Error('a deployments.run job needs a deployment, an op, a runtime and who asked');
  }
  return {
    deployment: p.deployment, op: p.op, release: p.release === true, runtime: p.runtime, by: p.by,
    ...(typeof p.timeoutSeconds === 'number' ? { timeoutSeconds: p.timeoutSeconds } : {}),
  };
}

export function deploymentRunJob(deployments: DeploymentService): JobHandler<DeploymentRunPayload> {
  return {
    kind: DEPLOYMENT_RUN,
    parse,
    subject: (p) => `deployment:${p.deployment}`,
    takeover: 'rerun',
    maxAttempts: 3,
    // its attempts ran out (servers kept dying during it): the deployment is not left in progress
    interrupted: (p, reason) => deployments.interrupted(p.deployment, `the servers running it stopped during it: ${reason}`),
    run: async (p, ctx) => {
      await deployments.takeOver(p, (e) => ctx.progress(e), ctx.signal);
      return null;
    },
  };
}
