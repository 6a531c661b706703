// What every browser test file shares: a running shop, a browser, fresh pages that
// are closed after each test, and a check that the app never crashed.
import { before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sharedStack } from './stack.mjs';
import { launch, openPage } from './browser.mjs';

/** Every test is bounded: a hung page fails instead of stalling the suite. */
export const T = { timeout: 90_000 };

/**
 * `own: true` starts services for this file alone (tests that stop services or
 * write to their databases); otherwise run.sh's shop is shared.
 */
export function useShop({ own = false } = {}) {
  const ctx = { pages: [] };
  before(async () => {
    ctx.stack = own ? await Stack.start() : await sharedStack();
    ctx.urls = ctx.stack.urls;
    ctx.browser = await launch();
  });
  afterEach(async () => {
    const pages = ctx.pages.splice(0);
    for (const p of pages) {
      const crashes = p.crashes;
      await p.context().close().catch(() => {});
      assert.deepEqual(crashes, [], 'the app did not crash');
    }
    if (own) await ctx.stack.startAll();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.stack?.shutdown();
  });
  ctx.page = async (options) => {
    const p = await openPage(ctx.browser, ctx.stack.spa, options);
    ctx.pages.push(p);
    return p;
  };
  return ctx;
}
