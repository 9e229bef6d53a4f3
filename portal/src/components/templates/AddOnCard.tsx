import { Badge, Card, Code, Group, Stack, Text, Title } from '@mantine/core';
import { useId } from 'react';
import type { PatternSummary } from '../../api/client.ts';
import { TagList } from '../TagList.tsx';
import { usageLabel } from './usageLabel.ts';

/** An add-on in the gallery: what it provisions and the variables it injects into the application. */
export function AddOnCard({ addon: a }: { addon: PatternSummary }) {
  const id = useId();
  return (
    <Card withBorder padding="lg" component="article" aria-labelledby={id} data-addon={a.name} style={{ flex: 1 }}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap" gap="sm">
          <div style={{ minWidth: 0 }}>
            <Title order={3} size="h4" id={id}>
              {a.title ?? a.name}
            </Title>
            <Text size="xs" c="dimmed" ff="monospace">
              {a.name}
            </Text>
          </div>
          <Badge variant="light" color="grape" radius="sm" tt="none">
            v{a.version}
          </Badge>
        </Group>
        <Text size="sm" c={a.description ? undefined : 'dimmed'}>
          {a.description ?? 'No description.'}
        </Text>
        <div>
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" mb={4} style={{ letterSpacing: '0.04em' }}>
            Provisions
          </Text>
          {a.resources.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing
            </Text>
          ) : (
            <Group gap={6} component="ul" aria-label="Resources it provisions" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
              {a.resources.map((r) => (
                <Badge key={r.name} component="li" variant="outline" color="gray" radius="sm" tt="none">
                  {r.name}: {r.type}
                </Badge>
              ))}
            </Group>
          )}
        </div>
        <div>
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" mb={4} style={{ letterSpacing: '0.04em' }}>
            Injects
          </Text>
          {a.outputs.length === 0 ? (
            <Text size="sm" c="dimmed">
              No variables
            </Text>
          ) : (
            <Group gap={6} component="ul" aria-label="Environment variables it injects" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
              {[...a.outputs].sort().map((o) => (
                <li key={o}>
                  <Code>{o}</Code>
                </li>
              ))}
            </Group>
          )}
        </div>
        <TagList tags={a.tags} empty="No tags" />
        <Text size="sm" c="dimmed">
          {usageLabel(a.applications)}
        </Text>
      </Stack>
    </Card>
  );
}
