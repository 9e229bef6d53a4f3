import { Anchor, Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useId } from 'react';
import { Link } from 'react-router';
import type { PatternSummary } from '../../api/client.ts';
import { TagList } from '../TagList.tsx';
import { usageLabel } from './usageLabel.ts';

/** A template in the gallery: what it is, its version, how many applications use it. */
export function TemplateCard({ template: t }: { template: PatternSummary }) {
  const id = useId();
  const path = `/templates/${encodeURIComponent(t.name)}`;
  return (
    <Card withBorder padding="lg" component="article" aria-labelledby={id} data-template={t.name} style={{ flex: 1 }}>
      <Stack gap="sm" h="100%">
        <Group justify="space-between" align="flex-start" wrap="nowrap" gap="sm">
          <div style={{ minWidth: 0 }}>
            <Title order={3} size="h4" id={id}>
              <Anchor component={Link} to={path} inherit c="inherit">
                {t.title ?? t.name}
              </Anchor>
            </Title>
            <Text size="xs" c="dimmed" ff="monospace">
              {t.name}
            </Text>
          </div>
          <Badge variant="light" color="blue" radius="sm" tt="none" title={t.versions.length > 1 ? `Versions: ${t.versions.join(', ')}` : undefined}>
            v{t.version}
          </Badge>
        </Group>
        <Text size="sm" c={t.description ? undefined : 'dimmed'} style={{ flex: 1 }}>
          {t.description ?? 'No description.'}
        </Text>
        <TagList tags={t.tags} empty="No tags" />
        <Group justify="space-between" align="center" mt="xs">
          <Text size="sm" c="dimmed">
            {usageLabel(t.applications)}
          </Text>
          <Button component={Link} to={`${path}#create`} size="sm" aria-label={`Create application from ${t.title ?? t.name}`}>
            Create application
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
