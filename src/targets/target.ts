/**
 * The runtime target contract: where a deployment runs and how traffic reaches it. Three targets
 * implement it: the local process runtime behind Pave's router (`src/deployments/local-target.ts`),
 * a Kubernetes cluster through its API (`kubernetes/target.ts`), and a GitOps repository that Argo CD
 * or Flux reconciles (`gitops-target.ts`). The deployments module drives every target the same way:
 *
 *   deploy     put the deployment's workload on the target, beside what serves (no traffic yet)
 *   waitReady  until it is ready (health checks, the rollout), or the deadline
 *   release    switch the environment's traffic to it (after it is ready), retiring what served
 *   rollback   switch back to an earlier deployment: exactly what it ran (its recorded processes,
 *              rendered objects or commit), never a rebuild or a new rendering
 *   remove     take down what Pave put on the target for the environment, and nothing else
 *   status     each process or object as the target reports it now
 *
 * A target knows nothing of HTTP or the store: what it is given (the deployment's payload `D`) and
 * what it answers are plain values, and the deployments module records them.
 */

export type RuntimeName = 'local' | 'kubernetes' | 'gitops';
export const RUNTIME_NAMES: readonly RuntimeName[] = ['local', 'kubernetes', 'gitops'];

/** One object (or process, or file) of a deployment on its target, and what happened to it. */
export interface TargetObjectStatus {
  /** `Deployment shop-production/shop-4`, `web.0`, `clusters/eu/production/shop/service-shop.yaml`. */
  object: string;
  kind: string;
  name: string;
  namespace: string | null;
  /**
   * applied (server-side apply accepted it), pruned (deleted as no longer wanted), skipped (left
   * alone: not Pave's), failed, committed (in the GitOps commit), omitted (a Secret kept out of the
   * repository), rendered (recorded, not on the target yet), ready / progressing / missing (status).
   */
  state: 'applied' | 'pruned' | 'skipped' | 'failed' | 'committed' | 'omitted' | 'rendered' | 'ready' | 'progressing' | 'missing';
  detail?: string | undefined;
}

/** The outcome of deploy, release, rollback or remove. */
export interface TargetOutcome {
  ok: boolean;
  objects: TargetObjectStatus[];
  error?: string | undefined;
  /** GitOps: the commit at the head of the branch afterwards, and whether it was pushed. */
  commit?: string | null | undefined;
  pushed?: boolean | undefined;
}

export type Readiness = { ok: true } | { ok: false; reason: string };

/** Progress lines, e.g. `applied Deployment shop-production/shop-4`. */
export type TargetEmit = (message: string) => void;

/** What the target is, for status and the deployment's record: never credentials. */
export interface TargetDescription {
  runtime: RuntimeName;
  /** The cluster's name (Kubernetes and GitOps), null for the local runtime. */
  cluster: string | null;
  /** Where: the API server, the repository, or this machine's router. */
  location: string;
  namespace?: string | null | undefined;
  branch?: string | null | undefined;
  folder?: string | null | undefined;
}

export interface DeploymentTarget<D> {
  readonly runtime: RuntimeName;
  describe(): TargetDescription;
  deploy(d: D, emit: TargetEmit): Promise<TargetOutcome>;
  waitReady(d: D, deadline: number, emit: TargetEmit): Promise<Readiness>;
  release(d: D, emit: TargetEmit): Promise<TargetOutcome>;
  rollback(d: D, emit: TargetEmit): Promise<TargetOutcome>;
  remove(d: D, emit: TargetEmit): Promise<TargetOutcome>;
  status(d: D): Promise<TargetObjectStatus[]>;
  /** Releases connections (agents); the target is not used afterwards. */
  close(): void;
}

/** A target's problem with its settings (a missing secret, a kubeconfig it cannot read), with the setting's path. */
export class TargetSettingsError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}
