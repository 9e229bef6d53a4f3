import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { collectionPath, describeRef, FIELD_MANAGER, KINDS, LABELS, objectPath, refKey, refOf, type KubeObject, type ObjectRef, type RenderedObject } from './objects.ts';

/**
 * The Kubernetes target's client: server-side apply (PATCH `application/apply-patch+yaml`, field
 * manager `pave`, `force=true`, strict field validation) through the API server, with a bearer token or
 * a client certificate and the cluster's CA, from a kubeconfig or the in-cluster service account.
 *
 * `KubernetesTarget` runs a deployment on it: apply the namespace, then the workload's objects
 * (Secrets, ConfigMaps, claims, the Deployment), watch the rollout (GET the Deployment until every
 * replica is updated and available, or the deadline), and only then apply the release objects (the
 * Service's selector switch and the route); then prune what Pave applied earlier for the same
 * application and environment and is no longer wanted. It reports each object's outcome. Nothing that
 * Pave did not apply is ever deleted: pruning lists by Pave's labels, and skips any object whose
 * managed fields show no `pave` manager.
 */

export interface ClusterAccess {
  /** The API server, e.g. https://10.0.0.1:6443. */
  server: string;
  token?: string | undefined;
  /** PEM of the cluster's CA. */
  ca?: string | undefined;
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  /** The kubeconfig context's namespace, if any. */
  namespace?: string | undefined;
}

export class KubeConfigError extends Error {}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
}

/** The subset of a kubeconfig Pave reads: server, CA, token or client certificate (not exec or auth-provider plugins). */
export function fromKubeconfig(text: string, opts: { context?: string | undefined; dir?: string | undefined } = {}): ClusterAccess {
  const cfg = (parseYaml(text) ?? {}) as KubeconfigFile;
  const ctxName = opts.context ?? cfg['current-context'];
  const ctx = cfg.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new KubeConfigError(`the kubeconfig has no context ${ctxName ?? '(no current-context)'}`);
  const cluster = cfg.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new KubeConfigError(`the kubeconfig has no cluster ${ctx.cluster} with a server`);
  const file = (p: unknown) => (typeof p === 'string' ? readFileSync(path.resolve(opts.dir ?? '.', p), 'utf8') : undefined);
  const data = (d: unknown) => (typeof d === 'string' ? Buffer.from(d, 'base64').toString('utf8') : undefined);
  if (user.exec || user['auth-provider']) throw new KubeConfigError(`user ${ctx.user} authenticates with an exec or auth-provider plugin, which Pave does not run; give it a token or a client certificate`);
  const token = typeof user.token === 'string' ? user.token : user.tokenFile ? file(user.tokenFile)?.trim() : undefined;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    token,
    ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    clientCert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
    clientKey: data(user['client-key-data']) ?? file(user['client-key']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: ctx.namespace,
  };
}

/** The pod's own service account, when Pave runs in the cluster it deploys to. */
export function inCluster(env: NodeJS.ProcessEnv = process.env, dir = '/var/run/secrets/kubernetes.io/serviceaccount'): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new KubeConfigError('not in a cluster: KUBERNETES_SERVICE_HOST is not set');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: readFileSync(path.join(dir, 'token'), 'utf8').trim(),
    ca: readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    namespace: readFileSync(path.join(dir, 'namespace'), 'utf8').trim(),
  };
}

