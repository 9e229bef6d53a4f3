import type { Router } from '../router/router.ts';
import type { RouteKey } from '../router/types.ts';
import { waitHealthy } from '../runtime/health.ts';
import type { ProcessSpec, RunStatus, Runtime } from '../runtime/types.ts';
import type { DeploymentTarget, Readiness, TargetDescription, TargetEmit, TargetObjectStatus, TargetOutcome } from '../targets/target.ts';

/**
 * The local process runtime as a deployment target: deploy starts the deployment's processes (a
 * supervisor per run, see src/runtime), waitReady polls every web replica's health path (or, without
 * a web process, checks that the processes stay up), release and rollback point the environment's
 * route in Pave's router at the deployment's web replicas, remove drains it and stops its processes.
 * What the deployments module records (ports, warm deployments, the release phase) stays there.
 */
export interface LocalRun {
  id: string;
  /** SIGTERM → SIGKILL grace when stopped. */
  graceMs: number;
  /** The artifact's folder. */
  cwd?: string | undefined;
  processes?: ProcessSpec[] | undefined;
  healthPath?: string | undefined;
  /** The environment's route. */
  key?: RouteKey | undefined;
}

export class LocalDeploymentTarget implements DeploymentTarget<LocalRun> {
  readonly runtime = 'local' as const;
  private readonly runtimeImpl: Runtime;
  private readonly router: Router;
  constructor(runtime: Runtime, router: Router) {
    this.runtimeImpl = runtime;
    this.router = router;
  }

  describe(): TargetDescription {
    return { runtime: 'local', cluster: null, location: "this machine's process runtime, behind Pave's router" };
  }

  async deploy(d: LocalRun): Promise<TargetOutcome> {
    try {
      await this.runtimeImpl.start({ id: d.id, cwd: d.cwd ?? '.', graceMs: d.graceMs, processes: d.processes ?? [] });
      return { ok: true, objects: [] };
    } catch (err) {
      return { ok: false, objects: [], error: `the processes did not start: ${(err as Error).message}` };
    }
  }

  async waitReady(d: LocalRun, deadline: number, emit: TargetEmit): Promise<Readiness> {
    const isDead = async () => deathReason(await this.runtimeImpl.status(d.id));
    const web = (d.processes ?? []).filter((p) => p.port !== undefined);
    emit(web.length ? `waiting for GET ${d.healthPath} on ${web.length} web replica(s)` : 'no web process: waiting for the processes to stay up');
    if (!web.length) {
      await new Promise((r) => setTimeout(r, 1000));
      const reason = await isDead();
      return reason ? { ok: false, reason } : { ok: true };
    }
    const timeoutMs = Math.max(0, deadline - Date.now());
    const results = await Promise.all(web.map((p) => waitHealthy({ port: p.port!, path: d.healthPath ?? '/', timeoutMs, isDead })));
    const failed = results.find((r) => !r.ok);
    return failed && !failed.ok ? { ok: false, reason: failed.reason } : { ok: true };
  }

  async release(d: LocalRun): Promise<TargetOutcome> {
    const backends = (d.processes ?? []).filter((p) => p.type === 'web' && p.port !== undefined).map((p) => ({ host: '127.0.0.1', port: p.port! }));
    try {
      this.router.set(d.key!, backends.length ? { deploymentId: d.id, backends } : null);
      return { ok: true, objects: [] };
    } catch (err) {
      return { ok: false, objects: [], error: (err as Error).message };
    }
  }

  rollback(d: LocalRun): Promise<TargetOutcome> {
    return this.release(d);
  }

  async remove(d: LocalRun): Promise<TargetOutcome> {
    await this.router.drain(d.id);
    await this.runtimeImpl.stop(d.id, d.graceMs);
    return { ok: true, objects: [] };
  }

  async status(d: LocalRun): Promise<TargetObjectStatus[]> {
    const s = await this.runtimeImpl.status(d.id);
    return (s?.processes ?? []).map((p) => ({
      object: `${p.type}.${p.replica}`, kind: 'Process', name: `${p.type}.${p.replica}`, namespace: null,
      state: s?.alive && p.state === 'running' ? 'ready' : s?.alive && p.state !== 'stopped' ? 'progressing' : 'missing', detail: p.state,
    }));
  }

  close(): void {
    // the runtime and router live with the server
  }
}

/** Why a run is dead before it was healthy (a crash, a dead supervisor), or null. */
export function deathReason(status: RunStatus | null): string | null {
  if (!status) return 'the run has no status';
  if (!status.alive) return 'the supervisor of the processes died';
  const crashed = status.processes.find((p) => p.lastExit !== null && p.state !== 'stopping' && p.state !== 'stopped');
  if (!crashed) return null;
  const e = crashed.lastExit!;
  return `${crashed.type}.${crashed.replica} exited ${e.signal ? `on ${e.signal}` : `with code ${e.code}`} before it was healthy${crashed.restarts ? ` (restarted ${crashed.restarts} times)` : ''}`;
}
