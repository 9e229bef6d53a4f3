import { Badge, Button, Card, Center, Group, SegmentedControl, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { isFinal, useFleetApi, type FleetPattern, type PatternKind } from '../api/fleet.ts';
import { useSession } from '../api/session.tsx';
import { useAsync } from '../api/useAsync.ts';
import { usePoll } from '../components/deployments/usePoll.ts';
import { FleetApplicationsTable, type DrillFilters } from '../components/fleet/FleetApplicationsTable.tsx';
import { FleetPatternsTable, planLink } from '../components/fleet/FleetPatternsTable.tsx';
import { KIND_LABEL } from '../components/fleet/format.ts';
import { mayAnywhere } from '../components/fleet/permissions.ts';
import { PatternVersions } from '../components/fleet/PatternVersions.tsx';
import { UpgradesTable } from '../components/fleet/UpgradesTable.tsx';
import { VersionSpreadChart } from '../components/fleet/VersionSpreadChart.tsx';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';
import { Section } from '../components/Section.tsx';

const DRILL_KEYS = ['version', 'team', 'environmentType', 'behind'] as const;
const UPGRADES_POLL_MS = 3000;

function Figure({ label, value, detail, testId }: { label: string; value: string | number; detail?: string; testId: string }) {
  return (
    <Card withBorder padding="sm" radius="md" data-testid={testId}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={`${testId}-value`}>
        {value}
      </Text>
      {detail && (
        <Text size="xs" c="dimmed">
          {detail}
        </Text>
      )}
    </Card>
  );
}

/**
 * The fleet: per template and add-on, how many applications and environments run each version and
 * which are behind (a chart of the version spread and a table), pins, a drill-down of the
 * applications on one of them (?kind=&name= and its filters in the URL), and the recent upgrades.
 * Everyone signed in sees it; planning needs to write applications somewhere (a plan holds only the
 * applications the caller may read), and starting an upgrade platform.write.
 */
export function FleetPage() {
  const fleet = useFleetApi();
  const { me } = useSession();
  const [params, setParams] = useSearchParams();
  const view = useAsync((signal) => fleet.view(signal), [fleet], { keepData: true });
  const upgrades = usePoll((signal) => fleet.upgrades({ limit: 20 }, signal), [fleet], UPGRADES_POLL_MS);
  const detail = useRef<HTMLDivElement>(null);

  const show = params.get('show');
  const kindFilter: PatternKind | null = show === 'template' || show === 'addon' ? show : null;
  const measure = params.get('measure') === 'environments' ? 'environments' : 'applications';
  const selectedKind = (params.get('kind') === 'addon' ? 'addon' : 'template') satisfies PatternKind;
  const selectedName = params.get('name');
  const items = useMemo(() => view.data?.items ?? [], [view.data]);
  const shown = items.filter((p) => !kindFilter || p.kind === kindFilter);
  const selected = selectedName ? (items.find((p) => p.kind === selectedKind && p.name === selectedName) ?? null) : null;
  const filters: DrillFilters = { version: params.get('version') ?? '', team: params.get('team') ?? '', environmentType: params.get('environmentType') ?? '', behind: params.get('behind') ?? '' };
  const mayPlan = mayAnywhere(me, ['application.write', 'platform.write']);

  // The URL as last set: changes made before the next render (two filters in a row) build on each other.
  const latest = useRef(params);
  useEffect(() => {
    latest.current = params;
  }, [params]);
  const setParam = (patch: Record<string, string | null>) => {
    const n = new URLSearchParams(latest.current);
    for (const [k, v] of Object.entries(patch)) {
      if (v) n.set(k, v);
      else n.delete(k);
    }
    latest.current = n;
    setParams(n, { replace: true });
  };
  const select = (p: FleetPattern, version?: string) => {
    setParam({ kind: p.kind, name: p.name, ...Object.fromEntries(DRILL_KEYS.map((k) => [k, null])), ...(version ? { version } : {}) });
    requestAnimationFrame(() => detail.current?.scrollIntoView({ behavior: 'smooth', block: 'start' }));
  };

  const totals = useMemo(() => {
    const templates = items.filter((p) => p.kind === 'template');
    return {
      applications: templates.reduce((n, p) => n + p.applications, 0),
      behind: templates.reduce((n, p) => n + p.behind, 0),
      behindAddons: items.filter((p) => p.kind === 'addon').reduce((n, p) => n + p.behind, 0),
      pins: items.reduce((n, p) => n + p.pins.length, 0),
    };
  }, [items]);
  const running = (upgrades.data?.items ?? []).filter((u) => !isFinal(u.status)).length;

  return (
    <>
      <PageHeader
        title="Fleet"
        description="Which version of each template and add-on your applications run, which are behind, and who pinned what. Plan an upgrade to review what would change per application, then roll it out in waves: a canary first, stopping on failure."
      />
      <Stack gap="lg">
        {view.status === 'error' && <ProblemAlert error={view.error} title="The fleet could not be loaded" onRetry={view.reload} />}
        {view.status === 'loading' && <Loading label="Loading the fleet" />}
        {view.data && (
          <>
            <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
              <Figure label="Applications" value={totals.applications} detail="made from a template" testId="fleet-total-applications" />
              <Figure label="Behind on their template" value={totals.behind} detail="on an older version than the latest" testId="fleet-total-behind" />
              <Figure label="Add-ons behind" value={totals.behindAddons} detail="add-on instances on an older version" testId="fleet-total-behind-addons" />
              <Figure label="Pins" value={totals.pins} detail="applications held at their version" testId="fleet-total-pins" />
            </SimpleGrid>

            <Section
              title="Version spread"
              actions={
                <Group gap="xs">
                  <SegmentedControl
                    size="xs"
                    aria-label="Show"
                    value={kindFilter ?? 'all'}
                    onChange={(v) => setParam({ show: v === 'all' ? null : v })}
                    data={[
                      { value: 'all', label: 'All' },
                      { value: 'template', label: 'Templates' },
                      { value: 'addon', label: 'Add-ons' },
                    ]}
                  />
                  <SegmentedControl
                    size="xs"
                    aria-label="Count"
                    value={measure}
                    onChange={(v) => setParam({ measure: v === 'environments' ? v : null })}
                    data={[
                      { value: 'applications', label: 'Applications' },
                      { value: 'environments', label: 'Environments' },
                    ]}
                    data-testid="fleet-measure"
                  />
                  <Button size="xs" variant="default" onClick={view.reload}>
                    Refresh
                  </Button>
                </Group>
              }
            >
              {shown.length === 0 ? (
                <Center p="lg">
                  <Text c="dimmed" size="sm" role="status">
                    The platform team has published no {kindFilter === 'addon' ? 'add-ons' : kindFilter === 'template' ? 'templates' : 'templates or add-ons'} yet.
                  </Text>
                </Center>
              ) : (
                <Stack gap="lg">
                  <VersionSpreadChart patterns={shown} measure={measure} onSelect={select} />
                  <FleetPatternsTable items={shown} selected={selected ? `${selected.kind}:${selected.name}` : null} onSelect={(p) => select(p)} mayPlan={mayPlan} />
                </Stack>
              )}
            </Section>

            <div ref={detail} style={{ scrollMarginTop: 80 }}>
              {selectedName && !selected && (
                <ProblemAlert error={new Error(`No ${KIND_LABEL[selectedKind].toLowerCase()} ${selectedName} is published or in use.`)} title="Not found" />
              )}
              {selected && (
                <Section
                  title={`${selected.title ?? selected.name} (${KIND_LABEL[selected.kind].toLowerCase()})`}
                  actions={
                    <Group gap="xs">
                      <Badge variant="light" color="green" tt="none">
                        latest {selected.latest ?? '—'}
                      </Badge>
                      {mayPlan && (
                        <Button component={Link} to={planLink(selected)} size="xs" data-testid="plan-upgrade">
                          Plan upgrade
                        </Button>
                      )}
                      <Button size="xs" variant="subtle" onClick={() => setParam({ kind: null, name: null, ...Object.fromEntries(DRILL_KEYS.map((k) => [k, null])) })}>
                        Close
                      </Button>
                    </Group>
                  }
                >
                  <Stack gap="lg" data-testid="fleet-pattern" data-pattern={selected.name} data-kind={selected.kind}>
                    <PatternVersions pattern={selected} onVersion={(v) => setParam({ version: v, behind: null })} />
                    <section aria-labelledby="fleet-apps-title">
                      <Title order={3} size="h5" mb={6} id="fleet-apps-title">
                        Applications
                      </Title>
                      <FleetApplicationsTable pattern={selected} filters={filters} onFilters={setParam} />
                    </section>
                  </Stack>
                </Section>
              )}
            </div>
          </>
        )}

        <Section title="Upgrades" actions={running > 0 ? <Badge color="blue">{running} running</Badge> : undefined}>
          {upgrades.data === null && upgrades.loading && <Loading label="Loading the upgrades" />}
          {upgrades.data === null && !upgrades.loading && upgrades.error !== null && <ProblemAlert error={upgrades.error} title="The upgrades could not be loaded" onRetry={upgrades.reload} />}
          {upgrades.data !== null && <UpgradesTable items={upgrades.data.items} />}
        </Section>
      </Stack>
    </>
  );
}
