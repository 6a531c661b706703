// Issue 10, (11): history hides an emptied cart and shows local times; outage
// notices have "Try again"; unknown product and order pages have a heading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { CATALOGUE_DOWN, focusOn, loggedInShopper, loginInUi, outageInPage, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ own: true });

async function userWithOrder(timezoneId) {
  const username = uniqueName('hist');
  const token = await registerAndLogin(shop.urls, username);
  const [a] = (await products(shop.urls)).results;
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: a.id, qty: 1 } });
  const order = (await call(shop.urls.orders, 'POST', '/api/order/checkout', { token })).result;
  const page = await shop.page(timezoneId ? { timezoneId } : undefined);
  await loginInUi(page, username);
  return { page, token, order, product: a };
}

test('an emptied cart is not listed as a $0.00 order', T, async () => {
  const { page, token, product } = await userWithOrder();
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 1 } });
  await call(shop.urls.orders, 'POST', '/api/order/update-item', { token, body: { product_id: product.id, qty: 0 } });
  await visit(page, '/orders');
  await page.getByTestId('order').first().waitFor();
  assert.equal(await page.getByTestId('order').count(), 1);
  assert.doesNotMatch(await page.getByTestId('order-list').innerText(), /\$0\.00/);
});

test('order times are shown in the shopper\'s time zone', T, async () => {
  const zone = 'Pacific/Auckland';
  const { page, order } = await userWithOrder(zone);
  await visit(page, '/orders');
  const time = page.locator(`[data-order-id="${order.id}"] time`);
  await time.waitFor();
  const at = new Date(order.checked_out_at);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  const expected = `${Number(parts.day)} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute}`;
  assert.equal(await time.innerText(), expected);
  assert.doesNotMatch(await time.innerText(), /UTC/);
  assert.equal(new Date(await time.getAttribute('datetime')).getTime(), at.getTime());
  await check(page, 'orders');
});

// The page retries by itself too (issue 25): the outage is held in the page,
// and lifted just after one of its own retries, so that the press is what works.
test('the catalogue outage notice has "Try again", which works once it is back', T, async () => {
  const page = await shop.page();
  const outage = await outageInPage(page, (url) => url.pathname === '/api/products');
  await visit(page, '/');
  await waitText(page.locator('.notice'), CATALOGUE_DOWN);
  await check(page, 'catalogue-down');
  await outage.up();
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByTestId('product-card').first().waitFor();
  // Issue 25: the notice that held focus is gone; focus is on the heading.
  await focusOn(page, page.getByRole('heading', { level: 1, name: 'Catalogue' }), 'focus on the catalogue heading');
});

test('the cart outage notice has "Try again"', T, async () => {
  const { page } = await loggedInShopper(shop, 'cartdown');
  const outage = await outageInPage(page, (url) => url.pathname === '/api/order');
  await visit(page, '/cart');
  await waitText(page.getByTestId('cart-unavailable-notice'), /cart is unavailable/);
  await outage.up();
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByTestId('cart-empty').waitFor();
  await focusOn(page, page.getByRole('heading', { level: 1, name: 'Your cart' }), 'focus on the cart heading');
});

test('an unknown product has a heading', T, async () => {
  const page = await shop.page();
  await visit(page, '/product/no-such-product');
  await page.getByRole('heading', { level: 1, name: 'Product not found' }).waitFor();
  await check(page, 'product-not-found');
});

test('an unknown order has a heading', T, async () => {
  const { page } = await loggedInShopper(shop, 'noorder');
  await visit(page, '/thank-you/999999');
  await page.getByRole('heading', { level: 1, name: 'Order not found' }).waitFor();
  await check(page, 'order-not-found');
});
