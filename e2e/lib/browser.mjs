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
export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

export async function openPage(browser, spa, { width = DESKTOP.width, height = DESKTOP.height, ...options } = {}) {
  const context = await browser.newContext({ baseURL: spa, viewport: { width, height }, ...options });
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

/**
 * Saves e2e/artifacts/<name>.png, after axe-core found no violation on the page:
 * every page state a test keeps a picture of is also checked.
 */
export async function screenshot(page, name, options) {
  await axe(page, name, options);
  await savePicture(page, name);
}

/** Saves e2e/artifacts/<name>.png as the page is now, with no check: for a test's failure. */
export async function savePicture(page, name) {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * axe-core on the page as it is now: every rule, any impact, zero violations.
 * `name` says which page state failed. `exclude`: selectors of parts that are
 * not the shop's (the payment provider's card field).
 */
export async function axe(page, name, { exclude = [] } = {}) {
  await animationsDone(page);
  const { AxeBuilder } = await import('@axe-core/playwright');
  let builder = new AxeBuilder({ page });
  for (const selector of exclude) builder = builder.exclude(selector);
  const result = await builder.analyze();
  const problems = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  if (problems.length) throw new Error(`axe on ${name}:\n${problems.join('\n')}`);
}

/**
 * Waits, 2 s at most, for the page's CSS animations and transitions that end
 * (not a spinner's) to end. axe measures colours as they are drawn: the toast,
 * 0.2 s into fading in, failed colour contrast once in a full run.
 */
async function animationsDone(page) {
  await page.evaluate(() => Promise.race([
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
        .map((a) => a.finished.catch(() => {})),
    ),
    new Promise((resolve) => setTimeout(resolve, 2_000)),
  ]));
}

/** A page state worth keeping: axe finds nothing, and a screenshot is saved. */
export async function check(page, name, options) {
  await screenshot(page, name, options);
}

/** Screenshots of the page at desktop and phone width, axe at both; back to desktop. */
export async function bothWidths(page, name, options) {
  const before = page.viewportSize();
  for (const [suffix, size] of [['desktop', DESKTOP], ['mobile', MOBILE]]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(50);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth + 1,
    );
    if (overflow) throw new Error(`${name}: sideways scrolling at ${size.width} px`);
    await screenshot(page, `${name}-${suffix}`, options);
  }
  await page.setViewportSize(before);
}
