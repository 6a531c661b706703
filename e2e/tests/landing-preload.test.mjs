// The landing page as the SPA image serves it: its `Link` header preloads the
// catalogue's first page beside the WASM, and the app reads that answer before
// it mounts (app/src/api/early.rs), so the cards are in the first frame it
// draws: no "Loading products…" frame, one layout, the pictures asked for at
// once. The answer is used once, for that first render only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ likeImage: true });
const FIRST_PAGE = '/api/products?limit=8&offset=0';

/** Records, frame by frame once the app's header is in, what the page shows. */
const recordFrames = () => {
  window.__frames = [];
  const tick = () => {
    if (document.querySelector('header.site-header')) {
      window.__frames.push({
        cards: document.querySelectorAll('[data-testid="product-card"]').length,
        loading: /Loading products/.test(document.body.textContent),
      });
    }
    if (window.__frames.length < 10) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
};

/** A page that counts its requests for the catalogue's first page. */
async function countingPage() {
  const page = await shop.page();
  const asked = [];
  page.on('request', (r) => {
    if (r.url().endsWith(FIRST_PAGE)) asked.push(r.url());
  });
  return { page, asked };
}

/**
 * Holds the WASM back until the preloaded first page has arrived, as it does on
 * a real first load (the WASM is the largest file by far), so the test never
 * depends on which of the two a busy machine finishes first.
 */
async function wasmAfterPreload(page) {
  const preloaded = page
    .waitForResponse((r) => r.url().endsWith(FIRST_PAGE))
    .then((r) => r.finished());
  await page.route('**/*.wasm', async (route) => {
    await preloaded;
    await route.continue();
  });
}

test('the preloaded first page is in the app\'s first frame, asked for once', T, async () => {
  const { page, asked } = await countingPage();
  await page.addInitScript(recordFrames);
  await wasmAfterPreload(page);
  await page.goto('/');
  await page.waitForFunction(() => window.__frames?.length >= 10, null, { polling: 50 });
  const frames = await page.evaluate(() => window.__frames);
  assert.equal(frames[0].cards, 8, `the first frame with the header shows the cards: ${JSON.stringify(frames)}`);
  assert.ok(frames.every((f) => !f.loading), `no frame says "Loading products…": ${JSON.stringify(frames)}`);
  assert.equal(asked.length, 1, `the first page is asked for once (the preload): ${asked.join(', ')}`);
});

test('the early answer is used once: the catalogue asks again when shown again', T, async () => {
  const { page, asked } = await countingPage();
  await wasmAfterPreload(page);
  await page.goto('/');
  const cards = page.getByTestId('product-card');
  await cards.first().waitFor();
  await cards.first().getByRole('link').click();
  await page.waitForURL(/\/product\//);
  await page.getByRole('heading', { level: 1 }).waitFor();
  const before = asked.length;
  await page.goBack();
  await cards.first().waitFor();
  assert.ok(asked.length > before, 'shown again, the first page is read from the service again');
});

test('another first page than the preloaded one is read as usual', T, async () => {
  const page = await shop.page();
  await wasmAfterPreload(page);
  await page.goto('/?sort=name');
  const titles = page.locator('[data-testid="product-card"] .card-title');
  await titles.first().waitFor();
  const names = await titles.allTextContents();
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)), 'sorted by name, not the preloaded page');
});
