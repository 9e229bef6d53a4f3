import { Code, DataList, Group, Text } from '@mantine/core';
import type { PatternSummary } from '../../api/client.ts';
import { usageLabel } from './usageLabel.ts';

/** Version, versions, what it attaches and provisions by itself, and its usage. */
export function TemplateFacts({ template: t }: { template: PatternSummary }) {
  const none = (text: string) => (
    <Text span size="sm" c="dimmed">
      {text}
    </Text>
  );
  return (
    <DataList orientation="horizontal" labelWidth={130} gap="xs" size="sm">
      <DataList.Item>
        <DataList.ItemLabel>Version</DataList.ItemLabel>
        <DataList.ItemValue>{t.version}</DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>All versions</DataList.ItemLabel>
        <DataList.ItemValue>{t.versions.join(', ')}</DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>Inputs</DataList.ItemLabel>
        <DataList.ItemValue>
          {t.fields.length ? (
            <Group gap={4}>
              {t.fields.map((f) => (
                <Code key={f.name}>{f.name}</Code>
              ))}
            </Group>
          ) : (
            none('None')
          )}
        </DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>Included add-ons</DataList.ItemLabel>
        <DataList.ItemValue>{t.addons.length ? t.addons.map((a) => `${a.name} (${a.addon} ${a.version})`).join(', ') : none('None; attach your own')}</DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>Own resources</DataList.ItemLabel>
        <DataList.ItemValue>{t.resources.length ? t.resources.map((r) => `${r.name}: ${r.type}`).join(', ') : none('None')}</DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>Usage</DataList.ItemLabel>
        <DataList.ItemValue>{usageLabel(t.applications)}</DataList.ItemValue>
      </DataList.Item>
    </DataList>
  );
}
