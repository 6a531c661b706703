// Issue 10, (6): the cart line limit is clear. An add past 999 shows the API's own
// sentence, and the cart editor takes 0-999 like the contract's update-item.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { badgeIs, cartLines, loginInUi, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

async function cartWith(qty, index = 0) {
  const username = uniqueName('limit');
  const token = await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[index];
  for (let left = qty; left > 0; left -= 99) {
    await call(shop.urls.orders, 'POST', '/api/order/add-item', {
      token,
      body: { product_id: product.id, qty: Math.min(99, left) },
    });
  }
  const page = await shop.page();
  await loginInUi(page, username);
  return { page, token, product };
}

test('an add past 999 in a line shows the service\'s own reason', T, async () => {
  const { page, token, product } = await cartWith(950);
  await visit(page, `/product/${product.slug}`);
  await page.getByLabel('Quantity').fill('99');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('.add-outcome'), /Not added: it would put more than 999 of this product in the cart/);
  assert.doesNotMatch(await page.locator('.add-outcome').innerText(), /Some fields are invalid/);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 950 });
  await check(page, 'product-line-limit');
});

test('the product page says how many may be added and held', T, async () => {
  const { page, product } = await cartWith(1);
  await visit(page, `/product/${product.slug}`);
  await waitText(page.locator('#qty-hint'), /1 to 99 at a time; up to 999 in the cart/);
});

test('the cart editor takes a quantity up to 999', T, async () => {
  const { page, token, product } = await cartWith(2, 1);
  await visit(page, '/cart');
  const qty = page.getByLabel(`Quantity of ${product.name}`);
  await qty.fill('500');
  await qty.press('Enter');
  await badgeIs(page, 500);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 500 });
});

test('the cart editor refuses 1000 with the range it takes', T, async () => {
  const { page, token, product } = await cartWith(2, 1);
  await visit(page, '/cart');
  const qty = page.getByLabel(`Quantity of ${product.name}`);
  await qty.fill('1000');
  await qty.press('Enter');
  await waitText(page.locator(`#qty-${product.id}-error`), /from 0 to 999/);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 2 });
});
