// Issue 10, (9): the card's focus ring is whole and has >= 3:1 contrast; Back on a
// phone returns to where the shopper was in the catalogue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MOBILE, check, visit } from '../lib/browser.mjs';
import { products } from '../lib/api.mjs';
import { focusIs, focusOn, tabTo } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

function luminance([r, g, b]) {
  const c = [r, g, b].map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
const rgb = (css) => css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);

test('a focused product card shows a whole focus ring with 3:1 contrast', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  const link = page.locator('[data-testid="product-card"] a').first();
  await link.waitFor();
  await page.locator('#search-q').focus();
  await focusIs(page, 'search-q', 'the search field, where tabbing starts');
  // Tab until the first card's link has focus (keyboard focus, so :focus-visible).
  // Judged on what tabTo's polling found focused, never a read of its own.
  const title = (await link.textContent()).trim().replace(/\s+/g, ' ');
  const onLink = (f) => f.tag === 'a' && f.text === title;
  await tabTo(page, "the first card's link", onLink, { max: 10, visible: false });
  await focusOn(page, link, "the first card's link, visibly", { visible: true });
  const ring = await link.evaluate((el) => {
    const s = getComputedStyle(el);
    const clipped = [];
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p);
      if (o.overflow !== 'visible' && Number.parseFloat(s.outlineOffset) >= 0) clipped.push(p.className);
    }
    let bg = 'rgb(255, 255, 255)';
    for (let p = el; p; p = p.parentElement) {
      const b = getComputedStyle(p).backgroundColor;
      if (b && b !== 'rgba(0, 0, 0, 0)' && b !== 'transparent') { bg = b; break; }
    }
    return {
      focusVisible: el.matches(':focus-visible'),
      style: s.outlineStyle,
      width: Number.parseFloat(s.outlineWidth),
      color: s.outlineColor,
      bg,
      clipped,
    };
  });
  assert.ok(ring.focusVisible);
  assert.notEqual(ring.style, 'none');
  assert.ok(ring.width >= 2, `ring width ${ring.width}`);
  assert.deepEqual(ring.clipped, [], 'no ancestor clips an outward ring');
  const c = contrast(rgb(ring.color), rgb(ring.bg));
  assert.ok(c >= 3, `focus ring contrast ${c.toFixed(2)}:1`);
  await check(page, 'catalogue-card-focused');
});

test('Back on a phone keeps the catalogue scroll position', T, async () => {
  const all = await products(shop.urls);
  const page = await shop.page(MOBILE);
  await visit(page, '/');
  const cards = page.getByTestId('product-card');
  await cards.nth(Math.min(7, all.total - 1)).waitFor();
  const last = cards.nth((await cards.count()) - 1);
  await last.scrollIntoViewIfNeeded();
  await page.waitForTimeout(200);
  const y = await page.evaluate(() => window.scrollY);
  assert.ok(y > 300, `scrolled down (${y})`);
  await last.getByRole('link').click();
  await page.locator('.product-detail h1').waitFor();
  await page.goBack();
  await cards.first().waitFor();
  await page.waitForFunction((want) => Math.abs(window.scrollY - want) < 5, y, { timeout: 5_000 });
});
