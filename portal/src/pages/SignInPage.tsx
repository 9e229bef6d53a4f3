import { Alert, Button, Center, Code, Group, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError, errorMessage } from '../api/client.ts';
import { useSession } from '../api/session.tsx';

/** Only paths inside the portal may be returned to after sign-in. */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/sign-in')) return '/catalog';
  return next;
}

export function SignInPage() {
  useDocumentTitle('Sign in · Pave');
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (session.status === 'signed-in') return <Navigate to={next} replace />;

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError(new Error('Paste an API token first.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await session.signIn(candidate);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const message = error instanceof ApiError && error.status === 401 ? `This token was not accepted: ${errorMessage(error)}.` : error ? errorMessage(error) : null;

  return (
    <Center component="main" mih="100vh" bg="gray.0" p="md">
      <Paper withBorder shadow="sm" radius="lg" p="xl" w="100%" maw={440}>
        <Stack gap="lg">
          <Group gap={10}>
            <img src="/favicon.svg" alt="Pave logo" width={36} height={36} />
            <Text fw={700} size="xl">
              Pave
            </Text>
          </Group>
          <div>
            <Title order={1} size="h3">
              Sign in
            </Title>
            <Text size="sm" c="dimmed" mt={4}>
              Paste an API token to use the portal. Tokens start with <Code>pave_</Code>; an admin can issue you one.
            </Text>
          </div>
          {session.endedBecause && !error && (
            <Alert color="yellow" variant="light" role="status">
              {session.endedBecause}
            </Alert>
          )}
          <form onSubmit={submit} noValidate>
            <Stack gap="md">
              <PasswordInput
                label="API token"
                placeholder="pave_…"
                autoComplete="off"
                spellCheck={false}
                data-autofocus
                autoFocus
                value={token}
                onChange={(e) => setToken(e.currentTarget.value)}
                error={message}
                errorProps={{ role: 'alert' }}
              />
              <Button type="submit" loading={busy} fullWidth>
                Sign in
              </Button>
            </Stack>
          </form>
        </Stack>
      </Paper>
    </Center>
  );
}
