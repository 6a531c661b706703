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
 * write to their databases), and starts any a test stopped again after it;
 * otherwise run.sh's shop is shared. `payments: true` (implies `own`) has the
 * orders service take payment through a Stripe emulator of its own (see
 * `Stack.start`). `ctx.stack` is the shop (`stop(name)`,
 * `makeAdmin(username)`), `ctx.page()` a fresh page closed after the test.
 */
export function useShop({ own = false, payments = false } = {}) {
  const ctx = { pages: [] };
  before(async () => {
    ctx.stack = own || payments ? await Stack.start({ payments }) : await sharedStack();
    ctx.urls = ctx.stack.urls;
    ctx.browser = await launch();
  });
  afterEach(async () => {
    const crashes = [];
    for (const p of ctx.pages.splice(0)) {
      crashes.push(...p.crashes);
      await p.context().close().catch(() => {});
    }
    // Services a test stopped come back before the next test, crash or not.
    if (own || payments) await ctx.stack.startAll();
    assert.deepEqual(crashes, [], 'the app did not crash');
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
