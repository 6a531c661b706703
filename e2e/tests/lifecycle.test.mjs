// Issue 23 (contract v1.3): orders after checkout. A shopper checks out with a
// shipping address, follows the order on its page and cancels it (a question
// first; the units go back to the catalogue); an admin at the order desk
// filters by status, ships with a tracking number and marks delivered, each
// button only while allowed and each double click acting once; the shopper
// sees the tracking number; an email for each change reaches the mail catcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { adminToken, call, createProduct, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { aboutOrder, waitForMail } from '../lib/mail.mjs';
import { focusIs, loginInUi, money, nav, waitText } from '../lib/ui.mjs';
import { ADA, fillAddress } from '../lib/pay.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

/** A product of the test's own with `stock` units, made by a fresh admin. */
async function ownProduct(stock, price = 1250) {
  const admin = await adminToken(shop.stack);
  const product = await createProduct(shop.urls, admin.token, {
    name: `Life ${uniqueName('p')}`,
    price,
    ...(stock === null ? {} : { stock }),
  });
  return { admin, product };
}

/** A shopper (logged in through the API) with `qty` of the product in an order. */
async function shopperWithOrder(product, qty) {
  const username = uniqueName('life');
  const token = await registerAndLogin(shop.urls, username);
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty } });
  const order = (await call(shop.urls.orders, 'POST', '/api/order/checkout', { token })).result;
  return { username, token, order, email: `${username}@example.com` };
}

/** The `Idempotency-Key`s of the requests to `path` the page sends from now on. */
function keysOf(page, path) {
  const keys = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === path) keys.push(r.headers()['idempotency-key']);
  });
  return keys;
}

/** What the catalogue card of a product says about its stock, as the SPA shows it. */
async function cardStock(page, product) {
  await visit(page, `/?q=${encodeURIComponent(product.name)}`);
  const card = page.locator(`[data-testid="product-card"][data-product="${product.id}"]`);
  await card.waitFor();
  return card.getByTestId('stock-note').innerText();
}

