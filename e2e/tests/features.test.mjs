// Issue 10, (12): what shoppers expect besides: "Add to cart" on cards, thumbnails
// and links in cart and order lines, sorting, "Order again", "Log out everywhere",
// a note when a cart line's price changed since it was added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { adminToken, call, patchProduct, products, uniqueName } from '../lib/api.mjs';
import { badgeIs, cartLines, loggedInShopper, tokenOf, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ own: true });

/**
 * The catalogue reads the page makes (`GET /api/products`), as their query
 * parameters, from now on. Issue 25: a page fetches exactly what it shows
 * (`ids=` for cart and order lines, `sort=` and one page for the catalogue),
 * never the whole catalogue (`limit=1000`) to pick from or sort in the browser.
 */
function catalogueReads(page) {
  const seen = [];
  const products = new URL(shop.urls.products).origin;
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin === products && url.pathname === '/api/products') seen.push(url.searchParams);
  });
  return seen;
}

/** No read of the whole catalogue: at most one page or the lines' own ids. */
function noWholeCatalogue(seen) {
  for (const q of seen) {
    const limit = Number(q.get('limit') ?? 20);
    assert.ok(limit <= 100, `a read of ${limit} products: ?${q}`);
  }
}

/** The products a page's lines were fetched by (`ids=`), in one list. */
function idsRead(seen) {
  return seen.filter((q) => q.has('ids')).flatMap((q) => q.get('ids').split(',').map(Number));
}

const loggedIn = (prefix = 'feat') => loggedInShopper(shop, prefix);

test('a catalogue card adds one to the cart', T, async () => {
  const { page, token } = await loggedIn();
  await visit(page, '/');
  const card = page.getByTestId('product-card').first();
  const id = Number(await card.getAttribute('data-product'));
  await card.getByRole('button', { name: /^Add to cart/ }).click();
  await waitText(card.locator('.card-add-status'), /1 in your cart/);
  await badgeIs(page, 1);
  assert.deepEqual(await cartLines(shop.urls, token), { [id]: 1 });
  await check(page, 'catalogue-card-added');
});

test('cart and order lines show a thumbnail and link to the product, fetched by id', T, async () => {
  const { page, token } = await loggedIn();
  const all = (await products(shop.urls)).results;
  // Past the first page of the catalogue: found by its id, not by reading all.
  const product = all[all.length - 1];
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 1 } });
  const reads = catalogueReads(page);
  await visit(page, '/cart');
  const line = page.getByTestId('cart-line').first();
  await line.locator('img.thumb').waitFor();
  assert.equal(await line.locator('img.thumb').getAttribute('src'), product.image);
  assert.deepEqual([...new Set(idsRead(reads))], [product.id], 'the cart asks for its line\'s product by id');
  noWholeCatalogue(reads);
  await line.getByRole('link', { name: product.name }).click();
  await page.getByRole('heading', { level: 1, name: product.name }).waitFor();
  await call(shop.urls.orders, 'POST', '/api/order/checkout', { token });
  reads.length = 0;
  await visit(page, '/orders');
  const order = page.getByTestId('order').first();
  await order.locator('img.thumb').waitFor();
  assert.equal(await order.getByRole('link', { name: product.name }).getAttribute('href'), `/product/${product.id}`);
  assert.deepEqual([...new Set(idsRead(reads))], [product.id], 'the history asks for its lines\' products by id');
  noWholeCatalogue(reads);
});

for (const [label, key, apiSort, order] of [
  ['Price: low to high', 'price-asc', 'price', (a, b) => a.price - b.price || a.id - b.id],
  ['Price: high to low', 'price-desc', '-price', (a, b) => b.price - a.price || a.id - b.id],
  ['Name: A to Z', 'name', 'name', (a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id - b.id],
  ['Newest first', 'newest', '-id', (a, b) => b.id - a.id],
]) {
  test(`sorting "${label}" orders the whole catalogue, across pages, sorted by the service`, T, async () => {
    const all = (await products(shop.urls)).results;
    assert.ok(all.length > 8, 'a second page to check');
    const want = [...all].sort(order).map((p) => p.name);
    const page = await shop.page();
    await visit(page, '/');
    await page.getByTestId('product-card').first().waitFor();
    const reads = catalogueReads(page);
    await page.getByLabel('Sort by').selectOption(label);
    await page.waitForURL(new RegExp(`sort=${key}`));
    await waitText(page.locator('.card-title').first(), want[0]);
    assert.deepEqual(await page.locator('.card-title').allTextContents(), want.slice(0, 8));
    await page.getByRole('link', { name: 'Next' }).click();
    await waitText(page.locator('.pager-status'), /^9–/);
    assert.deepEqual(await page.locator('.card-title').allTextContents(), want.slice(8, 16));
    // Each page one read of its own eight cards, sorted by the service (v1.3).
    noWholeCatalogue(reads);
    assert.deepEqual(
      reads.map((q) => [q.get('sort'), q.get('limit'), q.get('offset')]),
      [[apiSort, '8', '0'], [apiSort, '8', '8']],
    );
  });
}

test('"Order again" puts an old order\'s lines into the cart', T, async () => {
  const { page, token } = await loggedIn();
  const [a, b] = (await products(shop.urls)).results;
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: a.id, qty: 2 } });
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: b.id, qty: 1 } });
  const order = (await call(shop.urls.orders, 'POST', '/api/order/checkout', { token })).result;
  await visit(page, '/orders');
  await page
    .locator(`[data-order-id="${order.id}"]`)
    .getByRole('button', { name: /Order again/ })
    .click();
  await page.waitForURL(/\/cart$/);
  await badgeIs(page, 3);
  assert.deepEqual(await cartLines(shop.urls, token), { [a.id]: 2, [b.id]: 1 });
});

