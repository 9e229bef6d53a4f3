import { NavLink, Stack } from '@mantine/core';
import { Link, useLocation } from 'react-router';
import { useCan } from '../api/permissions.ts';

const ITEMS = [
  { label: 'Catalog', to: '/catalog', description: 'Everything in the catalog', also: ['/entities/'] },
  { label: 'Applications', to: '/applications', description: 'Services, websites, libraries', also: [] },
  { label: 'Templates', to: '/templates', description: 'Golden paths and add-ons', also: [] },
  { label: 'Teams', to: '/teams', description: 'Who owns what', also: [] },
  { label: 'Fleet', to: '/fleet', description: 'Versions in use, upgrades', also: [] },
  { label: 'Audit', to: '/audit', description: 'Who did what, when', also: [], needs: 'audit.read' },
  { label: 'Jobs', to: '/jobs', description: 'Background work and servers', also: [], needs: 'audit.read' },
];

export function MainNav() {
  const { pathname } = useLocation();
  const can = useCan();
  return (
    <Stack gap={4} component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
      {ITEMS.filter((item) => !('needs' in item) || !item.needs || can(item.needs)).map((item) => {
        const active = pathname === item.to || pathname.startsWith(`${item.to}/`) || item.also.some((p) => pathname.startsWith(p));
        return (
          <li key={item.to}>
            <NavLink
              component={Link}
              to={item.to}
              label={item.label}
              description={item.description}
              active={active}
              aria-current={active ? 'page' : undefined}
              variant="light"
              style={{ borderRadius: 'var(--mantine-radius-md)' }}
            />
          </li>
        );
      })}
    </Stack>
  );
}
