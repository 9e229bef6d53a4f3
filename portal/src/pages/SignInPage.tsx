import { Alert, Button, Center, Code, Divider, Group, Paper, PasswordInput, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { useEffect, useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError, createApiClient, errorMessage, type AuthProviders } from '../api/client.ts';
import { useSession } from '../api/session.tsx';

/** Only paths inside the portal may be returned to after sign-in. */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/sign-in')) return '/catalog';
  return next;
}

const METHOD_KEY = 'pave.signInMethod';
type Method = 'password' | 'token';

function readMethod(): Method {
  try {
    return localStorage.getItem(METHOD_KEY) === 'password' ? 'password' : 'token';
  } catch {
    return 'token';
  }
}

/**
 * Sign-in: "Sign in with <provider>" when the server has an identity provider (the browser goes
 * through the provider and comes back with a session cookie), a local user's password, or a pasted
 * API token. The last method used is remembered.
 */
export function SignInPage() {
  useDocumentTitle('Sign in · Pave');
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [method, setMethod] = useState<Method>(readMethod);
  const [token, setToken] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<AuthProviders | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    createApiClient({ token: null })
      .providers(ctl.signal)
      .then(setProviders)
      .catch(() => undefined);
    return () => ctl.abort();
  }, []);

  if (session.status === 'signed-in') return <Navigate to={next} replace />;

  function choose(m: Method) {
    setMethod(m);
    setError(null);
    try {
      localStorage.setItem(METHOD_KEY, m);
    } catch {
      // storage disabled
    }
  }

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  function submitToken(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError(new Error('Paste an API token first.'));
      return;
    }
    void run(() => session.signIn(candidate));
  }

  function submitPassword(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!user.trim() || !password) {
      setError(new Error('Enter your user name and password.'));
      return;
    }
    void run(() => session.signInWithPassword(user.trim(), password));
  }

  const tokenMessage = error instanceof ApiError && error.status === 401 ? `This token was not accepted: ${errorMessage(error)}.` : error ? errorMessage(error) : null;
  const passwordMessage =
    error instanceof ApiError && error.status === 401 ? 'The user name or password is wrong.' : error instanceof ApiError && error.status === 429 ? `${errorMessage(error)}.` : error ? errorMessage(error) : null;
  const oidc = providers?.oidc ?? null;

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
              {oidc ? `Use your ${oidc.name} account, a Pave password, or an API token.` : 'Use a Pave password or an API token.'}
            </Text>
          </div>
          {session.endedBecause && !error && (
            <Alert color="yellow" variant="light" role="status">
              {session.endedBecause}
            </Alert>
          )}
          {oidc && (
            <>
              <Button component="a" href={`${oidc.loginUrl}?redirect=${encodeURIComponent(next)}`} size="md" fullWidth>
                Sign in with {oidc.name}
              </Button>
              <Divider label="or" labelPosition="center" />
            </>
          )}
          <Tabs value={method} onChange={(v) => choose(v === 'password' ? 'password' : 'token')} keepMounted={false}>
            <Tabs.List grow>
              <Tabs.Tab value="password">Local user</Tabs.Tab>
              <Tabs.Tab value="token">Token</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="password" pt="md">
              <form onSubmit={submitPassword} noValidate>
                <Stack gap="md">
                  <TextInput label="User name" autoComplete="username" spellCheck={false} value={user} onChange={(e) => setUser(e.currentTarget.value)} />
                  <PasswordInput
                    label="Password"
                    autoComplete="current-password"
                    value={password}
                    onChange={(e) => setPassword(e.currentTarget.value)}
                    error={passwordMessage}
                    errorProps={{ role: 'alert' }}
                  />
                  <Button type="submit" loading={busy} fullWidth>
                    Sign in
                  </Button>
                </Stack>
              </form>
            </Tabs.Panel>
            <Tabs.Panel value="token" pt="md">
              <form onSubmit={submitToken} noValidate>
                <Stack gap="md">
                  <Text size="sm" c="dimmed">
                    Tokens start with <Code>pave_</Code>; an admin can issue you one.
                  </Text>
                  <PasswordInput
                    label="API token"
                    placeholder="pave_…"
                    autoComplete="off"
                    spellCheck={false}
                    data-autofocus
                    autoFocus
                    value={token}
                    onChange={(e) => setToken(e.currentTarget.value)}
                    error={tokenMessage}
                    errorProps={{ role: 'alert' }}
                  />
                  <Button type="submit" loading={busy} fullWidth>
                    Sign in
                  </Button>
                </Stack>
              </form>
            </Tabs.Panel>
          </Tabs>
        </Stack>
      </Paper>
    </Center>
  );
}
