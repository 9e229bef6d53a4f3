import { Alert, Badge, Button, Checkbox, Code, Group, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.ts';
import type { ConfigUpdate, DeploymentsClient } from '../../api/deployments.ts';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { ago, fullTime, who } from './format.ts';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CHANGE_COLORS = { added: 'green', removed: 'red', changed: 'blue' } as const;

interface Props {
  api: DeploymentsClient;
  environment: string;
  /** The config version of what is released, to say when the config is newer. */
  releasedConfigVersion: number | null;
}

/** The environment's variables and secrets (masked): add, change, remove; and every earlier version. */
export function ConfigPanel({ api, environment, releasedConfigVersion }: Props) {
  const [version, setVersion] = useState(0);
  const config = useAsync((signal) => api.config(environment, signal), [api, environment, version], { keepData: true });
  const history = useAsync((signal) => api.configHistory(environment, signal), [api, environment, version], { keepData: true });
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [secret, setSecret] = useState(false);
  const [nameError, setNameError] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);

  async function update(body: ConfigUpdate, what: string): Promise<boolean> {
    setFailure(null);
    setSaved(null);
    setSaving(true);
    try {
      const c = await api.updateConfig(environment, body);
      setSaved(`${what}: config v${c.version} is saved; it takes effect at the next deployment.`);
      setVersion((n) => n + 1);
      return true;
    } catch (err) {
      setFailure(err);
      if (err instanceof ApiError && err.problem?.errors?.length) setNameError(err.problem.errors.map((e) => e.message).join('; '));
      return false;
    } finally {
      setSaving(false);
    }
  }

  async function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const n = name.trim();
    if (!VAR_NAME.test(n)) {
      setNameError('must be a variable name: letters, digits and "_", not starting with a digit');
      return;
    }
    setNameError(null);
    if (await update(secret ? { secrets: { [n]: value } } : { set: { [n]: value } }, `${n} set`)) {
      setName('');
      setValue('');
      setSecret(false);
    }
  }

  if (config.status === 'loading') return <Loading label={`Loading the config of ${environment}`} />;
  if (config.status === 'error') return <ProblemAlert error={config.error} title="The config could not be loaded" onRetry={config.reload} />;
  const c = config.data;
  const variables = Object.entries(c.variables).sort(([a], [b]) => a.localeCompare(b));
  const secrets = Object.entries(c.secrets).sort(([a], [b]) => a.localeCompare(b));
  const rows = [...variables.map(([k, v]) => ({ name: k, value: v, secret: false })), ...secrets.map(([k, v]) => ({ name: k, value: v, secret: true }))];
  const newer = releasedConfigVersion !== null && c.version > releasedConfigVersion;

  return (
    <Stack gap="lg" data-testid="config-panel" data-version={c.version}>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          Config <b>v{c.version}</b>
          {c.createdAt ? ` · changed ${ago(c.createdAt)} by ${who(c.createdBy)}` : ' · never changed'}. Changes take effect at the next deployment.
        </Text>
      </Group>
      {newer && (
        <Alert color="yellow" variant="light" role="status" title="Not deployed yet">
          The released deployment of {environment} runs config v{releasedConfigVersion}; deploy to run v{c.version}.
        </Alert>
      )}

      <section aria-labelledby={`config-vars-${environment}`}>
        <Title order={3} size="h5" mb="xs" id={`config-vars-${environment}`}>
          Variables and secrets
        </Title>
        {rows.length === 0 ? (
          <Text size="sm" c="dimmed">
            No variables are set on {environment}. Those of the template, add-ons and team profile still apply (below).
          </Text>
        ) : (
          <Table verticalSpacing={4} data-testid="config-variables">
            <caption>
              <VisuallyHidden>Variables and secrets of {environment}</VisuallyHidden>
            </caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Value</Table.Th>
                <Table.Th scope="col">
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r) => (
                <Table.Tr key={`${r.secret}:${r.name}`} data-variable={r.name} data-secret={r.secret ? 'true' : 'false'}>
                  <Table.Th scope="row">
                    <Group gap={6}>
                      <Text size="sm" ff="monospace" fw={600}>
                        {r.name}
                      </Text>
                      {r.secret && (
                        <Badge size="xs" color="grape" variant="light" radius="sm" tt="none">
                          secret
                        </Badge>
                      )}
                    </Group>
                  </Table.Th>
                  <Table.Td>
                    <Code fz="xs" style={{ overflowWrap: 'anywhere' }}>
                      {r.value}
                    </Code>
                  </Table.Td>
                  <Table.Td style={{ textAlign: 'right' }}>
                    <Button size="compact-xs" variant="subtle" color="red" disabled={saving} onClick={() => void update({ unset: [r.name] }, `${r.name} removed`)} aria-label={`Remove ${r.name}`}>
                      Remove
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </section>

      <form onSubmit={add} noValidate aria-label={`Set a variable on ${environment}`}>
        <Group align="flex-start" gap="sm" wrap="wrap">
          <TextInput
            label="Name"
            placeholder="GREETING"
            value={name}
            onChange={(e) => {
              setName(e.currentTarget.value);
              setNameError(null);
            }}
            error={nameError}
            spellCheck={false}
            autoComplete="off"
            w={220}
            data-testid="config-name"
          />
          <TextInput label="Value" value={value} onChange={(e) => setValue(e.currentTarget.value)} spellCheck={false} autoComplete="off" type={secret ? 'password' : 'text'} style={{ flex: 1, minWidth: 220 }} data-testid="config-value" />
          <Checkbox label="Secret" description="stored encrypted, shown masked" checked={secret} onChange={(e) => setSecret(e.currentTarget.checked)} mt={30} />
          <Button type="submit" loading={saving} mt={25}>
            Set variable
          </Button>
        </Group>
      </form>
      {saved && (
        <Text size="sm" c="green.8" role="status" data-testid="config-saved">
          {saved}
        </Text>
      )}
      {failure !== null && <ProblemAlert error={failure} title="The config was not changed" />}

      {c.layers.length > 0 && (
        <section aria-labelledby={`config-layers-${environment}`}>
          <Title order={3} size="h5" mb={4} id={`config-layers-${environment}`}>
            What the processes get
          </Title>
          <Text size="xs" c="dimmed" mb="xs">
            Lowest layer first; a later layer wins.
          </Text>
          <Stack gap="xs">
            {c.layers.map((l) => (
              <div key={l.source}>
                <Text size="sm" fw={600}>
                  {l.source}
                </Text>
                {Object.keys(l.variables).length === 0 ? (
                  <Text size="xs" c="dimmed">
                    nothing
                  </Text>
                ) : (
                  <Group gap={4}>
                    {Object.entries(l.variables).map(([k, v]) => (
                      <Code key={k} fz="xs" style={{ overflowWrap: 'anywhere' }}>
                        {k}={v}
                      </Code>
                    ))}
                  </Group>
                )}
              </div>
            ))}
          </Stack>
        </section>
      )}

      <section aria-labelledby={`config-history-${environment}`}>
        <Title order={3} size="h5" mb="xs" id={`config-history-${environment}`}>
          History
        </Title>
        {history.status === 'error' && <ProblemAlert error={history.error} title="The config history could not be loaded" onRetry={history.reload} />}
        {history.status === 'ok' &&
          (history.data.items.length === 0 ? (
            <Text size="sm" c="dimmed">
              No changes yet.
            </Text>
          ) : (
            <Stack gap={6} component="ol" style={{ listStyle: 'none', margin: 0, padding: 0 }} data-testid="config-history">
              {history.data.items.map((h) => (
                <li key={h.version} data-version={h.version}>
                  <Text size="sm">
                    <b>v{h.version}</b>{' '}
                    <Text span size="xs" c="dimmed" title={fullTime(h.createdAt)}>
                      {ago(h.createdAt)} by {who(h.createdBy)}
                      {h.change ? ` · ${h.change}` : ''}
                    </Text>
                  </Text>
                  <Group gap={6} mt={2}>
                    {h.changes.map((ch) => (
                      <Text key={ch.name} size="xs" span>
                        <Badge size="xs" radius="sm" tt="none" variant="light" color={CHANGE_COLORS[ch.change]} mr={4}>
                          {ch.change}
                        </Badge>
                        <Code fz="xs">{ch.name}</Code>
                        {ch.change === 'changed' && (
                          <>
                            {' '}
                            {ch.from} → {ch.to}
                          </>
                        )}
                        {ch.change === 'added' && <> = {ch.to}</>}
                      </Text>
                    ))}
                  </Group>
                </li>
              ))}
            </Stack>
          ))}
      </section>
    </Stack>
  );
}
