import { Anchor, Breadcrumbs, Group, Stack, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Link } from 'react-router';

export interface Crumb {
  label: string;
  to: string;
}

interface Props {
  title: string;
  crumbs?: Crumb[];
  /** Beside the title, e.g. a kind badge. */
  badge?: ReactNode;
  description?: ReactNode;
}

/** The page's one h1, its breadcrumbs, and the browser tab's title. */
export function PageHeader({ title, crumbs, badge, description }: Props) {
  useDocumentTitle(`${title} · Pave`);
  return (
    <Stack gap={6} mb="lg">
      {crumbs && crumbs.length > 0 && (
        <Breadcrumbs aria-label="Breadcrumb" separatorMargin={6}>
          {crumbs.map((c) => (
            <Anchor key={c.to} component={Link} to={c.to} size="sm">
              {c.label}
            </Anchor>
          ))}
        </Breadcrumbs>
      )}
      <Group gap="sm" align="center">
        <Title order={1} size="h2">
          {title}
        </Title>
        {badge}
      </Group>
      {description && (
        <Text c="dimmed" size="sm" maw={760}>
          {description}
        </Text>
      )}
    </Stack>
  );
}