test('"Log out everywhere" ends every session of the account', T, async () => {
  const { page, token: other } = await loggedIn('everywhere');
  const mine = await tokenOf(page);
  await page.getByTestId('user-name').click();
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await check(page, 'account');
  await page.getByRole('button', { name: 'Log out everywhere' }).click();
  await page.waitForURL(/\/login/);
  await waitText(page.locator('.notice'), /logged out on every device/);
  assert.equal(await tokenOf(page), null);
  for (const t of [mine, other]) {
    await assert.rejects(call(shop.urls.users, 'GET', '/api/user', { token: t }), /401/);
  }
});

test('a cart line whose price changed since it was added says so', T, async () => {
  const { page, token } = await loggedIn();
  const product = (await products(shop.urls)).results[0];
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 1 } });
  // The catalogue's price changes: an admin's edit (v1.2's PATCH). Not straight in
  // the database: the products service keeps shoppers' reads in memory a moment.
  const newPrice = product.price + 250;
  await patchProduct(shop.urls, (await adminToken(shop.stack)).token, product.id, { price: newPrice });
  const fresh = await call(shop.urls.products, 'GET', `/api/product/${product.id}`);
  assert.equal(fresh.result.price, newPrice, 'the products service sees the new price');
  await visit(page, '/cart');
  const note = page.getByTestId('price-changed');
  const dollars = (c) => `$${(c / 100).toFixed(2)}`;
  await waitText(note, new RegExp(`now \\${dollars(newPrice)}, was \\${dollars(product.price)}`));
  await check(page, 'cart-price-changed');
});

// Issue 25: checkout charges a dropped price (contract v1.3), so the cart shows
// today's prices and the total checkout will charge, not the prices of the day
// each line was added.
async function pricedProduct(price) {
  const admin = await adminToken(shop.stack);
  const product = (
    await call(shop.urls.products, 'POST', '/api/product/create', {
      token: admin.token,
      body: { name: `Priced ${uniqueName('p')}`, price },
    })
  ).product;
  return { admin, product };
}

/** The shopper's newest closed order, through the API. */
async function lastOrder(token) {
  const list = await call(shop.urls.orders, 'GET', '/api/orders', { token });
  return list.results.find((o) => !o.is_open);
}

test('a price that dropped after the add: the cart shows the new total, and checkout charges it', T, async () => {
  const { admin, product } = await pricedProduct(1000);
  const { page, token } = await loggedIn('drop');
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 2 } });
  await patchProduct(shop.urls, admin.token, product.id, { price: 700 });
  await visit(page, '/cart');
  await waitText(page.getByTestId('price-changed'), /Price dropped: now \$7\.00, was \$10\.00/);
  await waitText(page.getByTestId('cart-total'), /^\$14\.00$/);
  assert.equal(await page.locator('.line-unit').first().innerText(), '$7.00');
  assert.equal(await page.locator('.line-total').first().innerText(), '$14.00');
  await check(page, 'cart-price-dropped');
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/thank-you\//);
  assert.equal((await lastOrder(token)).total, 1400, 'checkout charged the total the cart showed');
});

test('a price that went up after the add: the new total is shown, confirmed, then charged', T, async () => {
  const { admin, product } = await pricedProduct(1000);
  const { page, token } = await loggedIn('rise');
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 2 } });
  await patchProduct(shop.urls, admin.token, product.id, { price: 1250 });
  await visit(page, '/cart');
  await waitText(page.getByTestId('price-changed'), /Price went up: now \$12\.50, was \$10\.00/);
  await waitText(page.getByTestId('cart-total'), /^\$25\.00$/);
  await page.getByRole('button', { name: 'Check out' }).click();
  // The service refuses (409 prices_changed) until the shopper confirms.
  await waitText(page.locator('.cart-problem'), /Some prices went up since you added them: the new total is \$25\.00/);
  await page.getByRole('button', { name: 'Confirm the new total and check out' }).click();
  await page.waitForURL(/\/thank-you\//);
  assert.equal((await lastOrder(token)).total, 2500);
});

// Issue 25: the catalogue's cards are keyed by product. Drawn in place, the
// next page showed each old picture under its new name until the new one came.
test('Next draws new cards: no picture of the last page under a new name', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  await page.getByTestId('product-card').evaluateAll((cards) => {
    for (const c of cards) c.querySelector('img').dataset.was = c.dataset.product;
  });
  await page.getByRole('link', { name: 'Next' }).click();
  await waitText(page.locator('.pager-status'), /^9–/);
  const cards = await page.getByTestId('product-card').evaluateAll((cards) =>
    cards.map((c) => ({ id: c.dataset.product, was: c.querySelector('img').dataset.was ?? null })),
  );
  assert.ok(cards.length > 0);
  for (const c of cards) {
    assert.ok(c.was === null || c.was === c.id, `card ${c.id} shows the picture element of product ${c.was}`);
  }
});
