import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

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
