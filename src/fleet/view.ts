import { lt, satisfies, valid as validSemver, validRange } from 'semver';
import type { FleetApplication, FleetPattern, Pin, PatternKind } from '../contracts/fleet.ts';
import type { FleetApp } from './inventory.ts';
import type { PublishedSet } from './published.ts';
import { matchesSelector } from './selector.ts';

/**
 * The fleet view: per template and add-on, how many applications and environments run each
 * version, how many are behind the latest published version, and the pins. Pure: over the
 * inventory, the published versions and the pins, already read.
 */
/** Behind: older than the latest published version (a version that is not semver is behind unless it is the latest). */
export const olderThan = (v: string, latest: string | null) => latest !== null && v !== latest && (validSemver(v) && validSemver(latest) ? lt(v, latest) : true);

/** Uses of a pattern by one application: its template version, or each instance of an add-on. */
function uses(app: FleetApp, kind: PatternKind, name: string): { version: string; instance: string | null }[] {
  if (kind === 'template') return app.template === name ? [{ version: app.templateVersion, instance: null }] : [];
  return app.addons.filter((a) => a.addon === name).map((a) => ({ version: a.version, instance: a.name }));
}

export function fleetView(apps: readonly FleetApp[], pub: PublishedSet, pins: Map<string, Pin[]>, filter: { kind?: PatternKind | undefined; name?: string | undefined }): FleetPattern[] {
  const out: FleetPattern[] = [];
  for (const kind of ['template', 'addon'] as const) {
    if (filter.kind && filter.kind !== kind) continue;
    const storeKind = kind === 'template' ? 'Template' : 'AddOn';
    const names = new Set(pub.names(storeKind));
    for (const a of apps) {
      if (kind === 'template') names.add(a.template);
      else for (const x of a.addons) names.add(x.addon);
    }
    for (const name of [...names].sort()) {
      if (filter.name && filter.name !== name) continue;
      const latest = pub.latest(storeKind, name);
      const published = pub.versions(storeKind, name);
      const rows = new Map<string, { apps: Set<string>; envs: number; pinned: Set<string> }>();
      for (const v of published.filter((p) => p.current)) rows.set(v.version, { apps: new Set(), envs: 0, pinned: new Set() });
      const patternPins: Pin[] = [];
      let behind = 0;
      let behindEnvs = 0;
      let total = 0;
      let totalEnvs = 0;
      for (const a of apps) {
        const versions = [...new Set(uses(a, kind, name).map((u) => u.version))];
        if (!versions.length) continue;
        total++;
        totalEnvs += a.environments.length;
        const pin = pins.get(a.entityId)?.find((p) => p.kind === kind && p.name === name);
        if (pin) patternPins.push(pin);
        if (versions.some((v) => olderThan(v, latest))) {
          behind++;
          behindEnvs += a.environments.length;
        }
        for (const v of versions) {
          const r = rows.get(v) ?? { apps: new Set<string>(), envs: 0, pinned: new Set<string>() };
          r.apps.add(a.ref);
          r.envs += a.environments.length;
          if (pin) r.pinned.add(a.ref);
          rows.set(v, r);
        }
      }
      const current = new Set(published.filter((p) => p.current).map((p) => p.version));
      const order = published.map((p) => p.version);
      const versions = [...rows.entries()]
        .sort(([a], [b]) => {
          const ia = order.indexOf(a);
          const ib = order.indexOf(b);
          return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib) || b.localeCompare(a);
        })
        .map(([version, r]) => ({ version, published: current.has(version), latest: version === latest, applications: r.apps.size, environments: r.envs, pinned: r.pinned.size }));
      out.push({
        kind, name, title: published[0]?.title ?? null, latest, applications: total, environments: totalEnvs, behind, behindEnvironments: behindEnvs, versions,
        pins: patternPins.sort((x, y) => x.application.localeCompare(y.application)),
      });
    }
  }
  return out;
}

export interface ApplicationsFilter {
  kind: PatternKind;
  name?: string | undefined;
  version?: string | undefined;
  team?: string | undefined;
  environmentType?: string | undefined;
  labels?: Record<string, string> | undefined;
  behind?: boolean | undefined;
}

/** One row per application (template) or per add-on instance, with its version, the latest, and its pin. */
export function fleetApplications(apps: readonly FleetApp[], pub: PublishedSet, pins: Map<string, Pin[]>, busy: Map<string, string>, f: ApplicationsFilter): FleetApplication[] {
  const storeKind = f.kind === 'template' ? 'Template' : 'AddOn';
  const out: FleetApplication[] = [];
  for (const a of apps) {
    const list = f.kind === 'template' ? (f.name ? [f.name] : [a.template]) : f.name ? [f.name] : [...new Set(a.addons.map((x) => x.addon))];
    for (const name of list) {
      const selector = { ...(f.team ? { teams: [f.team] } : {}), ...(f.environmentType ? { environmentTypes: [f.environmentType as 'development'] } : {}), ...(f.labels ? { labels: f.labels } : {}) };
      if (!matchesSelector(a, selector, f.kind, name)) continue;
      const latest = pub.latest(storeKind, name);
      const pin = pins.get(a.entityId)?.find((p) => p.kind === f.kind && p.name === name) ?? null;
      for (const u of uses(a, f.kind, name)) {
        if (f.version && !(u.version === f.version || (validSemver(u.version) && validRange(f.version) && satisfies(u.version, f.version)))) continue;
        const behind = olderThan(u.version, latest);
        if (f.behind !== undefined && f.behind !== behind) continue;
        out.push({
          application: a.ref, name: a.name, namespace: a.namespace, team: a.team, kind: f.kind, pattern: name, instance: u.instance, version: u.version, latest, behind,
          environments: a.environments.map((e) => ({ name: e.name, type: e.type })), pin, upgrading: busy.get(a.entityId) ?? null,
        });
      }
    }
  }
  return out;
}
