import { createBrowserRouter, Navigate } from 'react-router';
import { AppLayout } from './components/AppLayout.tsx';
import { RequireAuth } from './components/RequireAuth.tsx';
import { ApplicationPage } from './pages/ApplicationPage.tsx';
import { ApplicationsPage } from './pages/ApplicationsPage.tsx';
import { AuditPage } from './pages/AuditPage.tsx';
import { CatalogPage } from './pages/CatalogPage.tsx';
import { EntityPage } from './pages/EntityPage.tsx';
import { FleetNewPlanPage } from './pages/FleetNewPlanPage.tsx';
import { FleetPage } from './pages/FleetPage.tsx';
import { FleetPlanPage } from './pages/FleetPlanPage.tsx';
import { FleetUpgradePage } from './pages/FleetUpgradePage.tsx';
import { JobsPage } from './pages/JobsPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { TemplatePage } from './pages/TemplatePage.tsx';
import { TemplatesPage } from './pages/TemplatesPage.tsx';
import { TeamPage } from './pages/TeamPage.tsx';
import { TeamsPage } from './pages/TeamsPage.tsx';

export const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInPage /> },
  {
    element: (
      <RequireAuth>
        <AppLayout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <Navigate to="/catalog" replace /> },
      { path: 'catalog', element: <CatalogPage /> },
      { path: 'applications', element: <ApplicationsPage /> },
      { path: 'applications/:namespace/:name', element: <ApplicationPage /> },
      { path: 'templates', element: <TemplatesPage /> },
      { path: 'templates/:name', element: <TemplatePage /> },
      { path: 'teams', element: <TeamsPage /> },
      { path: 'teams/:namespace/:name', element: <TeamPage /> },
      { path: 'entities/:kind/:namespace/:name', element: <EntityPage /> },
      { path: 'audit', element: <AuditPage /> },
      { path: 'jobs', element: <JobsPage /> },
      { path: 'fleet', element: <FleetPage /> },
      { path: 'fleet/plans/new', element: <FleetNewPlanPage /> },
      { path: 'fleet/plans/:id', element: <FleetPlanPage /> },
      { path: 'fleet/upgrades/:id', element: <FleetUpgradePage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
