/**
 * The built-in HTTP router of the local runtime: serves each released environment at
 * `http://<app>-<env>[.<namespace>].localhost:<port>` (host form) and at
 * `http://localhost:<port>/<app>-<env>[.<namespace>]/…` (path form, prefix stripped and sent as
 * `X-Forwarded-Prefix`), and proxies to the backends of the deployment released there.
 *
 * Plain `node:http`, one keep-alive `http.Agent` per deployment. `set` switches a route atomically:
 * the target is read once when a request arrives, and the request is counted in flight against that
 * deployment until its response is done, so `drain` can tell when an old deployment is idle and then
 * close its idle sockets before its processes stop.
 */
import http from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { DrainResult, RouteInfo, RouteKey, RouteTarget, RouterStats } from './types.ts';

export type { DrainResult, RouteInfo, RouteKey, RouteTarget, RouterStats } from './types.ts';

export interface RouterOptions {
  log?: Logger | undefined;
  /** Default timeout of `drain` (30 s). */
  drainTimeoutMs?: number | undefined;
  /** How long a backend may take to send its response headers before the router answers 504 (60 s). */
  backendTimeoutMs?: number | undefined;
}

/** Same base as the API's problems (src/contracts/common.ts), kept here so the router imports nothing of Pave. */
const PROBLEM_BASE = 'https://pave.dev/problems/';
const PROBLEM_TYPE = 'application/problem+json';
const DEFAULT_NAMESPACE = 'default';
const LOCALHOST_SUFFIX = '.localhost';

/** How long an upgraded tunnel may stay half-closed before both sides are closed. */
const TUNNEL_HALF_OPEN_MS = 5_000;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Connection-level errors that mean the request never reached the application. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

interface Route {
  key: RouteKey;
  target: RouteTarget;
  label: string;
  /** Round-robin cursor into target.backends. */
  next: number;
}

interface Deployment {
  id: string;
  agent: http.Agent;
  inFlight: number;
  /** Called (deferred) each time inFlight drops to 0. */
  waiters: Set<() => void>;
}

interface Resolved {
  route: Route;
  /** Path and query to send upstream. */
  path: string;
  /** The stripped prefix, path form only. */
  prefix: string | undefined;
}

/** `<app>-<env>` for the default namespace, `<app>-<env>.<namespace>` otherwise; lowercase. */
export function routeLabel(key: RouteKey): string {
  const base = `${key.application}-${key.environment}`;
  return (key.namespace && key.namespace !== DEFAULT_NAMESPACE ? `${base}.${key.namespace}` : base).toLowerCase();
}

function keyId(key: RouteKey): string {
  return `${key.namespace || DEFAULT_NAMESPACE}\u0000${key.application}\u0000${key.environment}`;
}

