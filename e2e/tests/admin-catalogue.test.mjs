// Issue 13 (contract v1.2), for admins: every product listed, hidden ones too,
// a page at a time (issue 25);
// edit with the service's 422 and 409 beside the fields; hide (gone from the shop,
// its page a 404, still in carts and history under its name) and show; a quick
// restock makes a sold-out product buyable. Own shop: it hides products.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bothWidths, check, savePicture, visit } from '../lib/browser.mjs';
import { adminToken, call, createProduct, patchProduct, productById, uniqueName } from '../lib/api.mjs';
import { cartLines, focusIs, focusOn, loggedInShopper, loginInUi, nav, waitFocus, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ own: true });
/** Products per page of the admin list (app/src/pages/admin/list.rs, `ADMIN_PAGE`). */
const PAGE = 20;

/** An admin on the admin page, and a product of the test's own. */
async function adminWith(fields = {}) {
  const admin = await adminToken(shop.stack);
  const product = await createProduct(shop.urls, admin.token, {
    name: `Cat ${uniqueName('p')}`,
    price: 2000,
    ...fields,
  });
  const page = await shop.page();
  await loginInUi(page, admin.username, admin.password);
  await nav(page, 'Manage products').click();
  await page.getByRole('heading', { level: 1, name: 'Manage products' }).waitFor();
  const card = page.locator(`[data-testid="admin-product"][data-product="${product.id}"]`);
  // Seen in full runs (2026-12-07) until the products service's names stopped
  // answering requests that queued behind a reload from before the product was
  // added (api-products search.rs, reads_during_the_reload_after_a_change_wait_for_it).
  // Should it come back, what the page showed instead goes with the failure.
  await card.waitFor().catch(async (e) => {
    await savePicture(page, `admin-without-${product.id}`).catch(() => {});
    const shown = await page.getByTestId('admin-product').evaluateAll((els) => els.map((el) => el.dataset.product));
    const text = (await page.locator('main').innerText().catch(() => '')).slice(0, 400);
    throw new Error(`product ${product.id} not on the admin page; it shows ${JSON.stringify(shown)}: ${text}`, { cause: e });
  });
  return { page, admin, product, card };
}

const shopper = () => loggedInShopper(shop, 'buyer');

test('the list shows every product, hidden ones too, with price, stock and state', T, async () => {
  const { page, admin, product, card } = await adminWith({ stock: 7 });
  const hidden = await createProduct(shop.urls, admin.token, { name: `Cat ${uniqueName('h')}`, price: 100 });
  await call(shop.urls.products, 'PATCH', `/api/product/${hidden.id}`, { token: admin.token, body: { hidden: true } });
  await page.reload();
  const hiddenCard = page.locator(`[data-testid="admin-product"][data-product="${hidden.id}"]`);
  await waitText(hiddenCard.getByTestId('admin-visibility'), /^hidden$/);
  await waitText(hiddenCard.getByTestId('admin-stock'), /^not tracked$/);
  await waitText(card.getByTestId('admin-stock'), /^7$/);
  await waitText(card.getByTestId('admin-price'), /^\$20\.00$/);
  await waitText(card.getByTestId('admin-visibility'), /^on sale$/);
  // One page of the list, newest first: the hidden product (the newest) on top.
  const { total } = await call(shop.urls.products, 'GET', '/api/products?include_hidden=true&limit=1', { token: admin.token });
  await waitText(page.getByTestId('admin-count'), new RegExp(`^${total} products, hidden ones included, newest first\\.$`));
  assert.equal(await page.getByTestId('admin-product').count(), Math.min(total, PAGE));
  assert.equal(await page.getByTestId('admin-product').first().getAttribute('data-product'), String(hidden.id));
  await bothWidths(page, 'admin-catalogue');
});

/** Every request the page sends to the shop's services from now on (URLs). */
function shopRequests(page) {
  const seen = [];
  const services = Object.values(shop.urls).map((u) => new URL(u).origin);
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (services.includes(url.origin)) seen.push(url);
  });
  return seen;
}

/** The ids of the admin cards shown, in order. */
function cardIds(page) {
  return page.getByTestId('admin-product').evaluateAll((cards) => cards.map((c) => Number(c.dataset.product)));
}

