import { Avatar, Box, Button, Group, Text } from '@mantine/core';
import { useNavigate } from 'react-router';
import { useSession } from '../api/session.tsx';

/** The signed-in user and the sign-out button. */
export function UserMenu() {
  const { me, signOut } = useSession();
  const navigate = useNavigate();
  if (!me) return null;
  const name = me.user.title ?? me.user.name;
  return (
    <Group gap="sm" wrap="nowrap">
      <Avatar name={name} color="initials" size={32} radius="xl" role="img" aria-label={`Signed in as ${name}`} title={`Signed in as ${name} (${me.user.ref})`} />
      <Box data-testid="signed-in-user" visibleFrom="sm" aria-hidden="true">
        <Text size="sm" fw={600} lh={1.2}>
          {name}
        </Text>
        <Text size="xs" c="dimmed" lh={1.2}>
          {me.user.ref}
          {me.roles.length > 0 ? ` · ${me.roles.join(', ')}` : ''}
        </Text>
      </Box>
      <Button
        variant="default"
        size="xs"
        onClick={() => {
          signOut();
          navigate('/sign-in', { replace: true });
        }}
      >
        Sign out
      </Button>
    </Group>
  );
}
