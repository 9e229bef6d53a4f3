import { EntityBrowser } from '../components/EntityBrowser.tsx';
import { PageHeader } from '../components/PageHeader.tsx';

export function ApplicationsPage() {
  return (
    <>
      <PageHeader title="Applications" description="Services, websites and libraries, with the team that owns each." />
      <EntityBrowser kind="application" noun="applications" columns={['owner', 'type', 'lifecycle', 'tags']} />
    </>
  );
}
