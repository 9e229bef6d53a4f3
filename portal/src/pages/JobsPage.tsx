import { Alert, Badge, Button, Card, Center, Code, Group, Select, Stack, Table, Text, TextInput, Tooltip, VisuallyHidden } from '@mantine/core';
import { Fragment, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { JOB_STATE_COLORS, JOB_STATES, JOBS_POLL_MS, jobEventText, subjectText, useJobsApi, type JobFilters, type JobView, type ServerList } from '../api/jobs.ts';
import { can } from '../api/permissions.ts';
import { useSession } from '../api/session.tsx';
import { useAsync } from '../api/useAsync.ts';
import { ago, duration, fullTime, who } from '../components/deployments/format.ts';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';

/** A tick every `ms` while the page is open: what polls re-read on. */
function usePoll(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return tick;
}

/** Jobs of the installation, for admins and platform engineers (audit.read): which server runs what, live (polled), with takeovers; and the servers. */
export function JobsPage() {
  const { me } = useSession();
  return (
    <>
      <PageHeader
        title="Jobs"
        description="Background work any Pave server of this installation may run, such as provisioning an environment's resources. One server runs a job at a time and renews its lease; when a server dies, another takes its jobs over and runs them again from the start."
      />
      {can(me, 'audit.read') ? (
        <JobsBrowser />
      ) : (
        <Alert color="gray" variant="light" title="Admins and platform engineers only">
          Only who may read the audit log (admins, platform engineers) may see the jobs and servers of the installation.
        </Alert>
      )}
    </>
  );
}

function JobsBrowser() {
  const api = useJobsApi();
  const tick = usePoll(JOBS_POLL_MS);
  const [params, setParams] = useSearchParams();
  const filters = useMemo<JobFilters>(() => ({ kind: params.get('kind') ?? '', state: params.get('state') ?? '' }), [params]);
  const [kind, setKind] = useState(filters.kind ?? '');
  const jobs = useAsync((signal) => api.list(filters, signal), [api, filters.kind, filters.state, tick], { keepData: true });
  const servers = useAsync((signal) => api.servers(signal), [api, tick], { keepData: true });
  const [open, setOpen] = useState<string | null>(null);
  const hosts = useMemo(() => new Map((servers.data?.items ?? []).map((s) => [s.id, `${s.host} (pid ${s.pid})`])), [servers.data]);
  const hostOf = (id: string | null) => (id ? (hosts.get(id) ?? `server ${id.slice(0, 8)}`) : 'a server');

  const set = (k: keyof JobFilters, v: string) => {
    const n = new URLSearchParams(params);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(n, { replace: true });
  };

  return (
    <Stack gap="md">
      <Servers state={servers} />
      <Card withBorder padding="md" component="search" aria-label="Filter jobs">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            set('kind', kind.trim());
          }}
        >
          <Group align="flex-end" gap="md" wrap="wrap">
            <TextInput label="Kind" placeholder="resources.apply" value={kind} onChange={(e) => setKind(e.currentTarget.value)} style={{ flex: '1 1 200px' }} />
            <Select label="State" placeholder="Any" data={JOB_STATES} value={filters.state || null} onChange={(v) => set('state', v ?? '')} clearable style={{ flex: '0 1 160px' }} />
            <Button type="submit">Apply</Button>
          </Group>
        </form>
      </Card>
      <Card withBorder padding={0}>
        {jobs.status === 'loading' && <Loading label="Loading jobs" />}
        {jobs.status === 'error' && (
          <Stack p="md">
            <ProblemAlert error={jobs.error} title="The jobs could not be loaded" onRetry={jobs.reload} />
          </Stack>
        )}
        {jobs.status === 'ok' && jobs.data.items.length === 0 && (
          <Center p="xl">
            <Text c="dimmed" role="status">
              {filters.kind || filters.state ? 'No jobs match these filters.' : 'No jobs yet: applying an environment\'s resources runs one.'}
            </Text>
          </Center>
        )}
        {jobs.status === 'ok' && jobs.data.items.length > 0 && (
          <Table.ScrollContainer minWidth={900}>
            <Table verticalSpacing="xs" highlightOnHover data-testid="jobs">
              <caption>
                <VisuallyHidden>Jobs, newest first, refreshed every {JOBS_POLL_MS / 1000} seconds</VisuallyHidden>
              </caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Job</Table.Th>
                  <Table.Th scope="col">Kind</Table.Th>
                  <Table.Th scope="col">Subject</Table.Th>
                  <Table.Th scope="col">State</Table.Th>
                  <Table.Th scope="col">Attempts</Table.Th>
                  <Table.Th scope="col">Server</Table.Th>
                  <Table.Th scope="col">By</Table.Th>
                  <Table.Th scope="col">Created</Table.Th>
                  <Table.Th scope="col">Duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {jobs.data.items.map((j) => (
                  <Fragment key={j.id}>
                    <JobRow job={j} host={j.serverHost ?? (j.server ? hostOf(j.server) : '—')} open={open === j.id} toggle={() => setOpen(open === j.id ? null : j.id)} />
                    {open === j.id && (
                      <Table.Tr>
                        <Table.Td colSpan={9}>
                          <JobEvents id={j.id} tick={tick} hostOf={hostOf} />
                        </Table.Td>
                      </Table.Tr>
                    )}
                  </Fragment>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
    </Stack>
  );
}

function JobRow({ job: j, host, open, toggle }: { job: JobView; host: string; open: boolean; toggle: () => void }) {
  return (
    <Table.Tr data-job={j.id} data-state={j.state}>
      <Table.Td>
        <Button variant="subtle" size="compact-sm" onClick={toggle} aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} the events of job ${j.id.slice(0, 8)}`}>
          <Code>{j.id.slice(0, 8)}</Code>
        </Button>
      </Table.Td>
      <Table.Td>{j.kind}</Table.Td>
      <Table.Td>{subjectText(j.subject)}</Table.Td>
      <Table.Td>
        <Tooltip label={j.error?.detail ?? (j.state === 'running' && j.leaseExpiresAt ? `lease until ${fullTime(j.leaseExpiresAt)}` : j.state)} multiline maw={420}>
          <Badge color={JOB_STATE_COLORS[j.state]} variant="light">
            {j.state}
          </Badge>
        </Tooltip>
      </Table.Td>
      <Table.Td>
        {j.attempts}
        {j.takeovers > 0 && (
          <Badge ml={6} color="orange" variant="light" size="sm">
            {j.takeovers} takeover{j.takeovers === 1 ? '' : 's'}
          </Badge>
        )}
      </Table.Td>
      <Table.Td>{host}</Table.Td>
      <Table.Td>{who(j.createdBy)}</Table.Td>
      <Table.Td>
        <Tooltip label={fullTime(j.createdAt)}>
          <span>{ago(j.createdAt)}</span>
        </Tooltip>
      </Table.Td>
      <Table.Td>{duration(j.durationMs)}</Table.Td>
    </Table.Tr>
  );
}

function JobEvents({ id, tick, hostOf }: { id: string; tick: number; hostOf: (id: string | null) => string }) {
  const api = useJobsApi();
  const job = useAsync((signal) => api.get(id, signal), [api, id, tick], { keepData: true });
  if (job.status === 'loading') return <Loading label="Loading the job's events" />;
  if (job.status === 'error') return <ProblemAlert error={job.error} title="The job could not be loaded" onRetry={job.reload} />;
  return (
    <Stack gap={4} data-testid="job-events">
      {job.data.error && (
        <Alert color="red" variant="light" title={job.data.error.title}>
          {job.data.error.detail}
          {job.data.error.message ? ` (${job.data.error.message})` : ''}
        </Alert>
      )}
      {job.data.events.map((e) => (
        <Text key={e.id} size="sm" ff="monospace">
          {new Date(e.at).toLocaleTimeString()} #{e.attempt} {jobEventText(e, hostOf)}
        </Text>
      ))}
    </Stack>
  );
}

function Servers({ state }: { state: ReturnType<typeof useAsync<ServerList>> }) {
  if (state.status === 'loading') return <Loading label="Loading servers" />;
  if (state.status === 'error') return <ProblemAlert error={state.error} title="The servers could not be loaded" onRetry={state.reload} />;
  const s = state.data;
  return (
    <Card withBorder padding="md" aria-label="Servers">
      <Text fw={600} mb={4}>
        Servers
      </Text>
      <Text size="sm" c="dimmed" mb="xs">
        {s.multiServer ? 'A multi-server installation' : 'A single-server installation'}: {s.reason}. Job lease {s.leaseSeconds} s.
        {s.multiServer ? ' The local process runtime, being single-host, refuses production deployments here.' : ''}
      </Text>
      <Table verticalSpacing={4} data-testid="servers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Host</Table.Th>
            <Table.Th scope="col">PID</Table.Th>
            <Table.Th scope="col">Version</Table.Th>
            <Table.Th scope="col">Live</Table.Th>
            <Table.Th scope="col">Last heartbeat</Table.Th>
            <Table.Th scope="col">Running jobs</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {s.items.map((x) => (
            <Table.Tr key={x.id}>
              <Table.Td>
                {x.host}
                {x.self ? ' (this one)' : ''}
              </Table.Td>
              <Table.Td>{x.pid}</Table.Td>
              <Table.Td>{x.version}</Table.Td>
              <Table.Td>
                <Badge color={x.live ? 'green' : 'red'} variant="light">
                  {x.live ? 'live' : 'gone'}
                </Badge>
              </Table.Td>
              <Table.Td>{ago(x.lastSeen)}</Table.Td>
              <Table.Td>{x.runningJobs}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Card>
  );
}
