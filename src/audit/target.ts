/**
 * The target of an audited request, from its URL path and its `namespace` query parameter. The rule:
 *
 * - `/api/v1/applications/<name>[/<rest>]`, `/api/v1/teams/<name>[/<rest>]` and
 *   `/api/v1/users/<name>[/<rest>]` name a catalog entity by name and `?namespace=` (default
 *   `default`): the target is its ref, then the rest of the path as it is, e.g.
 *   `/api/v1/applications/shop/environments/production/deployments?namespace=default` →
 *   `application:default/shop/environments/production/deployments`.
 * - `/api/v1/entities/<kind>/<namespace>/<name>[/<rest>]` → `<kind>:<namespace>/<name>[/<rest>]`.
 * - Anything else is the path itself, without the query, e.g. `/api/v1/platform/secrets/db-url`,
 *   `/api/v1/tokens`.
 *
 * So `targetPrefix=application:default/shop/` finds everything done to one application (its action
 * runs too, whose targets are `application:default/shop/<environment>/<action>`). The HTTP layer
 * turns a creation (201 with a Location) into the target of what was created: `POST /api/v1/teams`
 * that made team `web` has the target `team:default/web`.
 */
const BY_NAME = new Map([
  ['applications', 'application'],
  ['teams', 'team'],
  ['users', 'user'],
]);
const MAX = 1000;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function auditTarget(path: string, namespace?: unknown): string {
  const ns = typeof namespace === 'string' && namespace ? namespace : 'default';
  const segs = path.split('?')[0]!.split('/').filter(Boolean).map(decode);
  let out: string;
  if (segs[0] === 'api' && segs[1] === 'v1' && BY_NAME.has(segs[2] ?? '') && segs[3]) {
    out = [`${BY_NAME.get(segs[2]!)}:${ns}/${segs[3]}`.toLowerCase(), ...segs.slice(4)].join('/');
  } else if (segs[0] === 'api' && segs[1] === 'v1' && segs[2] === 'entities' && segs.length >= 6) {
    out = [`${segs[3]}:${segs[4]}/${segs[5]}`.toLowerCase(), ...segs.slice(6)].join('/');
  } else {
    out = `/${segs.join('/')}`;
  }
  return out.length > MAX ? `${out.slice(0, MAX)}…` : out;
}

/** The target of a URL (path and query), e.g. a Location header. */
export function auditTargetOfUrl(url: string): string {
  const u = new URL(url, 'http://pave.invalid');
  return auditTarget(u.pathname, u.searchParams.get('namespace') ?? undefined);
}
