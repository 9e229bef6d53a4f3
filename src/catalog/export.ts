import { stringify } from 'yaml';
import type { Entity } from '../contracts/catalog.ts';
import { TO_BACKSTAGE_KIND } from './model.ts';

/** Pave entities → Backstage descriptors: the inverse of draftFromDescriptor, so export re-imports unchanged. */

const nonEmpty = <T extends object>(value: T): T | undefined => (Object.keys(value).length > 0 ? value : undefined);

/** A Backstage descriptor for `entity`; its spec is stored Backstage-shaped, so it is emitted as is. */
export function toDescriptor(entity: Entity): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name: entity.name };
  const optional: Record<string, unknown> = {
    namespace: entity.namespace === 'default' ? undefined : entity.namespace,
    title: entity.title ?? undefined,
    description: entity.description ?? undefined,
    tags: nonEmpty(entity.tags),
    labels: nonEmpty(entity.labels),
    annotations: nonEmpty(entity.annotations),
    links: nonEmpty(entity.links),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) metadata[key] = value;
  return { apiVersion: 'backstage.io/v1alpha1', kind: TO_BACKSTAGE_KIND[entity.kind], metadata, spec: entity.spec };
}

/** A multi-document catalog-info.yaml holding every entity. */
export function toYamlDocuments(entities: Iterable<Entity>): string {
  const docs: string[] = [];
  for (const entity of entities) docs.push(stringify(toDescriptor(entity)));
  return docs.join('---\n');
}
