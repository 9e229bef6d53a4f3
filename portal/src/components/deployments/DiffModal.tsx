import { Alert, Badge, Code, Group, Modal, Stack, Table, Text, Title } from '@mantine/core';
import type { DeploymentDiff, DeploymentsClient } from '../../api/deployments.ts';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { shortDigest } from './format.ts';

const CHANGE_COLORS = { added: 'green', removed: 'red', changed: 'blue' } as const;

const Value = ({ v }: { v: string | null }) =>
  v === null ? (
    <Text span size="sm" c="dimmed">
      —
    </Text>
  ) : (
    <Code fz="xs" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
      {v}
    </Code>
  );

/** What changed from one deployment to another: build, config version, variables (secrets masked), resources, processes. */
export function DiffView({ diff }: { diff: DeploymentDiff }) {
  const nothing = !diff.build.changed && diff.variables.length === 0 && diff.resources.length === 0 && diff.processes.length === 0 && diff.configVersion.from === diff.configVersion.to;
  return (
    <Stack gap="md" data-testid="deployment-diff">
      {nothing && (
        <Alert color="gray" variant="light" role="status" title="No differences">
          Both deployments run the same build with the same config.
        </Alert>
      )}
      <section aria-label="Build">
        <Title order={4} size="h6" mb={4}>
          Build
        </Title>
        <Group gap="xs" data-testid="diff-build" data-changed={diff.build.changed ? 'true' : 'false'}>
          {diff.build.changed ? (
            <>
              <Badge color="blue" variant="light" size="sm" radius="sm" tt="none">
                changed
              </Badge>
              <Code title={diff.build.from ?? ''}>{shortDigest(diff.build.from)}</Code>→<Code title={diff.build.to ?? ''}>{shortDigest(diff.build.to)}</Code>
            </>
          ) : (
            <Text size="sm" c="dimmed">
              the same artifact (<Code>{shortDigest(diff.build.to)}</Code>)
            </Text>
          )}
        </Group>
      </section>
      <section aria-label="Config version">
        <Title order={4} size="h6" mb={4}>
          Config version
        </Title>
        <Text size="sm">
          {diff.configVersion.from === diff.configVersion.to ? (
            <>v{diff.configVersion.to} (unchanged)</>
          ) : (
            <>
              v{diff.configVersion.from} → v{diff.configVersion.to}
            </>
          )}
        </Text>
      </section>
      <section aria-label="Variables">
        <Title order={4} size="h6" mb={4}>
          Variables ({diff.variables.length} changed)
        </Title>
        {diff.variables.length === 0 ? (
          <Text size="sm" c="dimmed">
            No variable changed.
          </Text>
        ) : (
          <Table verticalSpacing={4} data-testid="diff-variables">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Change</Table.Th>
                <Table.Th scope="col">From</Table.Th>
                <Table.Th scope="col">To</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {diff.variables.map((v) => (
                <Table.Tr key={`${v.process}:${v.name}`} data-variable={v.name} data-change={v.change}>
                  <Table.Th scope="row">
                    <Text size="sm" ff="monospace" fw={600}>
                      {v.name}
                    </Text>
                    {v.secret && (
                      <Badge size="xs" color="grape" variant="light" radius="sm" tt="none">
                        secret
                      </Badge>
                    )}
                  </Table.Th>
                  <Table.Td>
                    <Badge size="sm" radius="sm" tt="none" variant="light" color={CHANGE_COLORS[v.change]}>
                      {v.change}
                    </Badge>
                  </Table.Td>
                  <Table.Td maw={260}>
                    <Value v={v.from} />
                  </Table.Td>
                  <Table.Td maw={260}>
                    <Value v={v.to} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </section>
      {diff.resources.length > 0 && (
        <section aria-label="Resources">
          <Title order={4} size="h6" mb={4}>
            Resources
          </Title>
          <Stack gap={4}>
            {diff.resources.map((r) => (
              <Text key={r.name} size="sm">
                <b>{r.name}</b>: <Value v={r.from} /> → <Value v={r.to} />
              </Text>
            ))}
          </Stack>
        </section>
      )}
      {diff.processes.length > 0 && (
        <section aria-label="Processes">
          <Title order={4} size="h6" mb={4}>
            Processes
          </Title>
          <Stack gap={4}>
            {diff.processes.map((p) => (
              <Text key={p.type} size="sm">
                <b>{p.type}</b>: <Value v={p.from} /> → <Value v={p.to} />
              </Text>
            ))}
          </Stack>
        </section>
      )}
    </Stack>
  );
}

/** Loads and shows the diff of two deployments (`<env>/<number>` addresses), older first. */
export function DiffModal({ api, from, to, onClose }: { api: DeploymentsClient; from: string; to: string; onClose(): void }) {
  const diff = useAsync((signal) => api.diff(from, to, signal), [api, from, to]);
  return (
    <Modal opened onClose={onClose} size="xl" title={<Text fw={700}>Changes from {from} to {to}</Text>}>
      {diff.status === 'loading' && <Loading label="Comparing" />}
      {diff.status === 'error' && <ProblemAlert error={diff.error} title="The deployments could not be compared" onRetry={diff.reload} />}
      {diff.status === 'ok' && <DiffView diff={diff.data} />}
    </Modal>
  );
}