test('a shopper checks out with an address, then cancels the order: units back, two emails', T, async () => {
  const { product } = await ownProduct(6);
  const username = uniqueName('cancel');
  const email = `${username}@example.com`;
  const token = await registerAndLogin(shop.urls, username);
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 2 } });
  const page = await shop.page();
  await loginInUi(page, username);

  // The address is optional; asked for, it is checked before anything is sent.
  await visit(page, '/cart');
  await page.getByTestId('cart-line').first().waitFor();
  const checkouts = keysOf(page, '/api/order/checkout');
  await page.getByLabel('Ship to an address (optional)').check();
  await page.getByRole('button', { name: 'Check out' }).click();
  await focusIs(page, 'ship-name', 'focus on the first field with a problem');
  await waitText(page.locator('#ship-name-error'), /Full name is required/);
  await waitText(page.locator('#ship-country-error'), /two-letter country code/);
  await waitText(page.locator('.cart-problem'), /shipping address needs a fix/);
  assert.equal(await page.getByLabel('Full name').getAttribute('aria-invalid'), 'true');
  await check(page, 'cart-address-errors');
  assert.equal(checkouts.length, 0, 'nothing sent for an invalid address');
  // Lower case on purpose: the order keeps it upper-cased.
  await fillAddress(page, { ...ADA, country: 'gb' });
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/thank-you\/\d+$/);
  const id = Number(page.url().split('/').pop());

  // The order's page: status, lines, total, address, email, timeline.
  await page.getByRole('link', { name: 'Follow this order' }).click();
  await page.waitForURL(new RegExp(`/orders/${id}$`));
  await page.getByRole('heading', { level: 1, name: `Order #${id}` }).waitFor();
  await waitText(page.getByTestId('order-status'), /^Placed$/);
  await waitText(page.getByTestId('order-total'), new RegExp(`^\\${money(2 * product.price)}$`));
  await waitText(page.getByTestId('order-address'), /Ada Lovelace.*12 St James Square.*SW1Y 4JH London.*GB/s);
  await waitText(page.getByTestId('order-email'), new RegExp(`^${email}$`));
  await waitText(page.locator('[data-testid="order-event"][data-status="placed"]'), /^Placed by you, /);
  assert.equal(await page.getByTestId('order-tracking').count(), 0, 'no tracking number before shipping');
  await check(page, 'order-page');
  const placed = (await call(shop.urls.orders, 'GET', `/api/order/${id}`, { token })).result;
  assert.equal(placed.shipping_address.country, 'GB');

  // Less stock while the order holds it.
  const catalogue = await shop.page();
  await loginInUi(catalogue, username);
  assert.equal(await cardStock(catalogue, product), 'Only 4 left');

  // A question first: Escape (or "No") keeps the order, focus back on the button.
  const cancels = keysOf(page, `/api/order/${id}/cancel`);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await focusIs(page, 'cancel-no', 'focus on the safe answer');
  await check(page, 'order-cancel-question');
  await page.keyboard.press('Escape');
  await focusIs(page, 'cancel-order', 'Escape: focus back on "Cancel order"');
  assert.equal(await page.getByTestId('cancel-confirm').count(), 0);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'No, keep it' }).click();
  await focusIs(page, 'cancel-order', 'No: focus back on "Cancel order"');
  assert.equal(cancels.length, 0, 'nothing cancelled yet');

  // Yes, with a double click: one cancel.
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'Yes, cancel it' }).dblclick();
  await waitText(page.getByTestId('order-done'), new RegExp(`Order #${id} is cancelled`));
  await focusIs(page, 'order-outcome', 'focus on what happened');
  await waitText(page.getByTestId('order-status'), /^Cancelled$/);
  assert.equal(await page.getByRole('button', { name: 'Cancel order' }).count(), 0, 'no cancel once cancelled');
  assert.ok(cancels.length >= 1 && cancels.every((k) => k && k === cancels[0]), `one key: ${cancels}`);
  const cancelled = (await call(shop.urls.orders, 'GET', `/api/order/${id}`, { token })).result;
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.events.filter((e) => e.status === 'cancelled').length, 1, 'cancelled once');
  await waitText(page.getByTestId('order-event').last(), /Cancelled by you/);

  // Its units are back: the catalogue asks again on every visit (the release
  // runs after the change, within seconds).
  const deadline = Date.now() + 15_000;
  let stock = await cardStock(catalogue, product);
  while (stock !== '' && Date.now() < deadline) {
    await catalogue.waitForTimeout(500);
    await nav(catalogue, 'Catalogue').click();
    stock = await cardStock(catalogue, product);
  }
  assert.equal(stock, '', 'the six units are back (no "Only N left")');

  // The history: a badge with the status, a link to the order's page.
  await visit(page, '/orders');
  const summary = page.locator(`[data-order-id="${id}"]`);
  await waitText(summary.getByTestId('order-status'), /^Cancelled$/);
  await summary.getByRole('link', { name: `Order #${id}` }).click();
  await page.getByRole('heading', { level: 1, name: `Order #${id}` }).waitFor();

  // The address is kept for the next checkout.
  await visit(page, '/cart');
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 1 } });
  await page.reload();
  await page.getByTestId('cart-line').first().waitFor();
  assert.ok(await page.getByLabel('Ship to an address (optional)').isChecked());
  assert.equal(await page.getByLabel('Full name').inputValue(), 'Ada Lovelace');

  // The emails: placed and cancelled, each naming the order and its total.
  const order = { id, total: 2 * product.price };
  await waitForMail(shop.stack.maildir, 'the placed email', (m) => aboutOrder(m, order, money) && !/cancel/i.test(m.subject), { to: email });
  await waitForMail(shop.stack.maildir, 'the cancelled email', (m) => aboutOrder(m, order, money) && /cancel/i.test(`${m.subject} ${m.text}`), { to: email });
});

