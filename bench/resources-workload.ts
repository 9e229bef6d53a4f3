/**
 * The Score workload of the plan benchmark: 20 resources of cheap types (echo and volume drivers, no
 * external system); 8 of them have params that reference other resources' outputs (16 edges, three
 * levels deep: dns-i → route-i → env-i, and port-i → route-i, env-i).
 */
export const PLAN_GROUPS = 4;

export function planWorkload(): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (let i = 0; i < PLAN_GROUPS; i++) {
    resources[`dns-${i}`] = { type: 'dns' };
    resources[`port-${i}`] = { type: 'service-port', params: { workload: `backend-${i}`, port: 8080 + i } };
    resources[`route-${i}`] = { type: 'route', params: { host: `\${resources.dns-${i}.host}`, port: `\${resources.port-${i}.port}`, path: `/api-${i}` } };
    resources[`vol-${i}`] = { type: 'volume' };
    resources[`env-${i}`] = {
      type: 'environment',
      params: { UPSTREAM: `\${resources.port-${i}.hostname}:\${resources.port-${i}.port}`, PUBLIC_URL: `http://\${resources.route-${i}.host}\${resources.route-${i}.path}` },
    };
  }
  const variables: Record<string, string> = {};
  for (let i = 0; i < PLAN_GROUPS; i++) {
    variables[`UPSTREAM_${i}`] = `\${resources.env-${i}.UPSTREAM}`;
    variables[`PUBLIC_URL_${i}`] = `\${resources.env-${i}.PUBLIC_URL}`;
  }
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'plan-bench' },
    containers: {
      web: {
        image: '.',
        variables,
        volumes: Object.fromEntries(Array.from({ length: PLAN_GROUPS }, (_, i) => [`/data/${i}`, { source: `\${resources.vol-${i}}` }])),
      },
    },
    service: { ports: { web: { port: 8080 } } },
    resources,
  };
}

/** Resources whose params reference others (edges of the graph). */
export const PLAN_RESOURCES = PLAN_GROUPS * 5;
export const PLAN_DEPENDENT = PLAN_GROUPS * 2;
export const PLAN_EDGES = PLAN_GROUPS * 4;