/** The Host header's name: port stripped, lowercase, no trailing dot; IPv6 literals keep their brackets. */
export function parseHostname(host: string | undefined): string {
  if (!host) return '';
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    return (end < 0 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

function isHopByHop(name: string, extra: Set<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || (extra !== undefined && extra.has(name));
}

/** Headers named in `Connection` are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const v = Array.isArray(value) ? value.join(',') : value;
  let out: Set<string> | undefined;
  for (const part of v.split(',')) {
    const t = part.trim().toLowerCase();
    if (!t || t === 'close' || t === 'keep-alive' || t === 'upgrade') continue;
    (out ??= new Set()).add(t);
  }
  return out;
}

function filterHeaders(src: IncomingHttpHeaders): OutgoingHttpHeaders {
  const extra = connectionTokens(src.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in src) {
    if (isHopByHop(name, extra)) continue;
    out[name] = src[name];
  }
  return out;
}

function describe(key: RouteKey): string {
  const ns = key.namespace && key.namespace !== DEFAULT_NAMESPACE ? ` (namespace ${key.namespace})` : '';
  return `environment ${key.environment} of application ${key.application}${ns}`;
}

function problemBody(status: number, type: string, title: string, detail: string): string {
  return JSON.stringify({ type: PROBLEM_BASE + type, title, status, detail });
}

function clip(s: string, n = 200): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export class Router {
  private readonly log: Logger | undefined;
  private readonly drainTimeoutMs: number;
  private readonly backendTimeoutMs: number;
  private readonly server: http.Server;
  /** Route label → route: the lookup of every request. */
  private readonly byLabel = new Map<string, Route>();
  private readonly byKey = new Map<string, Route>();
  /** How many routes point at each deployment. */
  private readonly routed = new Map<string, number>();
  private readonly deployments = new Map<string, Deployment>();
  private readonly tunnels = new Set<Duplex>();
  private readonly counters: RouterStats = { requests: 0, failures: 0, byStatus: {} };
  private port: number | undefined;

  constructor(options: RouterOptions = {}) {
    this.log = options.log;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.backendTimeoutMs = options.backendTimeoutMs ?? 60_000;
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  // ---------------------------------------------------------------- lifecycle

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** Closes the server and every connection, client and backend side (keep-alive sockets included). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        this.destroyAll();
        resolve();
        return;
      }
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      this.destroyAll();
    });
  }

  private destroyAll(): void {
    for (const t of this.tunnels) t.destroy();
    this.tunnels.clear();
    for (const d of this.deployments.values()) d.agent.destroy();
  }

  // ---------------------------------------------------------------- routes

  /** Atomically points `key` at `target` (null removes the route). Requests already forwarded finish where they are. */
  set(key: RouteKey, target: RouteTarget | null): void {
    const id = keyId(key);
    const label = routeLabel(key);
    const old = this.byKey.get(id);
    if (target) {
      const clash = this.byLabel.get(label);
      if (clash && clash !== old) {
        throw new Error(`route ${label} is already taken by ${describe(clash.key)}`);
      }
    }
    if (old) {
      this.byKey.delete(id);
      this.byLabel.delete(old.label);
      this.unref(old.target.deploymentId);
    }
    if (!target) return;
    const route: Route = {
      key: { namespace: key.namespace || DEFAULT_NAMESPACE, application: key.application, environment: key.environment },
      target: { deploymentId: target.deploymentId, backends: target.backends.map((b) => ({ host: b.host, port: b.port })) },
      label,
      next: 0,
    };
    this.byKey.set(id, route);
    this.byLabel.set(label, route);
    this.routed.set(target.deploymentId, (this.routed.get(target.deploymentId) ?? 0) + 1);
  }

  private unref(deploymentId: string): void {
    const n = (this.routed.get(deploymentId) ?? 1) - 1;
    if (n <= 0) this.routed.delete(deploymentId);
    else this.routed.set(deploymentId, n);
  }

  get(key: RouteKey): RouteTarget | null {
    const r = this.byKey.get(keyId(key));
    return r ? { deploymentId: r.target.deploymentId, backends: r.target.backends.map((b) => ({ ...b })) } : null;
  }

  routes(): RouteInfo[] {
    return [...this.byKey.values()].map((r) => ({
      key: { ...r.key },
      target: { deploymentId: r.target.deploymentId, backends: r.target.backends.map((b) => ({ ...b })) },
      hostname: r.label + LOCALHOST_SUFFIX,
      path: `/${r.label}/`,
    }));
  }

  /** The two URLs of an environment, with the bound port. */
  urlFor(key: RouteKey): { host: string; path: string } {
    if (this.port === undefined) throw new Error('the router is not listening');
    const label = routeLabel(key);
    return { host: `http://${label}${LOCALHOST_SUFFIX}:${this.port}`, path: `http://localhost:${this.port}/${label}/` };
  }

  // ---------------------------------------------------------------- deployments and draining

  inFlight(deploymentId: string): number {
    return this.deployments.get(deploymentId)?.inFlight ?? 0;
  }

  /**
   * Resolves once no request is in flight to the deployment (at once if none), or at the timeout;
   * then closes the deployment's idle keep-alive sockets (and forgets its agent when no route uses it).
   */
  drain(deploymentId: string, timeoutMs: number = this.drainTimeoutMs): Promise<DrainResult> {
    const dep = this.deployments.get(deploymentId);
    if (!dep) return Promise.resolve({ drained: true, remaining: 0 });
    if (dep.inFlight === 0) {
      this.sweep(dep);
      return Promise.resolve({ drained: true, remaining: 0 });
    }
    return new Promise((resolve) => {
      const finish = (drained: boolean) => {
        clearTimeout(timer);
        dep.waiters.delete(onIdle);
        const remaining = dep.inFlight;
        this.sweep(dep);
        resolve({ drained, remaining });
      };
      const onIdle = () => {
        if (dep.inFlight === 0) finish(true);
      };
      const timer = setTimeout(() => finish(dep.inFlight === 0), timeoutMs);
      dep.waiters.add(onIdle);
    });
  }

  private deployment(id: string): Deployment {
    let d = this.deployments.get(id);
    if (!d) {
      // `timeout` lets the agent honour the backend's `Keep-Alive: timeout=N` hint for idle sockets
      // (closing them a second early), so a reused socket is rarely one the backend is closing.
      d = { id, agent: new http.Agent({ keepAlive: true, maxSockets: 4096, maxFreeSockets: 256, timeout: 30_000 }), inFlight: 0, waiters: new Set() };
      this.deployments.set(id, d);
    }
    return d;
  }

  private release(dep: Deployment): void {
    dep.inFlight--;
    if (dep.inFlight === 0 && dep.waiters.size > 0) {
      // Deferred: the upstream socket goes back to the agent's free list on a later tick.
      setImmediate(() => {
        for (const w of [...dep.waiters]) w();
      });
    }
  }

  /** Destroys idle sockets; a deployment no route points at and with nothing in flight is forgotten. */
  private sweep(dep: Deployment): void {
    if (dep.inFlight === 0 && !this.routed.has(dep.id) && dep.waiters.size === 0) {
      dep.agent.destroy();
      if (this.deployments.get(dep.id) === dep) this.deployments.delete(dep.id);
      return;
    }
    for (const list of Object.values(dep.agent.freeSockets)) {
      for (const s of list ?? []) s.destroy();
    }
  }

  // ---------------------------------------------------------------- metrics

  stats(): RouterStats {
    return { requests: this.counters.requests, failures: this.counters.failures, byStatus: { ...this.counters.byStatus } };
  }

  private count(status: number): void {
    const k = String(status);
    this.counters.byStatus[k] = (this.counters.byStatus[k] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- request path

  /**
   * The common head of a request and an upgrade: counted, routed (404 without a route, 503 without a
   * web process, answered through `fail`), the next backend of the round-robin chosen, and the
   * request counted in flight for its deployment (for draining).
   */
  private pick(req: IncomingMessage, fail: (status: number, type: string, title: string, detail: string) => void) {
    this.counters.requests++;
    const found = this.resolve(req);
    if ('notFound' in found) {
      fail(404, 'not-found', 'Not found', `no application is released at ${clip(found.notFound)}`);
      return null;
    }
    const { route, path, prefix } = found;
    const target = route.target;
    const backends = target.backends;
    const n = backends.length;
    if (n === 0) {
      fail(503, 'no-backends', 'Service unavailable', `the ${describe(route.key)} has no running web process`);
      return null;
    }
    const start = route.next;
    route.next = (start + 1) % n;
    const dep = this.deployment(target.deploymentId);
    dep.inFlight++;
    return { route, path, prefix, target, backends, n, start, dep };
  }

  /** Finds the route of a request: host form first, then path form. */
  private resolve(req: IncomingMessage): Resolved | { notFound: string } {
    const hostHeader = req.headers.host;
    const hostname = parseHostname(hostHeader);
    const url = req.url ?? '/';
    if (hostname.endsWith(LOCALHOST_SUFFIX)) {
      const route = this.byLabel.get(hostname.slice(0, -LOCALHOST_SUFFIX.length));
      return route ? { route, path: url, prefix: undefined } : { notFound: hostname };
    }
    if (url.charCodeAt(0) !== 47 /* / */) return { notFound: `${hostname}${url}` };
    let end = 1;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 47 /* / */ || c === 63 /* ? */) break;
      end++;
    }
    const segment = url.slice(1, end);
    const route = segment ? this.byLabel.get(segment.toLowerCase()) : undefined;
    if (!route) return { notFound: `${hostHeader ?? hostname}/${segment}` };
    const rest = url.slice(end);
    const path = rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest;
    return { route, path, prefix: `/${segment}` };
  }

  private upstreamHeaders(req: IncomingMessage, prefix: string | undefined, upgrade: boolean): OutgoingHttpHeaders {
    const src = req.headers;
    const out = filterHeaders(src);
    if (upgrade) {
      out.connection = 'Upgrade';
      if (src.upgrade) out.upgrade = src.upgrade;
    }
    const remote = req.socket.remoteAddress ?? '';
    const xff = src['x-forwarded-for'];
    out['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${remote}` : remote;
    out['x-forwarded-host'] = src.host ?? '';
    out['x-forwarded-proto'] = (req.socket as Socket & { encrypted?: boolean }).encrypted ? 'https' : 'http';
    if (prefix !== undefined) out['x-forwarded-prefix'] = prefix;
    else delete out['x-forwarded-prefix'];
    return out;
  }

  private problem(res: ServerResponse, status: number, type: string, title: string, detail: string): void {
    if (status >= 500) this.counters.failures++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    this.count(status);
    const body = problemBody(status, type, title, detail);
    res.writeHead(status, { 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const picked = this.pick(req, (status, type, title, detail) => this.problem(res, status, type, title, detail));
    if (!picked) return;
    const { route, path, prefix, target, backends, n, start, dep } = picked;
    const headers = this.upstreamHeaders(req, prefix, false);
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    const bodyless = te === undefined && (cl === undefined || cl === '0');

    let current: ClientRequest | undefined;
    let clientGone = false;
    res.once('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        current?.destroy();
      }
      this.release(dep);
    });
    req.once('error', () => {
      clientGone = true;
      current?.destroy();
    });

    const attempt = (index: number, mayRetry: boolean): void => {
      const backend = backends[index]!;
      let responded = false;
      let bodyStarted = false;
      let timedOut = false;
      const up = http.request({ host: backend.host, port: backend.port, method: req.method, path, headers, agent: dep.agent });
      current = up;
      const timer = setTimeout(() => {
        timedOut = true;
        up.destroy();
      }, this.backendTimeoutMs);

      up.on('response', (ur: IncomingMessage) => {
        responded = true;
        clearTimeout(timer);
        if (clientGone || res.destroyed) {
          up.destroy();
          return;
        }
        const status = ur.statusCode ?? 502;
        const out = filterHeaders(ur.headers);
        out['x-pave-deployment'] = target.deploymentId;
        this.count(status);
        res.writeHead(status, ur.statusMessage, out);
        ur.on('error', () => {});
        ur.on('close', () => {
          if (!ur.complete && !res.writableFinished && !clientGone) {
            this.counters.failures++;
            res.destroy();
          }
        });
        ur.pipe(res);
      });

      up.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (clientGone) return;
        if (responded) {
          if (!res.writableFinished) {
            this.counters.failures++;
            res.destroy();
          }
          return;
        }
        const code = err.code ?? '';
        if (!timedOut && mayRetry && (bodyless || !bodyStarted) && RETRYABLE.has(code)) {
          this.log?.debug({ deployment: target.deploymentId, backend: `${backend.host}:${backend.port}`, code }, 'router: backend failed, retrying on the next one');
          attempt((index + 1) % n, false);
          return;
        }
        if (timedOut) {
          this.log?.warn({ deployment: target.deploymentId, backend: `${backend.host}:${backend.port}` }, 'router: backend timed out');
          this.problem(res, 504, 'gateway-timeout', 'Gateway timeout', `the ${describe(route.key)} did not answer within ${this.backendTimeoutMs} ms`);
          return;
        }
        this.log?.warn({ deployment: target.deploymentId, backend: `${backend.host}:${backend.port}`, code, err: err.message }, 'router: backend request failed');
        this.problem(res, 502, 'bad-gateway', 'Bad gateway', `the ${describe(route.key)} could not be reached (deployment ${target.deploymentId}: ${code || err.message})`);
      });

      if (bodyless) {
        up.end();
        return;
      }
      // The body is piped only once the connection is up, so a refused connection can still be retried.
      const pipeBody = () => {
        if (bodyStarted || up.destroyed || clientGone) return;
        bodyStarted = true;
        req.pipe(up);
      };
      up.once('socket', (s: Socket) => {
        if (s.connecting) s.once('connect', pipeBody);
        else pipeBody();
      });
    };
    attempt(start, true);
  }

  // ---------------------------------------------------------------- WebSocket and other upgrades

  private onUpgrade(req: IncomingMessage, socket: Duplex, clientHead: Buffer): void {
    socket.on('error', () => socket.destroy());
    const picked = this.pick(req, (status, type, title, detail) => this.rawProblem(socket, status, type, title, detail));
    if (!picked) return;
    const { route, path, prefix, target, backends, n, start, dep } = picked;
    this.tunnels.add(socket);
    let released = false;
    let current: ClientRequest | undefined;
    socket.once('close', () => {
      this.tunnels.delete(socket);
      current?.destroy();
      if (!released) {
        released = true;
        this.release(dep);
      }
    });
    const headers = this.upstreamHeaders(req, prefix, true);

    const attempt = (index: number, mayRetry: boolean): void => {
      const backend = backends[index]!;
      let settled = false;
      // A dedicated connection: an upgraded socket leaves HTTP and never goes back to a pool.
      const up = http.request({ host: backend.host, port: backend.port, method: req.method, path, headers, agent: false });
      current = up;
      const timer = setTimeout(() => {
        if (!settled) up.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
      }, this.backendTimeoutMs);

      up.on('upgrade', (ur: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
        settled = true;
        clearTimeout(timer);
        current = undefined;
        if (socket.destroyed) {
          upSocket.destroy();
          return;
        }
        this.count(ur.statusCode ?? 101);
        let head = `HTTP/1.1 ${ur.statusCode ?? 101} ${ur.statusMessage ?? 'Switching Protocols'}\r\n`;
        const raw = ur.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
        head += `x-pave-deployment: ${target.deploymentId}\r\n\r\n`;
        socket.write(head);
        if (upHead.length > 0) socket.write(upHead);
        if (clientHead.length > 0) upSocket.write(clientHead);
        this.tunnels.add(upSocket);
        upSocket.on('error', () => upSocket.destroy());
        upSocket.once('close', () => {
          this.tunnels.delete(upSocket);
          socket.destroy();
        });
        socket.once('close', () => upSocket.destroy());
        // Ends propagate through the pipes; a side that never ends after the other did would hold the
        // tunnel (and the deployment's in-flight count) half-open forever, so it gets a grace period.
        const grace = () => setTimeout(() => {
          socket.destroy();
          upSocket.destroy();
        }, TUNNEL_HALF_OPEN_MS).unref();
        socket.once('end', grace);
        upSocket.once('end', grace);
        upSocket.pipe(socket);
        socket.pipe(upSocket);
      });

      up.on('response', (ur: IncomingMessage) => {
        // The backend declined the upgrade: pass its answer on and close.
        settled = true;
        clearTimeout(timer);
        const status = ur.statusCode ?? 502;
        this.count(status);
        let text = `HTTP/1.1 ${status} ${ur.statusMessage ?? ''}\r\n`;
        const out = filterHeaders(ur.headers);
        delete out['content-length'];
        for (const [name, value] of Object.entries(out)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
        }
        text += `x-pave-deployment: ${target.deploymentId}\r\nconnection: close\r\n\r\n`;
        socket.write(text);
        ur.on('error', () => socket.destroy());
        ur.pipe(socket);
      });

      up.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (settled || socket.destroyed) return;
        settled = true;
        const code = err.code ?? '';
        if (mayRetry && code !== 'ETIMEDOUT' && RETRYABLE.has(code)) {
          attempt((index + 1) % n, false);
          return;
        }
        this.counters.failures++;
        if (code === 'ETIMEDOUT') {
          this.rawProblem(socket, 504, 'gateway-timeout', 'Gateway timeout', `the ${describe(route.key)} did not answer within ${this.backendTimeoutMs} ms`);
        } else {
          this.rawProblem(socket, 502, 'bad-gateway', 'Bad gateway', `the ${describe(route.key)} could not be reached (deployment ${target.deploymentId}: ${code || err.message})`);
        }
      });
      up.end();
    };
    attempt(start, true);
  }

  private rawProblem(socket: Duplex, status: number, type: string, title: string, detail: string): void {
    this.count(status);
    if (socket.destroyed) return;
    const body = problemBody(status, type, title, detail);
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-type: ${PROBLEM_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `cache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
  }
}
