import { Tabs } from '@mantine/core';
import { useSearchParams } from 'react-router';
import { useApi } from '../api/session.tsx';
import { useAsync } from '../api/useAsync.ts';
import { PageHeader } from '../components/PageHeader.tsx';
import { AddOnCard } from '../components/templates/AddOnCard.tsx';
import { PatternGallery } from '../components/templates/PatternGallery.tsx';
import { PlatformSource } from '../components/templates/PlatformSource.tsx';
import { TemplateCard } from '../components/templates/TemplateCard.tsx';

/** The golden patterns: templates to make applications from, and add-ons to attach to them. The tab is in the URL (?tab=addons). */
export function TemplatesPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'addons' ? 'addons' : 'templates';
  const templates = useAsync((signal) => api.templates.list(signal), [api]);
  const addons = useAsync((signal) => api.addons.list(signal), [api]);
  const count = (s: { status: string; data: { items: unknown[] } | null }) => (s.status === 'ok' && s.data ? ` (${s.data.items.length})` : '');

  return (
    <>
      <PageHeader
        title="Templates"
        description="Golden paths your platform team publishes. Create an application from a template, then attach the add-ons it needs: Pave provisions and wires them in every environment."
      />
      <Tabs
        value={tab}
        onChange={(v) =>
          setParams(
            (p) => {
              const n = new URLSearchParams(p);
              if (v === 'addons') n.set('tab', 'addons');
              else n.delete('tab');
              return n;
            },
            { replace: true },
          )
        }
        keepMounted={false}
      >
        <Tabs.List mb="lg">
          <Tabs.Tab value="templates">Templates{count(templates)}</Tabs.Tab>
          <Tabs.Tab value="addons">Add-ons{count(addons)}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="templates">
          <PatternGallery list={templates} noun="templates" card={(t) => <TemplateCard template={t} />} />
        </Tabs.Panel>
        <Tabs.Panel value="addons">
          <PatternGallery list={addons} noun="add-ons" card={(a) => <AddOnCard addon={a} />} />
        </Tabs.Panel>
      </Tabs>
      <footer style={{ marginTop: 'var(--mantine-spacing-lg)' }}>
        <PlatformSource />
      </footer>
    </>
  );
}
