import type { DeploymentTarget, Readiness, TargetDescription, TargetEmit, TargetObjectStatus, TargetOutcome } from '../target.ts';
import { KubeClient, KubernetesTarget, rolloutState, type ClusterAccess, type ObjectStatus, type Owner } from './client.ts';
import { describeRef, refOf, type KubeObject, type RenderedObject } from './objects.ts';

/**
 * A deployment as the cluster targets (Kubernetes and GitOps) take it: who and what it is, and the
 * objects it rendered when it was deployed (recorded, so that releasing or rolling back to it applies
 * exactly them, never a new rendering).
 */
export interface ClusterDeployment {
  /** `application:default/shop`. */
  application: string;
  environment: string;
  deployment: { id: string; number: number };
  /** `7 (registry.example.com/shop@sha256:…)`. */
  build: string;
  /** Who deployed, released or rolled back: `user:default/alice`. */
  author: string;
  rendered: { namespace: string; objects: RenderedObject[] };
  /** The labels pruning selects on (application, catalog namespace, environment) and the namespace. */
  owner: Owner;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

export function toTargetStatus(s: ObjectStatus): TargetObjectStatus {
  const state = s.action === 'applied' ? 'applied' : s.action === 'pruned' ? 'pruned' : s.action === 'skipped' ? 'skipped' : 'failed';
  return { object: s.object, kind: s.ref.kind, name: s.ref.name, namespace: s.ref.namespace, state, ...(s.detail ? { detail: s.detail } : {}) };
}

/**
 * The Kubernetes target: server-side apply (field manager `pave`) through the cluster's API.
 * deploy applies the namespace and workload objects (the Deployment named after the deployment runs
 * beside the one serving); waitReady watches its rollout until the deadline; release makes sure the
 * workload is there and rolled out (applying it again only when it is not), then applies the Service
 * (whose selector names the deployment) and the route, then prunes what Pave applied earlier for the
 * environment; rollback re-applies every recorded object of the earlier deployment, waits for its
 * rollout, switches and prunes; remove prunes everything Pave applied for the environment (by its
 * labels, only objects whose managed fields name Pave), the namespace last.
 */
export class KubernetesDeploymentTarget implements DeploymentTarget<ClusterDeployment> {
  readonly runtime = 'kubernetes' as const;
  private readonly client: KubeClient;
  private readonly o: { cluster: string; server: string; namespace: string | null; rolloutTimeoutMs: number; pollMs: number };
  constructor(access: ClusterAccess, o: { cluster: string; namespace?: string | null | undefined; rolloutTimeoutMs: number; pollMs?: number | undefined; requestTimeoutMs?: number | undefined }) {
    this.client = new KubeClient(access, { timeoutMs: o.requestTimeoutMs ?? 30_000 });
    this.o = { cluster: o.cluster, server: access.server, namespace: o.namespace ?? null, rolloutTimeoutMs: o.rolloutTimeoutMs, pollMs: o.pollMs ?? 2000 };
  }

  describe(): TargetDescription {
    return { runtime: 'kubernetes', cluster: this.o.cluster, location: this.o.server, namespace: this.o.namespace };
  }

  private target(emit: TargetEmit): KubernetesTarget {
    return new KubernetesTarget(this.client, { rolloutTimeoutMs: this.o.rolloutTimeoutMs, pollMs: this.o.pollMs, onEvent: emit });
  }

  private phase(d: ClusterDeployment, ...phases: string[]): KubeObject[] {
    return d.rendered.objects.filter((o) => phases.includes(o.phase)).map((o) => o.object);
  }

  private workloads(d: ClusterDeployment): KubeObject[] {
    return this.phase(d, 'workload').filter((o) => WORKLOAD_KINDS.has(o.kind));
  }

  async deploy(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    const res = await this.target(emit).applyObjects(this.phase(d, 'namespace', 'workload'));
    const objects = res.objects.map(toTargetStatus);
    return res.ok ? { ok: true, objects } : { ok: false, objects, error: res.objects.at(-1)?.detail };
  }

  async waitReady(d: ClusterDeployment, deadline: number, emit: TargetEmit): Promise<Readiness> {
    const t = this.target(emit);
    for (const w of this.workloads(d)) {
      const res = await t.waitRollout(refOf(w), deadline);
      if (!res.ok) return res;
      emit(`${describeRef(refOf(w))} is ready`);
    }
    return { ok: true };
  }

  /** Whether every workload of the deployment is in the cluster and rolled out (then release need not apply it again). */
  private async rolledOut(d: ClusterDeployment): Promise<boolean> {
    for (const w of this.workloads(d)) {
      const live = await this.client.get(refOf(w));
      if (!live || !rolloutState(live).done) return false;
    }
    return true;
  }

  private async switchTo(d: ClusterDeployment, emit: TargetEmit, reapply: boolean): Promise<TargetOutcome> {
    const t = this.target(emit);
    const out: ObjectStatus[] = [];
    if (reapply || !(await this.rolledOut(d))) {
      const applied = await t.applyObjects(this.phase(d, 'namespace', 'workload'), out);
      if (!applied.ok) return { ok: false, objects: out.map(toTargetStatus), error: out.at(-1)?.detail };
      const ready = await this.waitReady(d, Date.now() + this.o.rolloutTimeoutMs, emit);
      if (!ready.ok) return { ok: false, objects: out.map(toTargetStatus), error: ready.reason };
    } else emit(`${this.workloads(d).map((w) => describeRef(refOf(w))).join(', ')} is rolled out: switching to it`);
    const released = await t.applyObjects(this.phase(d, 'release'), out);
    if (!released.ok) return { ok: false, objects: out.map(toTargetStatus), error: out.at(-1)?.detail };
    await t.prune(d.owner, d.rendered.objects.map((o) => o.object), [], out);
    const failed = out.find((s) => s.action === 'failed');
    return { ok: !failed, objects: out.map(toTargetStatus), error: failed?.detail };
  }

  release(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    return this.switchTo(d, emit, false);
  }

  rollback(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    return this.switchTo(d, emit, true);
  }

  async remove(d: ClusterDeployment, emit: TargetEmit): Promise<TargetOutcome> {
    const res = await this.target(emit).delete(d.owner);
    return { ok: res.ok, objects: res.objects.map(toTargetStatus), error: res.error };
  }

  /** The workload objects of a deployment that failed its rollout (not claims, which hold data). */
  async discard(d: ClusterDeployment): Promise<TargetObjectStatus[]> {
    return (await this.target(() => undefined).discard(d.rendered)).map(toTargetStatus);
  }

  async status(d: ClusterDeployment): Promise<TargetObjectStatus[]> {
    const out: TargetObjectStatus[] = [];
    for (const { object } of d.rendered.objects) {
      const ref = refOf(object);
      const base = { object: describeRef(ref), kind: ref.kind, name: ref.name, namespace: ref.namespace };
      try {
        const live = await this.client.get(ref);
        if (!live) out.push({ ...base, state: 'missing' });
        else if (WORKLOAD_KINDS.has(ref.kind)) {
          const v = rolloutState(live);
          out.push({ ...base, state: v.done ? 'ready' : v.failed ? 'failed' : 'progressing', detail: v.failed ?? v.progress });
        } else out.push({ ...base, state: 'ready', detail: `resourceVersion ${String(live.metadata.resourceVersion ?? '?')}` });
      } catch (err) {
        out.push({ ...base, state: 'failed', detail: (err as Error).message });
      }
    }
    return out;
  }

  close(): void {
    this.client.close();
  }
}
