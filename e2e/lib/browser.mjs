// Debian's Chromium driven by playwright-core (no browser download).
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh page (own storage) on the SPA; collects page errors so a test can
 * assert the app never crashed.
 */
export async function openPage(browser, spa, { width = 1200, height = 900 } = {}) {
  const context = await browser.newContext({ baseURL: spa, viewport: { width, height } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.crashes = [];
  page.on('pageerror', (e) => page.crashes.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /panicked|RuntimeError|unreachable/.test(m.text())) {
      page.crashes.push(m.text());
    }
  });
  return page;
}

/** Loads a route of the SPA and waits until the app has rendered its header. */
export async function visit(page, path) {
  await page.goto(path);
  await page.locator('header.site-header').waitFor();
}

/** Saves e2e/artifacts/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
