// Issue 10, (7): on a slow network the shop shows that work is under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { loginInUi, slowDown, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

test('"Next" on a slow network shows loading, and the pager waits for the cards', T, async () => {
  const catalogue = await products(shop.urls);
  assert.ok(catalogue.total > 8, 'the demo catalogue has a second page');
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  const firstTitles = await page.locator('.card-title').allTextContents();
  await slowDown(page, '**/api/products?*', 1500);
  await page.getByRole('link', { name: 'Next' }).click();
  await page.getByTestId('catalogue-loading').waitFor();
  assert.equal(await page.locator('.results').getAttribute('aria-busy'), 'true');
  // The old cards are still there: the pager still says so.
  assert.match(await page.locator('.pager-status').innerText(), /^1–8 of/);
  await check(page, 'catalogue-loading');
  await waitText(page.locator('.pager-status'), /^9–/);
  assert.notDeepEqual(await page.locator('.card-title').allTextContents(), firstTitles);
  assert.equal(await page.getByTestId('catalogue-loading').count(), 0);
});

test('a slow search shows loading until its results arrive', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  await slowDown(page, '**/api/products?*', 1500);
  await page.getByLabel('Search products').fill('zzzz-nothing');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByTestId('catalogue-loading').waitFor();
  await waitText(page.locator('.empty'), /No products match/);
});

async function cartPage(lines) {
  const username = uniqueName('busy');
  const token = await registerAndLogin(shop.urls, username);
  const all = (await products(shop.urls)).results;
  for (let i = 0; i < lines; i++) {
    await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: all[i].id, qty: 1 } });
  }
  const page = await shop.page();
  await loginInUi(page, username);
  await visit(page, '/cart');
  await page.getByTestId('cart-line').first().waitFor();
  return { page, product: all[0] };
}

test('a quantity change shows the line total as pending until the answer', T, async () => {
  const { page, product } = await cartPage(2);
  await slowDown(page, '**/api/order/update-item', 1500);
  const qty = page.getByLabel(`Quantity of ${product.name}`);
  await qty.fill('4');
  await qty.press('Enter');
  const line = page.locator(`[data-product="${product.id}"] .line-total`);
  await waitText(line, /Updating…/);
  await waitText(page.getByTestId('cart-total'), /Updating…/);
  await check(page, 'cart-updating');
  await waitText(line, new RegExp(`\\$`));
  assert.doesNotMatch(await line.innerText(), /Updating/);
});

test('the cart cannot be edited during checkout', T, async () => {
  const { page, product } = await cartPage(1);
  await slowDown(page, '**/api/order/checkout', 2000);
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.getByRole('button', { name: 'Checking out…' }).waitFor();
  assert.ok(await page.getByLabel(`Quantity of ${product.name}`).isDisabled());
  assert.ok(await page.getByRole('button', { name: `Remove ${product.name}` }).isDisabled());
  await page.waitForURL(/\/thank-you\/\d+$/);
});

// Issue 25: a spinner alone cannot tell a slow answer from a page that stopped:
// after a few seconds the loading message says it is still trying.
test('loading that takes seconds says it is still trying', T, async () => {
  const page = await shop.page();
  await slowDown(page, '**/api/products?*', 6000);
  await visit(page, '/');
  const loading = page.locator('.loading').first();
  await loading.waitFor();
  assert.equal(await page.getByTestId('still-trying').count(), 0, 'not at once');
  await waitText(loading, /Still trying: the shop is slow to answer\./);
  await check(page, 'catalogue-still-trying');
  await page.getByTestId('product-card').first().waitFor({ timeout: 15_000 });
  assert.equal(await page.getByTestId('still-trying').count(), 0);
});