/** An error answer of the API server (its Status object's message and reason). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, method: string, p: string, body: unknown) {
    const s = (body ?? {}) as { message?: string; reason?: string };
    super(`${method} ${p}: ${status} ${s.reason ?? ''}${s.message ? `: ${s.message}` : ''}`.replace(/\s+:/, ':'));
    this.status = status;
    this.reason = s.reason ?? '';
  }
}

export class KubeClient {
  private readonly access: ClusterAccess;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  constructor(access: ClusterAccess, opts: { timeoutMs?: number } = {}) {
    this.access = access;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.agent = access.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ca: access.ca, cert: access.clientCert, key: access.clientKey, rejectUnauthorized: !access.insecureSkipTlsVerify })
      : new http.Agent({ keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  async request<T = unknown>(method: string, p: string, opts: { query?: Record<string, string>; body?: unknown; contentType?: string } = {}): Promise<{ status: number; body: T }> {
    const url = new URL(this.access.server + p);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'pave' };
    if (this.access.token) headers.authorization = `Bearer ${this.access.token}`;
    if (payload !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON: keep the text */
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ status, body: body as T });
          else reject(new KubeApiError(status, method, url.pathname, typeof body === 'object' ? body : { message: text.slice(0, 500) }));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Server-side apply: Pave owns the fields it sets; a conflicting manager's fields are taken over (force). */
  async apply(o: KubeObject): Promise<KubeObject> {
    const res = await this.request<KubeObject>('PATCH', objectPath(refOf(o)), {
      query: { fieldManager: FIELD_MANAGER, force: 'true', fieldValidation: 'Strict' },
      body: o, contentType: 'application/apply-patch+yaml',
    });
    return res.body;
  }

  async get(r: ObjectRef): Promise<KubeObject | null> {
    try {
      return (await this.request<KubeObject>('GET', objectPath(r))).body;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** Objects of a kind with the given labels; [] when the kind is not served (e.g. no Gateway API in the cluster). */
  async list(apiVersion: string, kind: string, namespace: string | null, labels: Record<string, string>): Promise<KubeObject[]> {
    const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    try {
      const res = await this.request<{ items?: KubeObject[] }>('GET', collectionPath(apiVersion, kind, namespace), { query: { labelSelector } });
      return (res.body.items ?? []).map((o) => ({ ...o, apiVersion, kind }));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return [];
      throw err;
    }
  }

  /** Deletes an object (its dependents in the background); false when it was already gone. */
  async delete(r: ObjectRef): Promise<boolean> {
    try {
      await this.request('DELETE', objectPath(r), { query: { propagationPolicy: 'Background' } });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }
}

// ---- the target ----------------------------------------------------------------------------------

export interface ObjectStatus {
  object: string;
  ref: ObjectRef;
  action: 'applied' | 'pruned' | 'failed' | 'skipped';
  detail?: string | undefined;
}

export interface TargetResult {
  ok: boolean;
  /** Whether the release objects were applied (traffic switched). */
  released: boolean;
  objects: ObjectStatus[];
  error?: string | undefined;
}

/** Which application and environment objects belong to (the labels pruning selects on). */
export interface Owner {
  application: string;
  catalogNamespace: string;
  environment: string;
  namespace: string;
}

export class RenderNotReady extends Error {}

export interface TargetOptions {
  /** How long a rollout may take before the deployment fails (default 5 min). */
  rolloutTimeoutMs?: number | undefined;
  /** Between two GETs of a rolling Deployment (default 2 s). */
  pollMs?: number | undefined;
  /** Progress lines (`applied Deployment ns/shop-4`). */
  onEvent?: ((message: string) => void) | undefined;
}

const ownerLabels = (o: Owner) => ({ [LABELS.managedBy]: FIELD_MANAGER, [LABELS.application]: o.application, [LABELS.catalogNamespace]: o.catalogNamespace, [LABELS.environment]: o.environment });

/** Namespaced kinds, in the order they are pruned: traffic first, then what runs, then its config and data. */
const PRUNE_ORDER = ['HTTPRoute', 'Ingress', 'Service', 'Deployment', 'StatefulSet', 'ConfigMap', 'Secret', 'PersistentVolumeClaim'];

export class KubernetesTarget {
  private readonly client: KubeClient;
  private readonly o: Required<Omit<TargetOptions, 'onEvent'>> & Pick<TargetOptions, 'onEvent'>;
  constructor(client: KubeClient, opts: TargetOptions = {}) {
    this.client = client;
    this.o = { rolloutTimeoutMs: opts.rolloutTimeoutMs ?? 5 * 60_000, pollMs: opts.pollMs ?? 2000, onEvent: opts.onEvent };
  }

  private emit(m: string): void {
    this.o.onEvent?.(m);
  }

  private async applyAll(objects: KubeObject[], out: ObjectStatus[]): Promise<boolean> {
    for (const o of objects) {
      const ref = refOf(o);
      try {
        const live = await this.client.apply(o);
        out.push({ object: describeRef(ref), ref, action: 'applied', detail: `resourceVersion ${String(live.metadata?.resourceVersion ?? '?')}` });
        this.emit(`applied ${describeRef(ref)}`);
      } catch (err) {
        out.push({ object: describeRef(ref), ref, action: 'failed', detail: (err as Error).message });
        return false;
      }
    }
    return true;
  }

  /** Server-side applies the objects in order; stops at the first refusal (its status says why). */
  async applyObjects(objects: KubeObject[], out: ObjectStatus[] = []): Promise<{ ok: boolean; objects: ObjectStatus[] }> {
    const ok = await this.applyAll(objects, out);
    return { ok, objects: out };
  }

  /** Polls a Deployment or StatefulSet until every replica is updated and available, or the deadline. */
  async waitRollout(r: ObjectRef, deadline: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    for (;;) {
      const live = await this.client.get(r);
      if (!live) return { ok: false, reason: `${describeRef(r)} is gone` };
      const verdict = rolloutState(live);
      if (verdict.done) return { ok: true };
      if (verdict.failed) return { ok: false, reason: verdict.failed };
      if (Date.now() + this.o.pollMs > deadline) return { ok: false, reason: `${describeRef(r)} was not ready within ${Math.round(this.o.rolloutTimeoutMs / 1000)} s: ${verdict.progress}` };
      this.emit(`waiting for ${describeRef(r)}: ${verdict.progress}`);
      await new Promise((res) => setTimeout(res, this.o.pollMs));
    }
  }

  /**
   * Runs a rendered deployment: namespace and workload objects, the rollout, then (with `release`) the
   * Service switch and route, then pruning of everything else Pave applied for the application and
   * environment, except the objects of the deployments in `keep` (e.g. the one still serving, when
   * not releasing; warm ones). A rendering with errors or placeholders is refused before any request.
   */
  async deploy(rendered: { namespace: string; objects: RenderedObject[]; errors?: string[]; placeholders?: string[] }, opts: { release: boolean; keep?: string[] | undefined }): Promise<TargetResult> {
    const problems = [...(rendered.errors ?? []), ...(rendered.placeholders ?? [])];
    if (problems.length) throw new RenderNotReady(`the rendering cannot be applied: ${problems.join('; ')}`);
    const out: ObjectStatus[] = [];
    const deadline = Date.now() + this.o.rolloutTimeoutMs;
    const phase = (p: string) => rendered.objects.filter((o) => o.phase === p).map((o) => o.object);
    const fail = (error: string): TargetResult => ({ ok: false, released: false, objects: out, error });
    if (!(await this.applyAll([...phase('namespace'), ...phase('workload')], out))) return fail(out.at(-1)!.detail!);
    for (const w of phase('workload').filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const res = await this.waitRollout(refOf(w), deadline);
      if (!res.ok) return fail(res.reason);
      this.emit(`${describeRef(refOf(w))} is ready`);
    }
    if (!opts.release) return { ok: true, released: false, objects: out };
    if (!(await this.applyAll(phase('release'), out))) return fail(out.at(-1)!.detail!);
    const owner = ownerOf(rendered.objects, rendered.namespace);
    await this.prune(owner, rendered.objects.map((o) => o.object), opts.keep ?? [], out);
    return { ok: !out.some((s) => s.action === 'failed'), released: true, objects: out, error: out.find((s) => s.action === 'failed')?.detail };
  }

  /**
   * Deletes what Pave applied for the owner that is not in `wanted` and not labelled with a deployment
   * in `keep`: listed by Pave's labels, namespaced kinds in the owner's namespace, and its Namespace
   * last (only when Pave created it and it is not wanted).
   */
  async prune(owner: Owner, wanted: KubeObject[], keep: string[], out: ObjectStatus[] = []): Promise<ObjectStatus[]> {
    const want = new Set(wanted.map((o) => refKey(refOf(o))));
    const kept = new Set(keep);
    const labels = ownerLabels(owner);
    const candidates: KubeObject[] = [];
    for (const kind of PRUNE_ORDER) candidates.push(...(await this.client.list(KINDS[kind]!.apiVersion, kind, owner.namespace, labels)));
    candidates.push(...(await this.client.list('v1', 'Namespace', null, labels)).filter((n) => n.metadata.name === owner.namespace));
    for (const o of candidates) {
      const ref = refOf(o);
      if (want.has(refKey(ref))) continue;
      const dep = o.metadata.labels?.[LABELS.deployment];
      if (dep && kept.has(dep)) continue;
      if (!Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v)) continue;
      const managers = o.metadata.managedFields as { manager?: string }[] | undefined;
      if (Array.isArray(managers) && managers.length && !managers.some((m) => m.manager === FIELD_MANAGER)) {
        out.push({ object: describeRef(ref), ref, action: 'skipped', detail: 'carries Pave\'s labels but was not applied by Pave' });
        continue;
      }
      try {
        await this.client.delete(ref);
        out.push({ object: describeRef(ref), ref, action: 'pruned' });
        this.emit(`pruned ${describeRef(ref)}`);
      } catch (err) {
        out.push({ object: describeRef(ref), ref, action: 'failed', detail: (err as Error).message });
      }
    }
    return out;
  }

  /** Deletes the workload objects of a rendering that failed its rollout (the Deployment, its Secret and ConfigMap; not claims, which hold data). */
  async discard(rendered: { objects: RenderedObject[] }): Promise<ObjectStatus[]> {
    const out: ObjectStatus[] = [];
    for (const { phase, object } of [...rendered.objects].reverse()) {
      if (phase !== 'workload' || object.kind === 'PersistentVolumeClaim') continue;
      const ref = refOf(object);
      try {
        if (await this.client.delete(ref)) out.push({ object: describeRef(ref), ref, action: 'pruned' });
      } catch (err) {
        out.push({ object: describeRef(ref), ref, action: 'failed', detail: (err as Error).message });
      }
    }
    return out;
  }

  /** Deletes everything Pave applied for an application's environment, and nothing else. */
  async delete(owner: Owner): Promise<TargetResult> {
    const out = await this.prune(owner, [], []);
    const failed = out.find((s) => s.action === 'failed');
    return { ok: !failed, released: false, objects: out, error: failed?.detail };
  }
}

function ownerOf(objects: RenderedObject[], namespace: string): Owner {
  const l = objects[0]?.object.metadata.labels ?? {};
  return { application: l[LABELS.application] ?? '', catalogNamespace: l[LABELS.catalogNamespace] ?? '', environment: l[LABELS.environment] ?? '', namespace };
}

interface RolloutVerdict {
  done: boolean;
  failed?: string | undefined;
  progress: string;
}

/** Whether a Deployment's or StatefulSet's rollout finished, as `kubectl rollout status` judges it. */
export function rolloutState(o: KubeObject): RolloutVerdict {
  const spec = (o.spec ?? {}) as { replicas?: number };
  const status = (o.status ?? {}) as {
    observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number; readyReplicas?: number;
    currentRevision?: string; updateRevision?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
  const want = spec.replicas ?? 1;
  const generation = Number(o.metadata.generation ?? 0);
  const progress = `${status.updatedReplicas ?? 0}/${want} updated, ${status.availableReplicas ?? status.readyReplicas ?? 0}/${want} available`;
  if ((status.observedGeneration ?? 0) < generation) return { done: false, progress: 'waiting for the controller to observe the new spec' };
  const stuck = status.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  if (stuck) return { done: false, failed: `${describeRef(refOf(o))}: ${stuck.message ?? 'progress deadline exceeded'}`, progress };
  if (o.kind === 'StatefulSet') {
    const done = (status.readyReplicas ?? 0) >= want && (status.updatedReplicas ?? 0) >= want && (!status.updateRevision || status.currentRevision === status.updateRevision);
    return { done, progress };
  }
  const done = (status.updatedReplicas ?? 0) === want && (status.replicas ?? 0) === want && (status.availableReplicas ?? 0) === want;
  return { done, progress };
}
