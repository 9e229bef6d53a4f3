import { Alert, Badge, Button, Card, Center, Code, Group, Select, Stack, Table, Text, TextInput, Tooltip, VisuallyHidden } from '@mantine/core';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { AUDIT_FILTER_KEYS, download, useAuditApi, type AuditEvent, type AuditFilters, type AuditVerification } from '../api/audit.ts';
import { useSession } from '../api/session.tsx';
import { can } from '../api/permissions.ts';
import { useAsync } from '../api/useAsync.ts';
import { ago, fullTime, who } from '../components/deployments/format.ts';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';

const OUTCOME_COLORS: Record<string, string> = { succeeded: 'green', failed: 'red', denied: 'orange', started: 'blue', cancelled: 'gray', 'timed-out': 'red' };
const OUTCOMES = ['succeeded', 'failed', 'denied', 'started', 'cancelled', 'timed-out'];

/** The details worth a glance: HTTP status, the problem's title, the body digest (short), a run. */
function detailsText(e: AuditEvent): string {
  const d = e.details;
  const parts: string[] = [];
  if (typeof d.status === 'number') parts.push(String(d.status));
  const problem = d.problem as { title?: string } | undefined;
  if (problem?.title) parts.push(problem.title);
  if (typeof d.reason === 'string') parts.push(d.reason);
  if (typeof d.error === 'string') parts.push(d.error);
  if (typeof d.run === 'string') parts.push(`run ${d.run.slice(0, 8)}`);
  if (typeof d.bodyDigest === 'string') parts.push(`body ${d.bodyDigest.replace(/^sha256:/, '').slice(0, 12)}`);
  if (d.streamed === true) parts.push('streamed');
  return parts.join(' · ');
}

function Verification({ result }: { result: AuditVerification }) {
  const n = (k: number) => `${k} event${k === 1 ? '' : 's'}`;
  if (result.ok) {
    return (
      <Alert color="green" variant="light" title="The chain holds" data-testid="audit-verification" data-ok="true" role="status">
        {n(result.checked)} checked: each one matches its hash and links to the one before it.
      </Alert>
    );
  }
  const why = result.reason === 'edited' ? 'it does not match its hash: it was changed in the store' : 'it does not link to the event before it: an event was deleted, inserted or moved';
  return (
    <Alert color="red" variant="light" title={`The chain is broken at event ${result.brokenAt}`} data-testid="audit-verification" data-ok="false" role="alert">
      Event {result.brokenAt}: {why}. {n(result.checked)} before it {result.checked === 1 ? 'holds' : 'hold'}.
    </Alert>
  );
}

/** The audit log, for admins: who did what to which target and how it ended; filters in the URL, the chain verified on demand, export as JSON lines. */
export function AuditPage() {
  const { me } = useSession();
  const isAdmin = can(me, 'audit.read');
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, secret read, action run and token issued, with who did it, to what, and how it ended. Events are never changed: each is hashed with the one before it, so tampering in the store shows when the chain is verified."
      />
      {isAdmin ? (
        <AuditBrowser />
      ) : (
        <Alert color="gray" variant="light" title="Admins only">
          Only admins may read the audit log.
        </Alert>
      )}
    </>
  );
}

