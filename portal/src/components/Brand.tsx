import { Group, Text, UnstyledButton } from '@mantine/core';
import { Link } from 'react-router';

/** The product mark; links home. */
export function Brand() {
  return (
    <UnstyledButton component={Link} to="/catalog" aria-label="Pave home">
      <Group gap={8} wrap="nowrap">
        <img src="/favicon.svg" alt="" width={28} height={28} />
        <Text fw={700} size="lg">
          Pave
        </Text>
      </Group>
    </UnstyledButton>
  );
}
