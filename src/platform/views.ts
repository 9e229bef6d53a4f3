import type { PatternSummary } from '../contracts/golden.ts';
import type { Db } from '../store/db.ts';
import { inputsFormFields } from './inputs.ts';
import type { AddOn, Template } from './schema.ts';
import { listCurrent, listVersions, type StoredObject } from './store.ts';

/** What the gallery shows of templates and add-ons: latest version, all versions, form fields, usage. */
async function usage(db: Db, kind: 'Template' | 'AddOn'): Promise<Map<string, number>> {
  const rows =
    kind === 'Template'
      ? await db.selectFrom('applications').select(['template as name']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('template').execute()
      : await db.selectFrom('application_addons').select(['addon as name']).select((eb) => eb.fn.count<number>('entity_id').distinct().as('n')).groupBy('addon').execute();
  return new Map(rows.map((r) => [r.name, Number(r.n)]));
}

function summary(kind: 'Template' | 'AddOn', latest: StoredObject<'Template' | 'AddOn'>, versions: string[], used: number): PatternSummary {
  const o = latest.object as Template | AddOn;
  const t = kind === 'Template' ? (o as Template) : undefined;
  const a = kind === 'AddOn' ? (o as AddOn) : undefined;
  return {
    kind,
    name: latest.name,
    version: latest.version,
    versions,
    title: o.metadata.title ?? null,
    description: o.metadata.description ?? null,
    tags: o.metadata.tags ?? [],
    inputs: o.spec.inputs as Record<string, unknown>,
    fields: inputsFormFields(o.spec.inputs),
    readme: t?.spec.readme ?? null,
    addons: t?.spec.addons.map((x) => ({ addon: x.addon, name: x.name, version: x.version })) ?? [],
    resources: a ? Object.entries(a.spec.resources).map(([name, r]) => ({ name, type: r.type })) : Object.entries((t?.spec.workload.resources ?? {}) as Record<string, { type: string }>).map(([name, r]) => ({ name, type: r.type })),
    outputs: a ? Object.keys(a.spec.outputs) : [],
    applications: used,
  };
}

export async function listPatterns(db: Db, kind: 'Template' | 'AddOn'): Promise<PatternSummary[]> {
  const current = await listCurrent(db, kind);
  const used = await usage(db, kind);
  const byName = new Map<string, StoredObject<typeof kind>[]>();
  for (const o of current) byName.set(o.name, [...(byName.get(o.name) ?? []), o]);
  return [...byName.entries()].map(([name, versions]) => summary(kind, versions[0]!, versions.map((v) => v.version), used.get(name) ?? 0));
}

export async function getPattern(db: Db, kind: 'Template' | 'AddOn', name: string, version?: string): Promise<PatternSummary | undefined> {
  const versions = await listVersions(db, kind, name);
  const chosen = version ? versions.find((v) => v.version === version) : versions.find((v) => v.current);
  if (!chosen) return undefined;
  const used = await usage(db, kind);
  return summary(kind, chosen, versions.map((v) => v.version), used.get(name) ?? 0);
}
