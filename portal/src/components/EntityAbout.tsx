import { Anchor, Code, DataList, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Entity } from '../api/client.ts';
import { isWebUrl, specString } from '../api/spec.ts';
import { EntityLink } from './EntityLink.tsx';
import { LifecycleBadge } from './LifecycleBadge.tsx';
import { TagList } from './TagList.tsx';

/** Kinds whose owner, type, lifecycle and system are always shown, "—" when unset. */
const OWNED = new Set(['application', 'api', 'resource', 'system']);

export function EntityAbout({ entity: e }: { entity: Entity }) {
  const always = OWNED.has(e.kind);
  // Owner and system link only when the catalog has them (their relations say so).
  const related = (ref: string) => {
    const r = e.relations?.find((x) => x.targetRef === ref);
    return <EntityLink entityRef={ref} label={r?.target?.title ?? null} resolved={r?.resolved ?? true} />;
  };
  const email = specString(e, 'profile', 'email') ?? specString(e, 'email');
  const rows: [string, ReactNode, boolean][] = [
    ['Owner', e.owner ? related(e.owner) : null, always],
    ['Type', e.type, always],
    ['Lifecycle', e.lifecycle ? <LifecycleBadge lifecycle={e.lifecycle} /> : null, always],
    ['System', e.system ? related(e.system) : null, always],
    ['Email', email && isWebUrl(`mailto:${email}`) ? <Anchor href={`mailto:${email}`} size="sm">
          {email}
        </Anchor> : null, false],
    ['Namespace', e.namespace, true],
    ['Reference', <Code key="ref">{e.ref}</Code>, true],
    ['Tags', <TagList key="tags" tags={e.tags} empty="No tags" />, true],
    ['Source', e.source, true],
    ['Updated', new Date(e.updatedAt).toLocaleString(), true],
  ];
  return (
    <DataList orientation="horizontal" labelWidth={110} gap="xs" size="sm">
      {rows
        .filter(([, value, show]) => show || value !== null)
        .map(([label, value]) => (
          <DataList.Item key={label}>
            <DataList.ItemLabel>{label}</DataList.ItemLabel>
            <DataList.ItemValue>
              {value ?? (
                <Text span c="dimmed" size="sm">
                  —
                </Text>
              )}
            </DataList.ItemValue>
          </DataList.Item>
        ))}
    </DataList>
  );
}