test('an admin ships and delivers at the order desk; the shopper sees the tracking number', T, async () => {
  const { admin, product } = await ownProduct(null, 990);
  const buyer = await shopperWithOrder(product, 3);
  const other = await shopperWithOrder(product, 1);
  await call(shop.urls.orders, 'POST', `/api/order/${other.order.id}/cancel`, { token: other.token });

  const page = await shop.page();
  await loginInUi(page, admin.username, admin.password);
  await nav(page, 'Order desk').click();
  await page.getByRole('heading', { level: 1, name: 'Order desk' }).waitFor();
  const row = (o) => page.locator(`[data-testid="desk-order"][data-order-id="${o.id}"]`);
  await row(buyer.order).waitFor();
  await check(page, 'desk');

  // Filter: placed only, then placed and cancelled; the box keeps focus.
  await page.getByLabel('Placed').check();
  await page.waitForURL(/\/admin\/orders\?status=placed$/);
  await focusIs(page, 'filter-placed', 'focus stays on the box');
  await row(buyer.order).waitFor();
  await row(other.order).waitFor({ state: 'detached' }); // a cancelled order is filtered out
  for (const s of await page.getByTestId('desk-order').evaluateAll((rows) => rows.map((r) => r.dataset.status))) {
    assert.equal(s, 'placed');
  }
  await page.getByLabel('Cancelled').check();
  await page.waitForURL(/status=placed,cancelled$/);
  await row(other.order).waitFor();
  await row(buyer.order).waitFor();
  await page.getByLabel('Placed').uncheck();
  await page.waitForURL(/status=cancelled$/);
  await row(other.order).waitFor();
  await row(buyer.order).waitFor({ state: 'detached' });
  await page.getByLabel('Cancelled').uncheck();
  await page.waitForURL(/\/admin\/orders$/);

  // A cancelled order: nothing more can be done.
  await row(other.order).getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: `Order #${other.order.id}` }).waitFor();
  await page.getByTestId('no-steps').waitFor();
  assert.equal(await page.locator('.admin-steps button').count(), 0, 'no buttons for a cancelled order');

  // The placed order: ship (or cancel); not deliver.
  await page.goBack();
  await row(buyer.order).getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: `Order #${buyer.order.id}` }).waitFor();
  await waitText(page.getByTestId('order-email'), new RegExp(`^${buyer.email}$`));
  await waitText(page.getByTestId('order-total'), new RegExp(`^\\${money(3 * 990)}$`));
  await page.getByRole('button', { name: 'Ship order' }).waitFor();
  await page.getByRole('button', { name: 'Cancel order' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Mark delivered' }).count(), 0);
  await check(page, 'desk-order');

  // The tracking number is checked as the service checks it.
  const ships = keysOf(page, `/api/order/${buyer.order.id}/ship`);
  await page.getByRole('button', { name: 'Ship order' }).click();
  await waitText(page.locator('#tracking-error'), /Tracking number is required/);
  await focusIs(page, 'tracking');
  await page.getByLabel('Tracking number').fill('X'.repeat(65));
  await page.getByRole('button', { name: 'Ship order' }).click();
  await waitText(page.locator('#tracking-error'), /at most 64 characters/);
  assert.equal(ships.length, 0, 'nothing sent for a bad tracking number');

  const tracking = `TRK-${Date.now()}`;
  await page.getByLabel('Tracking number').fill(tracking);
  await page.getByRole('button', { name: 'Ship order' }).dblclick();
  await waitText(page.getByTestId('order-done'), new RegExp(`shipped, tracking number ${tracking}`));
  await focusIs(page, 'order-outcome', 'focus on what happened');
  await waitText(page.getByTestId('order-status'), /^Shipped$/);
  await waitText(page.getByTestId('order-tracking'), new RegExp(`^${tracking}$`));
  assert.ok(ships.length >= 1 && ships.every((k) => k && k === ships[0]), `one key: ${ships}`);
  assert.equal(await page.getByRole('button', { name: 'Ship order' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Cancel order' }).count(), 0, 'a shipped order cannot be cancelled');

  // The shopper's page shows the tracking number, and no Cancel.
  const shopper = await shop.page();
  await loginInUi(shopper, buyer.username);
  await visit(shopper, `/orders/${buyer.order.id}`);
  await waitText(shopper.getByTestId('order-tracking'), new RegExp(`^${tracking}$`));
  await waitText(shopper.getByTestId('order-status'), /^Shipped$/);
  await waitText(shopper.getByTestId('order-event').last(), /Shipped by the shop/);
  assert.equal(await shopper.getByRole('button', { name: 'Cancel order' }).count(), 0);

  // Delivered, with a double click: once; then nothing more to do.
  const delivers = keysOf(page, `/api/order/${buyer.order.id}/deliver`);
  await page.getByRole('button', { name: 'Mark delivered' }).dblclick();
  await waitText(page.getByTestId('order-status'), /^Delivered$/);
  await page.getByTestId('no-steps').waitFor();
  assert.ok(delivers.length >= 1 && delivers.every((k) => k && k === delivers[0]), `one key: ${delivers}`);
  const done = (await call(shop.urls.orders, 'GET', `/api/order/${buyer.order.id}`, { token: admin.token })).result;
  assert.deepEqual(done.events.map((e) => e.status).filter((s) => s !== 'open'), ['placed', 'shipped', 'delivered']);

  const order = { id: buyer.order.id, total: 3 * 990 };
  const shipped = await waitForMail(shop.stack.maildir, 'the shipped email', (m) => aboutOrder(m, order, money) && m.text.includes(tracking), { to: buyer.email });
  assert.match(`${shipped.subject} ${shipped.text}`, /ship/i);
});

test('a change someone else made first is said plainly, and the buttons follow', T, async () => {
  const { admin, product } = await ownProduct(null, 500);
  const buyer = await shopperWithOrder(product, 1);
  const page = await shop.page();
  await loginInUi(page, admin.username, admin.password);
  await visit(page, `/admin/orders/${buyer.order.id}`);
  await page.getByRole('button', { name: 'Ship order' }).waitFor();
  // The shopper cancels while the admin is looking.
  await call(shop.urls.orders, 'POST', `/api/order/${buyer.order.id}/cancel`, { token: buyer.token });
  await page.getByLabel('Tracking number').fill('LATE-1');
  await page.getByRole('button', { name: 'Ship order' }).click();
  await waitText(page.getByTestId('order-problem'), /^Not changed: \S/);
  await waitText(page.getByTestId('order-status'), /^Cancelled$/);
  assert.equal(await page.getByRole('button', { name: 'Ship order' }).count(), 0);
  await check(page, 'desk-order-conflict');
});
