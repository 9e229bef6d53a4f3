import { Button, Stack, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { Link, useLocation } from 'react-router';

export function NotFoundPage({ what }: { what?: string }) {
  useDocumentTitle('Not found · Pave');
  const { pathname } = useLocation();
  return (
    <Stack align="flex-start" gap="sm" py="xl">
      <Text c="dimmed" fw={700} size="sm">
        404
      </Text>
      <Title order={1} size="h2">
        Page not found
      </Title>
      <Text c="dimmed">
        {what ?? (
          <>
            There is no page at <code>{pathname}</code>.
          </>
        )}
      </Text>
      <Button component={Link} to="/catalog" variant="light" mt="sm">
        Go to the catalog
      </Button>
    </Stack>
  );
}