/**
 * Waits until the cards shown are those the service lists for an admin at
 * `offset`, newest first, in that order.
 */
async function cardsAre(page, token, offset) {
  const path = `/api/products?include_hidden=true&sort=-id&limit=${PAGE}&offset=${offset}`;
  const want = (await call(shop.urls.products, 'GET', path, { token })).results.map((p) => p.id);
  const deadline = Date.now() + 10_000;
  let shown;
  do {
    shown = await cardIds(page).catch(() => []);
    if (JSON.stringify(shown) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  assert.deepEqual(shown, want, `the cards of the page at ${offset}`);
}

// Issue 25: the admin list no longer downloads the whole catalogue (limit=1000):
// the service pages it, a pager goes through it, and no request of the page ever
// asks for more than one page.
test('the admin list pages through the catalogue on the service, a page at a time', T, async () => {
  const admin = await adminToken(shop.stack);
  // A page and more of products of the test's own, one of them hidden, so that
  // with the demo catalogue and what other tests made there are three pages or more.
  const before = (await call(shop.urls.products, 'GET', '/api/products?include_hidden=true&limit=1', { token: admin.token })).total;
  const made = [];
  for (let i = 0; i < Math.max(PAGE + 3, 2 * PAGE + 3 - before); i++) {
    made.push(await createProduct(shop.urls, admin.token, { name: `Paged ${i} ${uniqueName('g')}`, price: 100 + i, stock: i }));
  }
  const hidden = made[PAGE + 1];
  await patchProduct(shop.urls, admin.token, hidden.id, { hidden: true });
  const { total } = await call(shop.urls.products, 'GET', '/api/products?include_hidden=true&limit=1', { token: admin.token });
  assert.ok(total > 2 * PAGE, `more than two pages (${total})`);
  const last = Math.floor((total - 1) / PAGE) * PAGE;

  const page = await shop.page();
  const seen = shopRequests(page);
  await loginInUi(page, admin.username, admin.password);
  await nav(page, 'Manage products').click();
  const status = page.locator('.admin-list .pager-status');
  await waitText(status, new RegExp(`^1–${PAGE} of ${total}$`));
  await cardsAre(page, admin.token, 0);
  // Newest first: the test's last product on top, its hidden one on this page, marked.
  assert.equal((await cardIds(page))[0], made.at(-1).id);
  const hiddenCard = page.locator(`[data-testid="admin-product"][data-product="${hidden.id}"]`);
  await waitText(hiddenCard.getByTestId('admin-visibility'), /^hidden$/);
  const pager = page.getByRole('navigation', { name: 'Pages' });
  assert.equal(await pager.getByRole('link', { name: /Previous/ }).count(), 0, 'no Previous on the first page');

  // Next, by keyboard: the second page, focus still on Next (it is the same
  // link), so Enter again goes on; on the last page Next is gone, and focus
  // goes to the heading rather than to nowhere.
  const next = pager.getByRole('link', { name: /Next/ });
  await next.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/admin\\?offset=${PAGE}$`));
  await waitText(status, new RegExp(`^${PAGE + 1}–${2 * PAGE} of ${total}$`));
  await cardsAre(page, admin.token, PAGE);
  await focusOn(page, next, 'focus stays on Next', { visible: true });
  await check(page, 'admin-catalogue-page-2');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/admin\\?offset=${2 * PAGE}$`));
  await waitText(status, new RegExp(`^${2 * PAGE + 1}–${Math.min(3 * PAGE, total)} of ${total}$`));
  await cardsAre(page, admin.token, 2 * PAGE);
  if (last === 2 * PAGE) {
    await waitFocus(page, 'the "Manage products" heading once Next is gone', (f) => f.tag === 'h1' && f.text === 'Manage products');
  } else {
    await focusOn(page, next, 'focus stays on Next', { visible: true });
  }

  // The last page, by the URL (reload and Back keep the page).
  await visit(page, `/admin?offset=${last}`);
  await waitText(status, new RegExp(`^${last + 1}–${total} of ${total}$`));
  await cardsAre(page, admin.token, last);
  assert.equal(await pager.getByRole('link', { name: /Next/ }).count(), 0, 'no Next on the last page');
  await pager.getByRole('link', { name: /Previous/ }).click();
  await waitText(status, new RegExp(`^${last - PAGE + 1}–${last} of ${total}$`));
  await page.goBack();
  await waitText(status, new RegExp(`^${last + 1}–${total} of ${total}$`));

  // Back to the first page: adding a product puts it on top, the count follows.
  await visit(page, '/admin');
  await waitText(status, new RegExp(`^1–${PAGE} of ${total}$`));
  const name = `Paged new ${uniqueName('n')}`;
  await page.getByLabel(/^Name/).first().fill(name);
  await page.getByLabel(/^Price/).first().fill('4.00');
  await page.getByRole('button', { name: 'Add product' }).click();
  await waitText(status, new RegExp(`^1–${PAGE} of ${total + 1}$`));
  await waitText(page.getByTestId('admin-product').first(), new RegExp(name));
  await cardsAre(page, admin.token, 0);
  assert.equal((await cardIds(page))[1], made.at(-1).id, 'the one before it next');

  // Every list the page asked for was one page at most: never the whole
  // catalogue, and never the service's default of 100 (no `limit`).
  const lists = seen.filter((u) => u.pathname === '/api/products');
  const admins = lists.filter((u) => u.searchParams.get('include_hidden') === 'true');
  assert.ok(admins.length >= 6, `the page asked for each page it showed (${admins.length})`);
  for (const url of lists) assert.ok(url.searchParams.has('limit'), `a limit: ${url}`);
  for (const url of seen.filter((u) => u.searchParams.has('limit'))) {
    const limit = Number(url.searchParams.get('limit'));
    assert.ok(limit >= 1 && limit <= PAGE, `asked for at most ${PAGE}: ${url}`);
  }
});

