import { Alert, Button, Group, SegmentedControl, SimpleGrid, Stack, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { useDeploymentsApi, type Build, type BuildSource, type Deployment, type DeploymentEvent, type DeployOptions, type Release } from '../../api/deployments.ts';
import { useApi } from '../../api/session.tsx';
import { useCan } from '../../api/permissions.ts';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { Section } from '../Section.tsx';
import { BuildModal } from './BuildModal.tsx';
import { BuildsTable } from './BuildsTable.tsx';
import { ConfigPanel } from './ConfigPanel.tsx';
import { DeploymentHistory } from './DeploymentHistory.tsx';
import { DeployModal } from './DeployModal.tsx';
import { DiffModal } from './DiffModal.tsx';
import { EnvironmentCard } from './EnvironmentCard.tsx';
import { shortDigest } from './format.ts';
import { LiveLogs } from './LiveLogs.tsx';
import { OperationLog } from './OperationLog.tsx';
import { PromoteModal } from './PromoteModal.tsx';
import { RollbackModal } from './RollbackModal.tsx';
import { useOperation, type OperationOutcome } from './useOperation.ts';
import { usePoll } from './usePoll.ts';

/** How often the environments' status is polled while the page is open. */
const POLL_MS = 2000;

type View = 'history' | 'logs' | 'config' | 'builds';
const VIEW_NAMES: Record<View, string> = { history: 'Deployment history', logs: 'Live logs', config: 'Config', builds: 'Builds' };

function deploymentOutcome(d: Deployment, wanted: { release: boolean }): OperationOutcome {
  if (d.status === 'healthy') {
    return {
      ok: true,
      title: `Deployment #${d.number} is healthy${d.released ? ' and released' : ''}`,
      message: d.released
        ? `${d.environment} now serves build #${d.build.number} (${shortDigest(d.build.digest)}) with config v${d.configVersion}.`
        : `It runs build #${d.build.number} with config v${d.configVersion} and takes no traffic${wanted.release ? '' : ' until you release it'}.`,
    };
  }
  return { ok: false, title: `Deployment #${d.number} failed`, message: `${d.error ?? 'it did not become healthy'}. What was serving ${d.environment} keeps serving.`, details: d.lastLogs };
}

function releaseOutcome(r: Release, verb: string): OperationOutcome {
  return {
    ok: true,
    title: `${verb} deployment #${r.deployment.number} of ${r.environment}`,
    message: `${r.environment} serves deployment #${r.deployment.number} (build #${r.deployment.build.number}, config v${r.deployment.configVersion})${r.url ? ` at ${r.url}` : ''}; ${r.warm ? 'it was still running, so the switch was instant' : 'it was started again from its build and config snapshot'} (${r.durationMs} ms).`,
  };
}

function buildOutcome(b: Build): OperationOutcome {
  if (b.status === 'succeeded') {
    const processes = Object.keys(b.processes).join(', ') || 'none';
    return { ok: true, title: `Build #${b.number} succeeded`, message: `Artifact ${shortDigest(b.artifact?.digest)}${b.reused ? ' (reused from an earlier build of the same source)' : ''}; process types: ${processes}.` };
  }
  return { ok: false, title: `Build #${b.number} ${b.status}`, message: b.error ?? 'the build did not succeed' };
}

/**
 * The deployments of an application made from a template: per environment its status, URL, released
 * deployment and processes, with deploy, rollback and promote; builds; and for the chosen environment
 * its deployment history (release, diff), live logs and config. Nothing is shown for applications Pave
 * does not manage.
 */
export function DeploymentsSection({ namespace, name }: { namespace: string; name: string }) {
  const api = useDeploymentsApi(namespace, name);
  const client = useApi();
  // Only applications Pave manages (made from a template) have deployments: ask once, as the golden path section does.
  const managed = useAsync(
    (signal) =>
      client
        .golden(namespace, name)
        .get(signal)
        .then(
          () => true,
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return false;
            throw err;
          },
        ),
    [client, namespace, name],
  );
  const isManaged = managed.data === true;
  // the owning team, to show only the buttons the caller may use (the server checks every request anyway)
  const owner = useAsync((signal) => client.getEntity('application', namespace, name, signal).then((e) => (e.owner?.startsWith('team:') ? e.owner : null)), [client, namespace, name]);
  const can = useCan();
  const team = owner.data ?? null;
  const status = usePoll((signal) => api.status(signal), [api], POLL_MS, isManaged);
  const [buildsVersion, setBuildsVersion] = useState(0);
  const builds = useAsync(async (signal) => (isManaged ? api.builds(signal) : { items: [] }), [api, buildsVersion, isManaged], { keepData: true });
  const [historyVersion, setHistoryVersion] = useState(0);
  const op = useOperation((run) => {
    status.reload();
    setHistoryVersion((n) => n + 1);
    if (run.kind === 'build') setBuildsVersion((n) => n + 1);
  });
  const [chosenEnv, setChosenEnv] = useState<string | null>(null);
  const [view, setView] = useState<View>('history');
  const [building, setBuilding] = useState(false);
  const [deployTo, setDeployTo] = useState<string | null>(null);
  const [rollbackOf, setRollbackOf] = useState<string | null>(null);
  const [promoteFrom, setPromoteFrom] = useState<string | null>(null);
  const [diff, setDiff] = useState<{ from: string; to: string } | null>(null);

  const envs = status.data?.items ?? [];
  const env = envs.find((e) => e.name === chosenEnv) ?? envs[0] ?? null;
  const envName = env?.name ?? null;
  // The history reloads when what runs in the environment changes, and after every action.
  const signature = env ? `${env.released?.id ?? ''}|${env.deployments.map((d) => `${d.id}:${d.status}:${d.running}`).join(',')}` : '';
  const history = useAsync(async (signal) => (envName ? api.deployments(envName, signal) : { items: [] }), [api, envName, signature, historyVersion], { keepData: true });
  const historyItems = history.data?.items.filter((d) => d.environment === envName) ?? [];
  const numbers = useMemo(() => {
    const m = new Map<string, number>();
    for (const e of envs) for (const d of [...(e.released ? [e.released] : []), ...e.deployments]) m.set(d.id, d.number);
    for (const d of historyItems) m.set(d.id, d.number);
    return m;
  }, [envs, historyItems]);

  if (managed.status === 'loading' || managed.data === false) return null;
  if (managed.status === 'error') {
    return (
      <Section title="Deployments">
        <ProblemAlert error={managed.error} title="The deployments could not be loaded" onRetry={managed.reload} />
      </Section>
    );
  }
  if (!status.data) {
    if (status.loading) return null;
    // 404: the application is only in the catalog; Pave does not deploy it.
    if (status.error instanceof ApiError && status.error.status === 404) return null;
    return (
      <Section title="Deployments">
        <ProblemAlert error={status.error} title="The deployments could not be loaded" onRetry={status.reload} />
      </Section>
    );
  }

  const busy = op.busy;
  const buildItems = builds.data?.items ?? [];
  const stepLine = (push: (tag: string, text: string) => void) => (e: DeploymentEvent) => push(e.step, e.message);
  const select = (e: string) => setChosenEnv(e);

  const startBuild = (source: BuildSource) => {
    setBuilding(false);
    const what = 'path' in source ? source.path : `${source.git.url}#${source.git.ref}`;
    op.start('build', `Build from ${what}`, null, async (push, signal) => buildOutcome(await api.build(source, (l) => push(l.stream, l.line), signal)));
  };
  const startDeploy = (target: string, opts: DeployOptions) => {
    setDeployTo(null);
    select(target);
    op.start('deploy', `Deploy build #${opts.build ?? 'latest'} to ${target}${opts.release ? ' and release' : ''}`, target, async (push, signal) =>
      deploymentOutcome(await api.deploy(target, opts, stepLine(push), signal), opts),
    );
  };
  const startRelease = (target: string, d: Deployment) => {
    select(target);
    op.start('release', `Release deployment #${d.number} of ${target}`, target, async (push, signal) => releaseOutcome(await api.release(target, d.number, stepLine(push), signal), 'Released'));
  };
  const startRollback = (target: string, to: number | undefined) => {
    setRollbackOf(null);
    select(target);
    op.start('rollback', `Roll back ${target}${to !== undefined ? ` to #${to}` : ''}`, target, async (push, signal) => releaseOutcome(await api.rollback(target, to, stepLine(push), signal), 'Rolled back to'));
  };
  const startPromote = (from: string, to: string, release: boolean) => {
    setPromoteFrom(null);
    select(to);
    op.start('promote', `Promote ${from} to ${to}${release ? ' and release' : ''}`, to, async (push, signal) => deploymentOutcome(await api.promote(from, to, release, stepLine(push), signal), { release }));
  };

  const promoteSource = envs.find((e) => e.name === promoteFrom);

  return (
    <Section
      title="Deployments"
      actions={
        <Button variant="light" size="xs" onClick={() => setBuilding(true)} disabled={busy || !can('application.write', { team })} data-testid="build-button">
          Build
        </Button>
      }
    >
      <Stack gap="lg" data-testid="deployments-section">
        {status.error !== null && (
          <Alert color="yellow" variant="light" title="Live status is out of date">
            <Text size="sm">The last status check failed: {status.error instanceof Error ? status.error.message : String(status.error)}. Retrying every few seconds.</Text>
          </Alert>
        )}
        {op.run && <OperationLog run={op.run} onDismiss={op.dismiss} />}

        {envs.length === 0 ? (
          <Text size="sm" c="dimmed">
            This application has no environments to deploy to.
          </Text>
        ) : (
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
            {envs.map((e) => (
              <EnvironmentCard
                key={e.name}
                env={e}
                selected={e.name === envName}
                busy={busy}
                canPromote={envs.length > 1}
                onSelect={() => select(e.name)}
                onDeploy={() => {
                  setBuildsVersion((n) => n + 1);
                  setDeployTo(e.name);
                }}
                onRollback={() => setRollbackOf(e.name)}
                onPromote={() => setPromoteFrom(e.name)}
                allowed={{ deploy: can('deploy', { team, environmentType: e.type }), release: can('release', { team, environmentType: e.type }) }}
              />
            ))}
          </SimpleGrid>
        )}

        {env && (
          <div>
            {/* Segmented controls, not tabs: the page's tabs are the golden path's environments. */}
            <Group gap="lg" mb="md" wrap="wrap">
              {envs.length > 1 && (
                <Group gap="xs">
                  <Text size="sm" fw={600} id="deployments-env-label">
                    Environment
                  </Text>
                  <SegmentedControl aria-labelledby="deployments-env-label" size="xs" value={env.name} onChange={select} data={envs.map((e) => e.name)} data-testid="deployments-env" />
                </Group>
              )}
              <Group gap="xs">
                <Text size="sm" fw={600} id="deployments-view-label">
                  Show
                </Text>
                <SegmentedControl
                  aria-labelledby="deployments-view-label"
                  value={view}
                  onChange={(v) => setView(v as View)}
                  data={[
                    { value: 'history', label: 'History' },
                    { value: 'logs', label: 'Live logs' },
                    { value: 'config', label: 'Config' },
                    { value: 'builds', label: buildItems.length > 0 ? `Builds (${buildItems.length})` : 'Builds' },
                  ]}
                  data-testid="deployments-view"
                />
              </Group>
            </Group>
            <section aria-label={`${VIEW_NAMES[view]} of ${view === 'builds' ? name : env.name}`} data-view={view}>
              {view === 'history' && (
                <>
                  {history.status === 'loading' && historyItems.length === 0 && <Loading label={`Loading the deployments of ${env.name}`} />}
                  {history.status === 'error' && <ProblemAlert error={history.error} title="The deployments could not be loaded" onRetry={history.reload} />}
                  {history.status === 'ok' && (
                    <DeploymentHistory
                      key={env.name}
                      environment={env.name}
                      deployments={historyItems}
                      busy={busy}
                      onRelease={(d) => startRelease(env.name, d)}
                      onCompare={(a, b) => setDiff({ from: `${a.environment}/${a.number}`, to: `${b.environment}/${b.number}` })}
                    />
                  )}
                </>
              )}
              {view === 'logs' && <LiveLogs key={env.name} api={api} environment={env.name} numbers={numbers} />}
              {view === 'config' && <ConfigPanel key={env.name} api={api} environment={env.name} releasedConfigVersion={env.released?.configVersion ?? null} />}
              {view === 'builds' && (
                <>
                  {builds.status === 'loading' && buildItems.length === 0 && <Loading label="Loading the builds" />}
                  {builds.status === 'error' && <ProblemAlert error={builds.error} title="The builds could not be loaded" onRetry={builds.reload} />}
                  {builds.status === 'ok' && <BuildsTable builds={buildItems} />}
                </>
              )}
            </section>
          </div>
        )}
      </Stack>

      {building && <BuildModal application={name} onClose={() => setBuilding(false)} onBuild={startBuild} />}
      {deployTo && (
        <DeployModal
          environment={deployTo}
          builds={{ status: builds.status, items: buildItems, error: builds.error, reload: builds.reload }}
          onClose={() => setDeployTo(null)}
          onDeploy={(opts) => startDeploy(deployTo, opts)}
        />
      )}
      {rollbackOf && <RollbackModal environment={rollbackOf} api={api} onClose={() => setRollbackOf(null)} onRollback={(to) => startRollback(rollbackOf, to)} />}
      {promoteSource?.released && (
        <PromoteModal
          from={promoteSource.name}
          releasedLabel={`deployment #${promoteSource.released.number} (build #${promoteSource.released.build.number})`}
          targets={envs.filter((e) => e.name !== promoteSource.name).map((e) => e.name)}
          onClose={() => setPromoteFrom(null)}
          onPromote={(to, release) => startPromote(promoteSource.name, to, release)}
        />
      )}
      {diff && <DiffModal api={api} from={diff.from} to={diff.to} onClose={() => setDiff(null)} />}
    </Section>
  );
}
