import { AppShell, Burger, Group } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect, useRef } from 'react';
import { Outlet, useLocation } from 'react-router';
import { Brand } from './Brand.tsx';
import { MainNav } from './MainNav.tsx';
import { UserMenu } from './UserMenu.tsx';

/** Header (brand, signed-in user, sign out), navigation, and the page. */
export function AppLayout() {
  const [navOpen, nav] = useDisclosure(false);
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After client-side navigation, move focus to the new page, as a full page load would; close the mobile menu.
  useEffect(() => {
    nav.close();
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only on a new path
  }, [pathname]);

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !navOpen } }} padding="lg">
      <a href="#main" className="pave-skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={navOpen} onClick={nav.toggle} hiddenFrom="sm" size="sm" aria-label={navOpen ? 'Close navigation' : 'Open navigation'} />
            <Brand />
          </Group>
          <UserMenu />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Main">
        <MainNav />
      </AppShell.Navbar>
      <AppShell.Main id="main" ref={main} tabIndex={-1} bg="gray.0">
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
