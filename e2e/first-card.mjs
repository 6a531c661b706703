#!/usr/bin/env node
// How long a phone on Fast 3G waits for the catalogue's first product card.
//
//   node e2e/first-card.mjs            # dist/ and target/debug/api-* as e2e/run.sh leaves them
//   FIRST_CARD_RUNS=9 node e2e/first-card.mjs
//
// Starts a shop of its own (lib/stack.mjs) whose SPA is served as the SPA image
// serves it (brotli/gzip, hashed assets cached, the landing page's Link preloads;
// lib/static-server.mjs `likeImage`), then loads `/` in Debian's Chromium at
// 390x844 with an empty cache, the network emulated through CDP (1.6 Mbps down,
// 750 kbps up, 150 ms round trip: issue 25's Fast 3G), FIRST_CARD_RUNS times
// (default 5). Prints each run and the median of: the first card in the page,
// its picture loaded, LCP, and when the WASM finished arriving with its size on
// the wire. Asserts nothing: figures are for comparing builds (speed figures are
// printed, never asserted by tests). Build the release dist first
// (`trunk build --release --offline`).
import { Stack } from './lib/stack.mjs';
import { launch } from './lib/browser.mjs';

const RUNS = Number(process.env.FIRST_CARD_RUNS ?? 5);
const FAST_3G = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1000 * 1000) / 8,
  uploadThroughput: (750 * 1000) / 8,
};

// In the page before anything else: when the first card is inserted, when its
// picture has loaded, and the LCP.
const probe = () => {
  const t = (window.__firstCard = { card: null, image: null, lcp: null });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) t.lcp = e.startTime;
  }).observe({ type: 'largest-contentful-paint', buffered: true });
  const watch = () => {
    const card = document.querySelector('[data-testid="product-card"]');
    if (!card) return false;
    t.card ??= performance.now();
    const img = card.querySelector('img');
    if (img && img.complete && img.naturalWidth > 0) {
      t.image ??= performance.now();
      return true;
    }
    img?.addEventListener('load', () => (t.image ??= performance.now()), { once: true });
    return false;
  };
  new MutationObserver((_, observer) => watch() && observer.disconnect()).observe(document, {
    childList: true,
    subtree: true,
  });
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

const stack = await Stack.start({ likeImage: true });
const browser = await launch();
const rows = [];
try {
  for (let i = 1; i <= RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.addInitScript(probe);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', FAST_3G);
    let wasmBytes = 0;
    page.on('requestfinished', async (r) => {
      if (r.url().endsWith('.wasm')) wasmBytes = (await r.sizes()).responseBodySize;
    });
    await page.goto(`${stack.spa}/`, { timeout: 120_000 });
    await page.waitForFunction(() => window.__firstCard?.image != null, null, { timeout: 120_000, polling: 100 });
    // LCP settles once the page stops painting larger things.
    await page.waitForTimeout(500);
    const got = await page.evaluate(() => {
      const wasm = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
      return { ...window.__firstCard, wasm: wasm?.responseEnd ?? null, encoded: wasm?.encodedBodySize ?? 0 };
    });
    got.bytes = got.encoded || wasmBytes;
    rows.push(got);
    console.log(
      `run ${i}: first card ${secs(got.card)}, its picture ${secs(got.image)}, LCP ${secs(got.lcp ?? got.image)}, ` +
        `WASM arrived ${secs(got.wasm)} (${(got.bytes / 1024).toFixed(1)} KiB on the wire)`,
    );
    await context.close();
  }
  console.log(
    `first product card on Fast 3G (1.6 Mbps/750 kbps/150 ms, 390x844, median of ${RUNS}): ` +
      `${secs(median(rows.map((r) => r.card)))}; picture ${secs(median(rows.map((r) => r.image)))}; ` +
      `LCP ${secs(median(rows.map((r) => r.lcp ?? r.image)))}; WASM arrived ${secs(median(rows.map((r) => r.wasm)))}`,
  );
} finally {
  await browser.close();
  await stack.shutdown();
}
