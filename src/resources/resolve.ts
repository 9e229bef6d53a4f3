import { createHash } from 'node:crypto';
import { z } from 'zod';
import { matchDefinition, type MatchContext } from '../platform/match.ts';
import { expandContext, expandPlaceholders, type PlaceholderContext } from '../platform/placeholders.ts';
import { isSecretRef, type ResourceDefinition } from '../platform/schema.ts';
import type { PlatformSecrets } from '../platform/secrets.ts';
import { getVersion, listCurrent, type StoredObject } from '../platform/store.ts';
import type { Db } from '../store/db.ts';
import type { Driver, DriverRegistry } from './drivers/driver.ts';
import type { DesiredResource, EnvironmentContext } from './types.ts';

/**
 * Turns a desired resource into what its driver needs: the most specific matching resource definition,
 * the driver it names, and the definition's inputs with `${context.*}` expanded, `{secretRef}` values
 * revealed from the platform secrets, and validated by the driver. Also resolves params that reference
 * other resources' outputs.
 */
export interface Resolved {
  definition: StoredObject<'ResourceDefinition'>;
  driver: Driver<Record<string, unknown>>;
  inputs: Record<string, unknown>;
}

export class ResolveError extends Error {}

export function matchContext(env: EnvironmentContext, r: { type: string; class: string; id: string }): MatchContext {
  return { type: r.type, class: r.class, id: r.id, environmentType: env.environmentType, environment: env.environment, application: env.application, team: env.team };
}

function placeholderContext(m: MatchContext, resource: string): PlaceholderContext {
  return { application: m.application, environment: m.environment, environmentType: m.environmentType, team: m.team, id: m.id, class: m.class, resource };
}

export class DefinitionResolver {
  private readonly db: Db;
  private readonly drivers: DriverRegistry;
  private readonly secrets: PlatformSecrets;
  constructor(db: Db, drivers: DriverRegistry, secrets: PlatformSecrets) {
    this.db = db;
    this.drivers = drivers;
    this.secrets = secrets;
  }

  currentDefinitions(): Promise<StoredObject<'ResourceDefinition'>[]> {
    return listCurrent(this.db, 'ResourceDefinition');
  }

  match(definitions: StoredObject<'ResourceDefinition'>[], ctx: MatchContext): { definition: StoredObject<'ResourceDefinition'>; driver: Driver<Record<string, unknown>> } | { error: string } {
    const m = matchDefinition(definitions.map((d) => ({ ...d.object, stored: d })), ctx);
    if ('error' in m) return { error: m.error };
    const driver = this.drivers.get(m.definition.spec.driver);
    if (!driver) return { error: `resource definition ${m.definition.metadata.name} names driver ${m.definition.spec.driver}, which this Pave does not have (drivers: ${this.drivers.ids().join(', ')})` };
    return { definition: m.definition.stored, driver };
  }

  /** The definition version a resource was made with (for update, check and delete). */
  async stored(name: string, version: string): Promise<{ definition: StoredObject<'ResourceDefinition'>; driver: Driver<Record<string, unknown>> }> {
    const definition = await getVersion(this.db, 'ResourceDefinition', name, version);
    if (!definition) throw new ResolveError(`resource definition ${name} ${version} is not in the store`);
    const driver = this.drivers.get(definition.object.spec.driver);
    if (!driver) throw new ResolveError(`driver ${definition.object.spec.driver} of resource definition ${name} is not available`);
    return { definition, driver };
  }

  async inputs(definition: ResourceDefinition, driver: Driver<Record<string, unknown>>, ctx: MatchContext, resource: string): Promise<Record<string, unknown>> {
    const raw = definition.spec.inputs;
    const refs = Object.values(raw).filter(isSecretRef).map((r) => r.secretRef);
    const revealed = await this.secrets.reveal([...new Set(refs)]).catch((err: unknown) => {
      throw new ResolveError(`resource definition ${definition.metadata.name}: ${(err as Error).message}`);
    });
    const withSecrets = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, isSecretRef(v) ? revealed.get(v.secretRef) : v]));
    const expanded = expandContext(withSecrets, placeholderContext(ctx, resource), { final: true }) as Record<string, unknown>;
    const parsed = driver.inputs.safeParse(expanded);
    if (!parsed.success) {
      // Field paths and messages only: the values may be secrets.
      const issues = parsed.error.issues.map((i) => `inputs.${i.path.join('.')}: ${i.message}`).join('; ');
      throw new ResolveError(`resource definition ${definition.metadata.name} has inputs the ${driver.id} driver does not accept: ${issues}`);
    }
    return parsed.data;
  }
}

/** Substitutes `${resources.<name>.<output>}` in params with the outputs of provisioned resources. */
export function resolveParams(r: DesiredResource, outputs: Map<string, Record<string, unknown>>): Record<string, unknown> {
  return expandPlaceholders(
    r.params,
    (ref, raw) => {
      if (ref[0] !== 'resources') return { error: `${raw}: params may only reference other resources' outputs` };
      const [, name, ...key] = ref;
      const out = name ? outputs.get(name) : undefined;
      if (!out) return { error: `${raw}: resource ${name} is not provisioned` };
      const k = key.join('.');
      if (!(k in out)) return { error: `${raw}: resource ${name} has no output ${k} (it has ${Object.keys(out).join(', ')})` };
      return { value: out[k] };
    },
    { final: true, path: `resources.${r.name}.params` },
  ) as Record<string, unknown>;
}

/** Digest of everything that decides what a driver does: a change means the resource must be applied again. */
export function applyDigest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

export const DriverInputs = z.record(z.string(), z.unknown());
