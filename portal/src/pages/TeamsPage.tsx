import { EntityBrowser } from '../components/EntityBrowser.tsx';
import { PageHeader } from '../components/PageHeader.tsx';

export function TeamsPage() {
  return (
    <>
      <PageHeader title="Teams" description="Teams own applications; their members may change them." />
      <EntityBrowser kind="team" noun="teams" columns={['type', 'tags']} withOwnerFilter={false} />
    </>
  );
}
