import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The browser tests' Chromium (Debian's, headless) and the built portal they need. */
export const PORTAL_INDEX = path.resolve(import.meta.dirname, '../../portal/dist/index.html');
export const CHROMIUM = process.env.PAVE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
}

/** Polls `cond` every 50 ms until it holds, or fails naming `what`. */
export async function until(what: string, cond: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A browser with one page signed in to the portal with the server's admin token; page errors and
 * console errors are collected into `errors` (tests assert it stays empty).
 */
export async function signedInPortal(server: { url: string; token: string }, o: { timeout: number; height?: number; errors: string[] }): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: o.height ?? 900 }, baseURL: server.url });
  context.setDefaultTimeout(o.timeout);
  const page = await context.newPage();
  page.on('pageerror', (err) => o.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') o.errors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  await page.goto('/sign-in');
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/catalog');
  return { browser, page };
}
