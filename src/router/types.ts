/**
 * The router's contract: a route names an environment and points at the backends (one per web
 * replica) of the deployment released there. The router knows nothing of the store or the API.
 */
export interface RouteKey {
  namespace: string;
  application: string;
  environment: string;
}

export interface RouteTarget {
  deploymentId: string;
  backends: { host: string; port: number }[];
}

/** One released route as `Router.routes()` lists it. */
export interface RouteInfo {
  key: RouteKey;
  target: RouteTarget;
  /** `<app>-<env>.localhost` (or `<app>-<env>.<namespace>.localhost`), without the port. */
  hostname: string;
  /** `/<app>-<env>/` (or `/<app>-<env>.<namespace>/`), the path-form prefix. */
  path: string;
}

/** Cheap counters for metrics. `failures` counts requests the router itself answered 5xx or cut off. */
export interface RouterStats {
  requests: number;
  failures: number;
  byStatus: Record<string, number>;
}

export interface DrainResult {
  drained: boolean;
  remaining: number;
}
