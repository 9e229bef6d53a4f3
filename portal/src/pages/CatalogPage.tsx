import { EntityBrowser } from '../components/EntityBrowser.tsx';
import { PageHeader } from '../components/PageHeader.tsx';

export function CatalogPage() {
  return (
    <>
      <PageHeader title="Catalog" description="Every application, team, user, system, domain, API and resource Pave knows about." />
      <EntityBrowser noun="catalog entities" />
    </>
  );
}