function AuditBrowser() {
  const audit = useAuditApi();
  const [params, setParams] = useSearchParams();
  const filters = useMemo<AuditFilters>(() => Object.fromEntries(AUDIT_FILTER_KEYS.map((k) => [k, params.get(k) ?? ''])), [params]);
  const key = AUDIT_FILTER_KEYS.map((k) => filters[k] ?? '').join('\u0000');
  const [form, setForm] = useState<AuditFilters>(filters);
  useEffect(() => setForm(filters), [key]); // eslint-disable-line react-hooks/exhaustive-deps -- the URL changed

  const first = useAsync((signal) => audit.list(filters, null, signal), [audit, key]);
  const [more, setMore] = useState<{ items: AuditEvent[]; cursor: string | null; loading: boolean; error: unknown } | null>(null);
  useEffect(() => setMore(null), [key, first.data]);
  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (first.data?.nextCursor ?? null);

  const [verification, setVerification] = useState<{ running: boolean; result: AuditVerification | null; error: unknown }>({ running: false, result: null, error: null });
  const [exporting, setExporting] = useState<{ running: boolean; error: unknown }>({ running: false, error: null });

  function apply(e: FormEvent) {
    e.preventDefault();
    const n = new URLSearchParams();
    for (const k of AUDIT_FILTER_KEYS) {
      const v = form[k]?.trim();
      if (v) n.set(k, v);
    }
    setParams(n, { replace: true });
  }

  async function loadMore() {
    if (!cursor) return;
    setMore((m) => ({ items: m?.items ?? [], cursor, loading: true, error: null }));
    try {
      const p = await audit.list(filters, cursor);
      setMore((m) => ({ items: [...(m?.items ?? []), ...p.items], cursor: p.nextCursor, loading: false, error: null }));
    } catch (error) {
      setMore((m) => ({ items: m?.items ?? [], cursor, loading: false, error }));
    }
  }

  async function verify() {
    setVerification({ running: true, result: null, error: null });
    try {
      setVerification({ running: false, result: await audit.verify(), error: null });
    } catch (error) {
      setVerification({ running: false, result: null, error });
    }
  }

  async function exportLines() {
    setExporting({ running: true, error: null });
    try {
      const { blob, filename } = await audit.export(filters);
      download(blob, filename);
      setExporting({ running: false, error: null });
    } catch (error) {
      setExporting({ running: false, error });
    }
  }

  const filtered = AUDIT_FILTER_KEYS.some((k) => filters[k]);
  const field = (k: keyof AuditFilters) => ({ value: form[k] ?? '', onChange: (e: { currentTarget: { value: string } }) => setForm((f) => ({ ...f, [k]: e.currentTarget.value })) });

  return (
    <Stack gap="md">
      <Card withBorder padding="md" component="search" aria-label="Filter audit events">
        <form onSubmit={apply}>
          <Group align="flex-end" gap="md" wrap="wrap">
            <TextInput label="Actor" placeholder="alice or user:default/alice" {...field('actor')} style={{ flex: '1 1 180px' }} />
            <TextInput label="Target starts with" placeholder="application:default/shop/" {...field('targetPrefix')} style={{ flex: '2 1 240px' }} />
            <TextInput label="Action" placeholder="deploy, secret.read, action.run" {...field('action')} style={{ flex: '1 1 160px' }} />
            <Select
              label="Outcome"
              placeholder="Any"
              data={OUTCOMES}
              value={form.outcome || null}
              onChange={(v) => setForm((f) => ({ ...f, outcome: v ?? '' }))}
              clearable
              style={{ flex: '0 1 150px' }}
            />
            <TextInput label="From" type="datetime-local" {...field('since')} style={{ flex: '0 1 200px' }} />
            <TextInput label="Until" type="datetime-local" {...field('until')} style={{ flex: '0 1 200px' }} />
            <Group gap="xs">
              <Button type="submit">Apply filters</Button>
              {filtered && (
                <Button variant="subtle" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
                  Clear
                </Button>
              )}
            </Group>
          </Group>
        </form>
      </Card>

      <Group justify="space-between" wrap="wrap">
        <Group gap="xs">
          <Button variant="default" onClick={verify} loading={verification.running}>
            Verify chain
          </Button>
          <Button variant="default" onClick={exportLines} loading={exporting.running}>
            Export JSON lines
          </Button>
        </Group>
        <Text size="xs" c="dimmed">
          The export holds every event matching the filters, oldest first.
        </Text>
      </Group>
      {verification.result && <Verification result={verification.result} />}
      {verification.error !== null && <ProblemAlert error={verification.error} title="The chain could not be verified" onRetry={verify} />}
      {exporting.error !== null && <ProblemAlert error={exporting.error} title="The export failed" onRetry={exportLines} />}

      <Card withBorder padding={0}>
        {first.status === 'loading' && <Loading label="Loading audit events" />}
        {first.status === 'error' && (
          <Stack p="md">
            <ProblemAlert error={first.error} title="The audit log could not be loaded" onRetry={first.reload} />
          </Stack>
        )}
        {first.status === 'ok' && items.length === 0 && (
          <Center p="xl">
            <Text c="dimmed" role="status">
              {filtered ? 'No audit events match these filters.' : 'The audit log is empty.'}
            </Text>
          </Center>
        )}
        {first.status === 'ok' && items.length > 0 && (
          <Table.ScrollContainer minWidth={900}>
            <Table verticalSpacing="xs" highlightOnHover data-testid="audit-events">
              <caption>
                <VisuallyHidden>{filtered ? 'Audit events matching the filters, newest first' : 'Audit events, newest first'}</VisuallyHidden>
              </caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">#</Table.Th>
                  <Table.Th scope="col">When</Table.Th>
                  <Table.Th scope="col">Actor</Table.Th>
                  <Table.Th scope="col">Action</Table.Th>
                  <Table.Th scope="col">Target</Table.Th>
                  <Table.Th scope="col">Outcome</Table.Th>
                  <Table.Th scope="col">Details</Table.Th>
                  <Table.Th scope="col">Request</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((e) => (
                  <Table.Tr key={e.id} data-event-id={e.id} data-actor={e.actor} data-outcome={e.outcome}>
                    <Table.Td>
                      <Text size="xs" c="dimmed">
                        {e.id}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={fullTime(e.at)}>
                        <Text size="sm" component="time" dateTime={e.at}>
                          {ago(e.at)}
                        </Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" title={e.actor}>
                        {who(e.actor)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Code>{e.action}</Code>
                    </Table.Td>
                    <Table.Td maw={360}>
                      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {e.target}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={OUTCOME_COLORS[e.outcome] ?? 'gray'} variant="light" size="sm">
                        {e.outcome}
                      </Badge>
                    </Table.Td>
                    <Table.Td maw={280}>
                      <Text size="xs" c="dimmed">
                        {detailsText(e)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {e.requestId ? (
                        <Text size="xs" ff="monospace" title={e.requestId}>
                          {e.requestId.slice(0, 8)}
                        </Text>
                      ) : (
                        <Text size="xs" c="dimmed">
                          —
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>

      {first.status === 'ok' && items.length > 0 && (
        <Group justify="space-between">
          <Text size="sm" c="dimmed" role="status" aria-live="polite">
            Showing {items.length} event{items.length === 1 ? '' : 's'}
            {cursor ? '; older ones are available' : ''}
          </Text>
          {cursor && (
            <Button variant="default" onClick={loadMore} loading={more?.loading ?? false}>
              Load older
            </Button>
          )}
        </Group>
      )}
      {more && more.error !== null && <ProblemAlert error={more.error} title="Older events could not be loaded" onRetry={loadMore} />}
    </Stack>
  );
}
