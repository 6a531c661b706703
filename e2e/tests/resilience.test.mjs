// Issues 21 and 25: "Order again" adds what it can and names each line it
// skipped; the cart comes back by itself after an outage (backoff, and at once
// on navigation) without taking focus; cart lines and admin cards are keyed, so
// a change leaves the other rows' elements (and focus) alone. Own shop: it
// hides products and stops the orders service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { adminToken, call, createProduct, patchProduct, uniqueName } from '../lib/api.mjs';
import { CART_DOWN, CATALOGUE_DOWN, badgeIs, cartLines, focusIs, focusOn, loggedInShopper, loginInUi, nav, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ own: true });

async function shopper() {
  return loggedInShopper(shop, 'res');
}

test('"Order again" adds every line it can, then names each one skipped and why', T, async () => {
  const admin = await adminToken(shop.stack);
  const made = [];
  for (const n of ['a', 'b', 'c']) {
    made.push(await createProduct(shop.urls, admin.token, { name: `Again ${n} ${uniqueName('p')}`, price: 300 }));
  }
  const [gone, kept, alsoGone] = made;
  const { page, token } = await shopper();
  for (const p of made) {
    await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty: 2 } });
  }
  const order = (await call(shop.urls.orders, 'POST', '/api/order/checkout', { token })).result;
  // Two of the three are no longer on sale: the first and the last line.
  await patchProduct(shop.urls, admin.token, gone.id, { hidden: true });
  await patchProduct(shop.urls, admin.token, alsoGone.id, { hidden: true });

  await visit(page, '/orders');
  await page.locator(`[data-order-id="${order.id}"]`).getByRole('button', { name: /Order again/ }).click();
  const note = page.locator(`[data-order-id="${order.id}"]`).getByTestId('order-again-skipped');
  await waitText(note, /1 item was added to your cart/);
  const text = await note.innerText();
  assert.match(text, new RegExp(`${gone.name}: no longer on sale`));
  assert.match(text, new RegExp(`${alsoGone.name}: no longer on sale`));
  assert.doesNotMatch(text, new RegExp(kept.name));
  assert.deepEqual(await cartLines(shop.urls, token), { [kept.id]: 2 }, 'the line that could go in went in');
  await badgeIs(page, 2);
  await check(page, 'order-again-skipped');
});

test('the cart comes back by itself after an outage, without taking focus', T, async () => {
  const { page, token } = await shopper();
  const [p] = (await call(shop.urls.products, 'GET', '/api/products?limit=1')).results;
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty: 2 } });
  await shop.stack.stop('orders');
  await visit(page, '/cart');
  await waitText(page.getByTestId('cart-unavailable-notice'), CART_DOWN);
  // The shopper is elsewhere on the page meanwhile.
  const link = nav(page, 'Catalogue');
  await link.focus();
  await shop.stack.start('orders');
  // No press of "Try again": the retries find it back.
  await page.getByTestId('cart-line').first().waitFor({ timeout: 40_000 });
  await badgeIs(page, 2);
  await focusOn(page, link, 'focus stays where the shopper put it');

  // Down again; going to another page asks again at once.
  await shop.stack.stop('orders');
  await page.reload();
  await page.getByTestId('cart-unavailable').waitFor();
  await shop.stack.start('orders');
  await nav(page, /Cart/).click();
  await page.getByTestId('cart-line').first().waitFor({ timeout: 5_000 });
});

test('changing one cart line leaves the other lines\' elements and focus alone', T, async () => {
  const { page, token } = await shopper();
  const [a, b] = (await call(shop.urls.products, 'GET', '/api/products?limit=2')).results;
  for (const p of [a, b]) {
    await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty: 1 } });
  }
  await visit(page, '/cart');
  const lineOf = (p) => page.locator(`[data-testid="cart-line"][data-product="${p.id}"]`);
  await lineOf(b).waitFor();
  await lineOf(a).evaluate((el) => { el.dataset.mark = 'kept'; });
  await lineOf(b).evaluate((el) => { el.dataset.mark = 'kept'; });
  const qty = page.getByLabel(`Quantity of ${b.name}`);
  await qty.fill('3');
  await qty.press('Enter');
  await badgeIs(page, 4);
  await focusIs(page, `qty-${b.id}`, 'focus stays in the field that was used');
  assert.equal(await lineOf(a).getAttribute('data-mark'), 'kept', 'the other line was not drawn again');
  assert.equal(await lineOf(b).getAttribute('data-mark'), 'kept', 'the changed line was updated in place');
  assert.equal(await qty.inputValue(), '3');

  // Removing a line: the rest stay, focus goes to the heading, not nowhere.
  await page.getByRole('button', { name: `Remove ${a.name}` }).click();
  await badgeIs(page, 3);
  assert.equal(await lineOf(a).count(), 0);
  assert.equal(await lineOf(b).getAttribute('data-mark'), 'kept');
  await focusOn(page, page.getByRole('heading', { level: 1, name: 'Your cart' }), 'focus on the heading');
});

test('admin product cards are keyed: adding a product keeps the other cards as they are', T, async () => {
  const admin = await adminToken(shop.stack);
  const page = await shop.page();
  await loginInUi(page, admin.username, admin.password);
  await nav(page, 'Manage products').click();
  await page.getByTestId('admin-product').first().waitFor();
  // The list is newest first: the product added goes on top of this card.
  const id = await page.getByTestId('admin-product').first().getAttribute('data-product');
  const first = page.locator(`[data-testid="admin-product"][data-product="${id}"]`);
  await first.evaluate((el) => { el.dataset.mark = 'kept'; });
  const name = `Keyed ${uniqueName('k')}`;
  await page.getByLabel(/^Name/).first().fill(name);
  await page.getByLabel(/^Price/).first().fill('3.50');
  await page.getByRole('button', { name: 'Add product' }).click();
  await page.locator('[data-testid="admin-product"]', { hasText: name }).waitFor();
  assert.equal(await first.getAttribute('data-mark'), 'kept');
});

// Issue 25: removing the last line replaces the whole table (and the button
// that had focus) with the empty cart; focus goes to the heading, not nowhere.
test('removing the last cart line puts focus on the heading', T, async () => {
  const { page, token } = await shopper();
  const [p] = (await call(shop.urls.products, 'GET', '/api/products?limit=1')).results;
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty: 1 } });
  await visit(page, '/cart');
  const remove = page.getByRole('button', { name: `Remove ${p.name}` });
  await remove.focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('cart-empty').waitFor();
  await focusOn(page, page.getByRole('heading', { level: 1, name: 'Your cart' }), 'focus on the heading of the empty cart');
  await badgeIs(page, 0);
});

// Issue 25: every section heals by itself, as the cart does: the catalogue too.
test('the catalogue comes back by itself after the products service was down', T, async () => {
  await shop.stack.stop('products');
  const page = await shop.page();
  await visit(page, '/');
  await waitText(page.locator('.notice'), CATALOGUE_DOWN);
  await shop.stack.start('products');
  // No press of "Try again".
  await page.getByTestId('product-card').first().waitFor({ timeout: 40_000 });
});
