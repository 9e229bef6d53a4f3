import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * RecordingApiServer: NOT a Kubernetes API server. A local HTTP server that records every request Pave's
 * Kubernetes client sends and answers the way the API server would for the few operations Pave uses:
 * server-side apply (PATCH application/apply-patch+yaml: the object is stored and echoed back with
 * uid, resourceVersion, generation, managedFields and, for a Deployment, a status that is not rolled
 * out yet), GET of an object (a Deployment becomes available after `readyAfterPolls` GETs, or never),
 * list by label selector, and DELETE. Nothing else of Kubernetes (controllers, pods, admission,
 * validation) exists here: the tests that use it check the sequence of requests, not a cluster.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  authorization: string | null;
  body: Record<string, unknown> | null;
}

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string; labels?: Record<string, string>; generation?: number }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

export class RecordingApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Objects by their API path. */
  readonly objects = new Map<string, Obj>();
  /** GETs of a Deployment before it reports every replica available; Infinity: never. */
  readyAfterPolls = 1;
  private readonly polls = new Map<string, number>();
  private server: Server | undefined;
  private version = 100;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** `PATCH /apis/apps/v1/namespaces/x/deployments/y` → readable lines for assertions. */
  sequence(from = 0): string[] {
    return this.requests.slice(from).map((r) => `${r.method} ${r.path}${r.query.labelSelector ? `?labelSelector=${r.query.labelSelector}` : ''}`);
  }

  /** Puts an object there as if someone (not Pave, unless `manager` says so) had created it. */
  seed(path: string, obj: Obj, manager = 'kubectl-client-side-apply'): void {
    this.objects.set(path, { ...obj, metadata: { ...obj.metadata, uid: `seed-${this.objects.size}`, resourceVersion: String(++this.version), managedFields: [{ manager, operation: 'Update' }] } });
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Obj) : null;
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method ?? '', path, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'] ?? null, authorization: req.headers.authorization ?? null, body });
    const notFound = { status: 404, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` } };
    if (req.method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/apply-patch+yaml') return { status: 415, body: { kind: 'Status', reason: 'UnsupportedMediaType', code: 415 } };
      if (!body || body.metadata.name !== path.split('/').pop()) return { status: 400, body: { kind: 'Status', reason: 'BadRequest', code: 400, message: 'the name of the object does not match the URL' } };
      const old = this.objects.get(path);
      const specChanged = !old || JSON.stringify(old.spec) !== JSON.stringify(body.spec);
      const generation = (old?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
      const stored: Obj = {
        ...body,
        metadata: { ...body.metadata, uid: old?.metadata.uid ?? `uid-${this.objects.size + 1}`, resourceVersion: String(++this.version), generation, managedFields: [{ manager: url.searchParams.get('fieldManager'), operation: 'Apply' }] },
      };
      if (body.kind === 'Deployment') {
        stored.status = { observedGeneration: generation, replicas: Number(body.spec?.replicas ?? 1), updatedReplicas: 0, availableReplicas: 0 };
        this.polls.set(path, 0);
      }
      this.objects.set(path, stored);
      return { status: old ? 200 : 201, body: stored };
    }
    if (req.method === 'GET') {
      const obj = this.objects.get(path);
      if (obj) {
        if (obj.kind === 'Deployment') {
          const n = (this.polls.get(path) ?? 0) + 1;
          this.polls.set(path, n);
          const want = Number(obj.spec?.replicas ?? 1);
          if (n >= this.readyAfterPolls) obj.status = { ...obj.status, replicas: want, updatedReplicas: want, readyReplicas: want, availableReplicas: want };
          else obj.status = { ...obj.status, replicas: want, updatedReplicas: Math.min(want, n), availableReplicas: 0 };
        }
        return { status: 200, body: obj };
      }
      // a collection: every stored object directly under this path, with the selector's labels
      const selector = Object.fromEntries((url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
      const items = [...this.objects].filter(([p, o]) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/') && Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v)).map(([, o]) => o);
      if (/\/(httproutes)$/.test(path) && !items.length && !this.gatewayApi) return notFound;
      return { status: 200, body: { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.version) }, items } };
    }
    if (req.method === 'DELETE') {
      if (!this.objects.delete(path)) return notFound;
      return { status: 200, body: { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 } };
    }
    return { status: 405, body: { kind: 'Status', reason: 'MethodNotAllowed', code: 405 } };
  }

  /** Whether the Gateway API's HTTPRoute is served (else its collection is a 404, as in a cluster without the CRDs). */
  gatewayApi = true;
}