test('an admin edits a product: problems beside the fields, then saved, focus back on Edit', T, async () => {
  const { page, admin, product, card } = await adminWith({ stock: 4 });
  const other = await createProduct(shop.urls, admin.token, { name: `Cat ${uniqueName('o')}`, price: 100 });
  const prefix = `#edit-${product.id}`;
  await card.getByRole('button', { name: `Edit ${product.name}` }).click();
  const form = card.getByTestId('edit-form');
  await form.waitFor();
  await focusIs(page, `edit-${product.id}-name`, 'focus on the first field');
  assert.equal(await form.getByLabel(/^Price/).inputValue(), '20.00');
  assert.equal(await form.getByLabel(/^Stock/).inputValue(), '4');

  // Checked here: dollars, and a count.
  await form.getByLabel(/^Price/).fill('12.345');
  await form.getByLabel(/^Stock/).fill('-2');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await waitText(page.locator(`${prefix}-price-error`), /in dollars/);
  await waitText(page.locator(`${prefix}-stock-error`), /whole number from 0 to 1,000,000/);
  await focusIs(page, `edit-${product.id}-price`);

  // The service's 409: another product has this name.
  await form.getByLabel(/^Price/).fill('7.25');
  await form.getByLabel(/^Stock/).fill('9');
  await form.getByLabel(/^Name/).fill(other.name);
  await form.getByRole('button', { name: 'Save changes' }).click();
  await waitText(page.locator(`${prefix}-name-error`), /Another product has this name/);
  await focusIs(page, `edit-${product.id}-name`);

  // The service's 422, named on its field.
  const renamed = `Cat ${uniqueName('r')}`;
  await form.getByLabel(/^Name/).fill(renamed);
  await form.getByLabel('Description').fill('x'.repeat(2001));
  await form.getByRole('button', { name: 'Save changes' }).click();
  await waitText(page.locator(`${prefix}-description-error`), /^Description .*2000/);
  await focusIs(page, `edit-${product.id}-description`);
  await check(page, 'admin-edit-errors');
  assert.equal((await productById(shop.urls, product.id)).name, product.name, 'nothing saved yet');

  await form.getByLabel('Description').fill('Edited in the browser.');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await waitText(card.getByTestId('admin-row-status'), new RegExp(`Saved “${renamed}”`));
  assert.equal(await card.getByTestId('edit-form').count(), 0);
  await focusIs(page, `edit-${product.id}`, 'focus back on Edit');
  await waitText(card.getByTestId('admin-price'), /^\$7\.25$/);
  await waitText(card.getByTestId('admin-stock'), /^9$/);
  const saved = await productById(shop.urls, product.id);
  assert.deepEqual(
    { name: saved.name, price: saved.price, stock: saved.stock, description: saved.description, slug: saved.slug },
    { name: renamed, price: 725, stock: 9, description: 'Edited in the browser.', slug: product.slug },
  );

  // Escape closes the form without saving.
  await card.getByRole('button', { name: `Edit ${renamed}` }).click();
  await form.getByLabel(/^Price/).fill('1.00');
  await page.keyboard.press('Escape');
  assert.equal(await card.getByTestId('edit-form').count(), 0);
  await focusIs(page, `edit-${product.id}`);
  assert.equal((await productById(shop.urls, product.id)).price, 725);
});

