import { Anchor, Badge, Code, DataList, Group, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { GoldenPath } from '../../api/client.ts';
import { showValue } from '../../api/inputs.ts';

/** The template version the application is made from, and the inputs it was given. */
export function GoldenPathSummary({ golden }: { golden: GoldenPath }) {
  const inputs = Object.entries(golden.inputs);
  return (
    <DataList orientation="horizontal" labelWidth={110} gap="xs" size="sm">
      <DataList.Item>
        <DataList.ItemLabel>Template</DataList.ItemLabel>
        <DataList.ItemValue>
          <Group gap={8}>
            <Anchor component={Link} to={`/templates/${encodeURIComponent(golden.template.name)}`} size="sm" ff="monospace" data-testid="golden-template">
              {golden.template.name}@{golden.template.version}
            </Anchor>
            {golden.customWorkload && (
              <Badge size="xs" variant="outline" color="gray" tt="none">
                own workload
              </Badge>
            )}
          </Group>
        </DataList.ItemValue>
      </DataList.Item>
      <DataList.Item>
        <DataList.ItemLabel>Inputs</DataList.ItemLabel>
        <DataList.ItemValue>
          {inputs.length === 0 ? (
            <Text span size="sm" c="dimmed">
              None
            </Text>
          ) : (
            <Group gap={6} component="ul" aria-label="Inputs" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
              {inputs.map(([k, v]) => (
                <li key={k} data-input-value={k}>
                  <Code>
                    {k} = {showValue(v)}
                  </Code>
                </li>
              ))}
            </Group>
          )}
        </DataList.ItemValue>
      </DataList.Item>
    </DataList>
  );
}
