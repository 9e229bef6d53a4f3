import { Badge, Code, Group, Stack, Text } from '@mantine/core';
import type { Resource } from '../../api/client.ts';
import { showValue } from '../../api/inputs.ts';

/** A resource's outputs; secret ones arrive masked from the server and are marked as such. */
export function ResourceOutputs({ resource: r }: { resource: Pick<Resource, 'outputs' | 'secretOutputs'> }) {
  const entries = Object.entries(r.outputs).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) {
    return (
      <Text span size="sm" c="dimmed">
        —
      </Text>
    );
  }
  return (
    <Stack gap={2} component="dl" m={0}>
      {entries.map(([k, v]) => {
        const secret = r.secretOutputs.includes(k);
        return (
          <Group key={k} gap={6} wrap="nowrap" align="baseline" data-output={k}>
            <Text component="dt" size="xs" c="dimmed" ff="monospace" style={{ flexShrink: 0 }}>
              {k}
            </Text>
            <Text component="dd" m={0} size="xs" style={{ overflowWrap: 'anywhere', minWidth: 0 }}>
              {secret ? (
                <Group component="span" gap={4} wrap="nowrap">
                  <Code fz="xs">
                    {showValue(v)}
                  </Code>
                  <Badge size="xs" variant="outline" color="gray" radius="sm" tt="none">
                    secret
                  </Badge>
                </Group>
              ) : (
                <Code fz="xs">{showValue(v)}</Code>
              )}
            </Text>
          </Group>
        );
      })}
    </Stack>
  );
}
