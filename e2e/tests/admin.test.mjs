// (6) An admin adds a product and finds it in the catalogue; others cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, visit } from '../lib/browser.mjs';
import { products, uniqueName } from '../lib/api.mjs';
import { focusIs, loggedInAdmin, loggedInShopper, nav, waitText } from '../lib/ui.mjs';
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
