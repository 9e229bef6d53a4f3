import { Center, Loader, Text } from '@mantine/core';

/** A spinner that screen readers announce. */
export function Loading({ label = 'Loading', fullScreen = false }: { label?: string; fullScreen?: boolean }) {
  return (
    <Center role="status" aria-live="polite" mih={fullScreen ? '100vh' : 160} style={{ gap: 12 }}>
      <Loader size="sm" aria-hidden="true" />
      <Text c="dimmed" size="sm">
        {label}…
      </Text>
    </Center>
  );
}
