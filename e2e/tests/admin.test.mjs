// (6) An admin adds a product and finds it in the catalogue; others cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, visit } from '../lib/browser.mjs';
import { products, uniqueName } from '../lib/api.mjs';
import { focusIs, loggedInAdmin, loggedInShopper, loginInUi, nav, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

test('an admin adds a product and it appears in the catalogue', T, async () => {
  const image = (await products(shop.urls)).results[0].image;
  const { page } = await loggedInAdmin(shop, 'admin');
  await nav(page, 'Manage products').click();
  // An empty form: the API's 422 names the fields, shown beside them.
  await page.getByRole('button', { name: 'Add product' }).click();
  await waitText(page.locator('#field-name-error, #field-price-error'), /\S/);
  await screenshot(page, 'admin-field-errors');
  const name = `Lantern ${uniqueName('e2e')}`;
  await page.getByLabel(/^Name/).fill(name);
  await page.getByLabel('Price').fill('12.34');
  await page.getByLabel('Image URL').fill(image);
  await page.getByLabel('Description').fill('Added by the browser test.');
  await screenshot(page, 'admin');
  await page.getByRole('button', { name: 'Add product' }).click();
  await waitText(page.locator('.notice'), new RegExp(`Product added: ${name}`));
  // Issue 25: the button was disabled while adding, which dropped focus to the
  // page; now the emptied form's first field has it, for the next product.
  await focusIs(page, 'field-name', 'focus on the name field for the next product');

  await nav(page, 'Catalogue').click();
  await page.getByLabel('Search products').fill(name);
  await page.getByRole('button', { name: 'Search' }).click();
  const card = page.getByTestId('product-card').filter({ hasText: name });
  await waitText(card, /\$12\.34/);
  assert.equal(await page.getByTestId('product-card').count(), 1);
  await screenshot(page, 'admin-product-in-catalogue');
});

test('a user who is not an admin sees no link and a plain notice', T, async () => {
  const { page } = await loggedInShopper(shop, 'plain');
  assert.equal(await nav(page, 'Manage products').count(), 0);
  await visit(page, '/admin');
  await waitText(page.getByTestId('admin-only'), /for administrators only/);
  await screenshot(page, 'admin-not-allowed');
});

// Issue 25: the shopper's WASM leaves the admin pages out; the SPA serves them
// from a build of their own under /admin/ (app/src/pages/admin/mod.rs).
test('the admin pages come from their own build, reached from the shop\'s header', T, async () => {
  const { page } = await loggedInAdmin(shop, 'split');
  const wasm = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  assert.equal(wasm.length, 1);
  assert.doesNotMatch(wasm[0], /^\/admin\//, 'the catalogue runs the shopper\'s build');
  await nav(page, 'Manage products').click();
  await page.getByRole('heading', { level: 2, name: 'Add a product' }).waitFor();
  assert.equal(wasm.length, 2, `the admin page loaded the admin's build: ${wasm.join(', ')}`);
  assert.match(wasm[1], /^\/admin\/[^/]+\.wasm$/);
  // Within the admin's build every page is there: no further load.
  await nav(page, 'Order desk').click();
  await page.getByRole('heading', { level: 1, name: 'Order desk' }).waitFor();
  await nav(page, 'Catalogue').click();
  await page.getByTestId('product-card').first().waitFor();
  assert.equal(wasm.length, 2, `moving around the admin's build loads nothing more: ${wasm.join(', ')}`);
});

test('a login on the shopper\'s build that returns to an admin page lands on it', T, async () => {
  const { username } = await loggedInAdmin(shop, 'back');
  const page = await shop.page();
  await visit(page, '/login?next=%2Fadmin%2Forders');
  await loginInUi(page, username);
  await page.getByRole('heading', { level: 1, name: 'Order desk' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin/orders');
});

test('a server that serves the shopper\'s build for /admin gets a notice, not a reload loop', T, async () => {
  const { page } = await loggedInAdmin(shop, 'nosplit');
  const shopIndex = await (await fetch(`${shop.stack.spa}/`)).text();
  await page.route(/\/admin$/, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: shopIndex }));
  let loads = 0;
  page.on('load', () => loads++);
  await visit(page, '/admin');
  await waitText(page.locator('.notice'), /not part of this build/);
  await page.waitForTimeout(1000);
  assert.equal(loads, 1, 'the page was loaded once');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Manage products');
});
