import { Anchor, Badge, Button, Card, Group, Stack, Table, Text, Tooltip } from '@mantine/core';
import type { EnvironmentStatus } from '../../api/deployments.ts';
import { ago, ENV_STATUS_COLORS, fullTime, OBJECT_STATE_COLORS, PROCESS_STATE_COLORS, RUNNING_COLORS, RUNTIME_COLORS, shortDigest } from './format.ts';

interface Props {
  env: EnvironmentStatus;
  selected: boolean;
  busy: boolean;
  /** Other environments exist to promote to. */
  canPromote: boolean;
  onSelect(): void;
  onDeploy(): void;
  onRollback(): void;
  onPromote(): void;
  /** What the caller may do here (hidden reasons are the server's: it checks every request). Default: all. */
  allowed?: { deploy: boolean; release: boolean } | undefined;
}

/** One environment at a glance: status, URL, what is released and its processes, and what to do next. */
export function EnvironmentCard({ env, selected, busy, canPromote, onSelect, onDeploy, onRollback, onPromote, allowed = { deploy: true, release: true } }: Props) {
  const notAllowed = (what: string) => `You may not ${what} in ${env.type} environments of this application`;
  const d = env.released;
  const others = env.deployments;
  const labelId = `env-card-${env.name}-title`;
  return (
    <Card
      withBorder
      padding="md"
      component="article"
      aria-labelledby={labelId}
      data-testid={`env-card-${env.name}`}
      data-status={env.status}
      style={selected ? { borderColor: 'var(--mantine-color-blue-5)', boxShadow: '0 0 0 1px var(--mantine-color-blue-5)' } : undefined}
    >
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Anchor component="button" type="button" fw={700} onClick={onSelect} id={labelId} aria-pressed={selected} aria-label={`Environment ${env.name}`}>
              {env.name}
            </Anchor>
            {env.type !== env.name && (
              <Badge size="xs" variant="light" color="gray" radius="sm" tt="none">
                {env.type}
              </Badge>
            )}
            {env.target && (
              <Tooltip label={`${env.target.runtime}${env.target.cluster ? ` on cluster ${env.target.cluster}` : ''} (${env.target.source === 'default' ? 'the default' : `set by the ${env.target.source}`})`}>
                <Badge size="xs" variant="outline" color={RUNTIME_COLORS[env.target.runtime] ?? 'gray'} radius="sm" tt="none" data-testid="env-runtime">
                  {env.target.runtime}
                </Badge>
              </Tooltip>
            )}
          </Group>
          <Badge color={ENV_STATUS_COLORS[env.status] ?? 'gray'} variant={env.status === 'empty' ? 'outline' : 'filled'} radius="sm" tt="none" data-testid="env-status">
            {env.status}
          </Badge>
        </Group>

        {env.url ? (
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            <Anchor href={env.url} target="_blank" rel="noreferrer" data-testid="env-url">
              {env.url}
            </Anchor>
            {env.pathUrl && (
              <Text span size="xs" c="dimmed" display="block">
                or{' '}
                <Anchor href={env.pathUrl} target="_blank" rel="noreferrer" size="xs" c="dimmed">
                  {env.pathUrl}
                </Anchor>
              </Text>
            )}
          </Text>
        ) : (
          <Text size="sm" c="dimmed">
            No URL until a deployment is released.
          </Text>
        )}

        {d ? (
          <Text size="sm" data-testid="env-released">
            Released <b>#{d.number}</b> · build #{d.build.number}{' '}
            <Text span ff="monospace" size="xs" c="dimmed" title={d.build.digest ?? ''}>
              {shortDigest(d.build.digest)}
            </Text>{' '}
            · config v{d.configVersion} ·{' '}
            <Text span title={fullTime(d.createdAt)} inherit>
              {ago(d.createdAt)}
            </Text>
            {d.promotedFrom && (
              <Text span size="xs" c="dimmed" display="block">
                promoted from {d.promotedFrom}
              </Text>
            )}
          </Text>
        ) : (
          <Text size="sm" c="dimmed">
            Nothing released yet.
          </Text>
        )}

        {d && d.processes.length > 0 && (
          <Table withRowBorders={false} verticalSpacing={2} horizontalSpacing="xs" fz="xs" data-testid="env-processes">
            <caption style={{ captionSide: 'top', textAlign: 'left', fontSize: 'var(--mantine-font-size-xs)', color: 'var(--mantine-color-dimmed)' }}>Processes</caption>
            <Table.Tbody>
              {d.processes.map((p) => (
                <Table.Tr key={`${p.type}.${p.replica}`}>
                  <Table.Td ff="monospace">
                    {p.type}.{p.replica}
                  </Table.Td>
                  <Table.Td>
                    <Badge size="xs" radius="sm" variant="light" color={PROCESS_STATE_COLORS[p.state] ?? 'gray'} tt="none">
                      {p.state}
                    </Badge>
                  </Table.Td>
                  <Table.Td c={p.restarts > 0 ? 'orange.8' : 'dimmed'}>
                    {p.restarts} restart{p.restarts === 1 ? '' : 's'}
                    {p.lastExit && (
                      <Tooltip label={`last exit ${p.lastExit.code ?? p.lastExit.signal ?? '?'} at ${fullTime(p.lastExit.at)}`}>
                        <Text span inherit>
                          {' '}
                          (exit {p.lastExit.code ?? p.lastExit.signal})
                        </Text>
                      </Tooltip>
                    )}
                  </Table.Td>
                  <Table.Td c="dimmed">{p.port ? `:${p.port}` : ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}

        {env.target?.cluster && (
          <Text size="xs" c="dimmed" data-testid="env-target" style={{ overflowWrap: 'anywhere' }}>
            {env.target.runtime === 'gitops' ? 'GitOps repository' : 'Cluster'} <b>{env.target.cluster}</b>
            {env.target.location ? ` · ${env.target.location}` : ''}
            {env.target.namespace ? ` · namespace ${env.target.namespace}` : ''}
          </Text>
        )}
        {env.target?.problem && (
          <Text size="xs" c="red.8" data-testid="env-target-problem">
            Deployments are refused: {env.target.problem.path}: {env.target.problem.message}
          </Text>
        )}

        {env.objects && env.objects.length > 0 && (
          <Table withRowBorders={false} verticalSpacing={2} horizontalSpacing="xs" fz="xs" data-testid="env-objects">
            <caption style={{ captionSide: 'top', textAlign: 'left', fontSize: 'var(--mantine-font-size-xs)', color: 'var(--mantine-color-dimmed)' }}>Objects</caption>
            <Table.Tbody>
              {env.objects.map((o) => (
                <Table.Tr key={o.object}>
                  <Table.Td ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                    {o.object}
                  </Table.Td>
                  <Table.Td>
                    <Tooltip label={o.detail ?? o.state} disabled={!o.detail}>
                      <Badge size="xs" radius="sm" variant="light" color={OBJECT_STATE_COLORS[o.state] ?? 'gray'} tt="none">
                        {o.state}
                      </Badge>
                    </Tooltip>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}

        {others.length > 0 && (
          <Group gap={4}>
            <Text size="xs" c="dimmed">
              Also running:
            </Text>
            {others.map((o) => (
              <Badge key={o.id} size="xs" radius="sm" variant="light" color={o.status === 'starting' ? 'blue' : RUNNING_COLORS[o.running] ?? 'gray'} tt="none">
                #{o.number} {o.status === 'starting' ? 'starting' : o.running}
              </Badge>
            ))}
          </Group>
        )}
        {env.expiresAt && (
          <Text size="xs" c="dimmed">
            Expires {fullTime(env.expiresAt)}
          </Text>
        )}

        <Group gap="xs" mt={4}>
          <Button size="xs" onClick={onDeploy} disabled={busy || !allowed.deploy} title={allowed.deploy ? undefined : notAllowed('deploy')} aria-label={`Deploy to ${env.name}`}>
            Deploy
          </Button>
          <Button size="xs" variant="default" onClick={onRollback} disabled={busy || !d || !allowed.release} title={allowed.release ? undefined : notAllowed('release')} aria-label={`Roll back ${env.name}`}>
            Rollback
          </Button>
          <Button size="xs" variant="default" onClick={onPromote} disabled={busy || !d || !canPromote} aria-label={`Promote ${env.name} to…`}>
            Promote to…
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