test('hiding takes a product out of the shop, not out of carts and history; showing brings it back', T, async () => {
  const { page, card, product } = await adminWith();
  const buyer = await shopper();
  const addIt = () =>
    call(shop.urls.orders, 'POST', '/api/order/add-item', { token: buyer.token, body: { product_id: product.id, qty: 1 } });
  await addIt();
  await call(shop.urls.orders, 'POST', '/api/order/checkout', { token: buyer.token });
  await addIt();

  const toggle = card.getByTestId('toggle-hidden');
  await toggle.click();
  await waitText(card.getByTestId('admin-row-status'), /is hidden: shoppers no longer see it/);
  await waitText(card.getByTestId('admin-visibility'), /^hidden$/);
  assert.match(await toggle.innerText(), /Show in shop/);
  await focusOn(page, toggle, 'focus stays on the button');
  await check(page, 'admin-hidden');

  const b = buyer.page;
  await visit(b, `/?q=${encodeURIComponent(product.name)}`);
  await waitText(b.locator('.empty'), /No products match/);
  await visit(b, `/product/${product.slug}`);
  await b.getByRole('heading', { level: 1, name: 'Product not found' }).waitFor();
  await visit(b, '/orders');
  await waitText(b.getByTestId('order').first(), new RegExp(product.name));
  await visit(b, '/cart');
  await waitText(b.getByTestId('cart-line').first(), new RegExp(product.name));
  // Off sale, so the open cart cannot be checked out with it: the notice says so.
  await b.getByRole('button', { name: 'Check out' }).click();
  await waitText(b.getByTestId('short-line'), new RegExp(`${product.name}: 1 in your cart, no longer on sale`));
  await check(b, 'cart-hidden-product');
  await b.getByRole('button', { name: 'Adjust my cart to what is left' }).click();
  await b.getByTestId('cart-empty').waitFor();
  assert.deepEqual(await cartLines(shop.urls, buyer.token), {});

  await toggle.click();
  await waitText(card.getByTestId('admin-row-status'), /is on sale again/);
  await visit(b, `/?q=${encodeURIComponent(product.name)}`);
  await b.getByTestId('product-card').first().waitFor();
});

test('a quick restock, by keyboard, makes a sold-out product buyable', T, async () => {
  const { page, card, product } = await adminWith({ stock: 0 });
  await waitText(card.getByTestId('admin-stock'), /^0 \(out of stock\)$/);
  const buyer = await shopper();
  await visit(buyer.page, `/product/${product.slug}`);
  await waitText(buyer.page.getByTestId('stock-note'), /^Out of stock$/);

  const input = card.getByLabel(`New stock of ${product.name}`);
  await input.focus();
  await page.keyboard.press('Enter');
  await waitText(card.locator(`#restock-${product.id}-error`), /Enter how many are in stock/);
  await page.keyboard.type('4');
  await page.keyboard.press('Enter');
  await waitText(card.getByTestId('admin-row-status'), new RegExp(`Stock of “${product.name}” set to 4\\.`));
  await waitText(card.getByTestId('admin-stock'), /^4$/);
  assert.equal(await input.inputValue(), '');
  await focusIs(page, `restock-${product.id}`, 'focus stays in the restock field');

  await visit(buyer.page, `/product/${product.slug}`);
  await waitText(buyer.page.getByTestId('stock-note'), /^Only 4 left$/);
  await buyer.page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(buyer.page.getByTestId('added'), /Added 1/);
  assert.deepEqual(await cartLines(shop.urls, buyer.token), { [product.id]: 1 });
});
