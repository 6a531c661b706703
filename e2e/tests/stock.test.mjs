// Issue 13 (contract v1.2), for shoppers: "Only N left" and "Out of stock" on cards
// and product pages, a sold-out product's add refused with its reason; a checkout
// short of stock names what is left and adjusts the cart to it; a checkout while
// the catalogue is down says nothing was charged. Own shop: it changes stock and
// stops the products service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, bothWidths, visit } from '../lib/browser.mjs';
import { adminToken, call, createProduct, patchProduct, productById, uniqueName } from '../lib/api.mjs';
import { cartLines, focusIs, loggedInShopper, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ own: true });

let admin;
async function asAdmin() {
  admin ??= await adminToken(shop.stack);
  return admin.token;
}

/** Products named `<tag> <label>`, one per entry of `stocks` (label -> stock). */
async function productsWith(stocks) {
  const token = await asAdmin();
  const tag = `Stock ${uniqueName('t')}`;
  const made = {};
  for (const [label, stock] of Object.entries(stocks)) {
    made[label] = await createProduct(shop.urls, token, { name: `${tag} ${label}`, price: 1500, stock });
  }
  return { tag, ...made };
}

async function shopper() {
  return loggedInShopper(shop, 'buyer');
}

const add = (token, product, qty) =>
  call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty } });

/** The text of the element that describes `locator` (aria-describedby). */
function description(locator) {
  return locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ')
      .trim(),
  );
}

test('cards say "Only N left" and "Out of stock"; a sold-out card refuses the add and says why', T, async () => {
  const p = await productsWith({ few: 2, gone: 0, plenty: null });
  const { page, token } = await shopper();
  await visit(page, `/?q=${encodeURIComponent(p.tag)}`);
  const card = (product) => page.locator(`[data-testid="product-card"][data-product="${product.id}"]`);
  await waitText(card(p.few).getByTestId('stock-note'), /^Only 2 left$/);
  await waitText(card(p.gone).getByTestId('stock-note'), /^Out of stock$/);
  assert.equal(await card(p.plenty).getByTestId('stock-note').innerText(), '', 'untracked stock says nothing');

  // Issue 25: the sold-out card's button says "Sold out" itself.
  const refused = card(p.gone).getByRole('button', { name: /^Sold out/ });
  assert.equal(await refused.getAttribute('aria-disabled'), 'true');
  assert.equal(await description(refused), 'Out of stock');
  // Still reachable by keyboard, and a press adds nothing.
  await refused.focus();
  await page.keyboard.press('Enter');
  await refused.click({ force: true });
  const open = card(p.few).getByRole('button', { name: /^Add to cart/ });
  assert.equal(await open.getAttribute('aria-disabled'), 'false');
  await page.waitForTimeout(300);
  assert.deepEqual(await cartLines(shop.urls, token), {});

  // Fixed card sizes: the notice's line takes the same room empty or not, so a
  // card never grows or shrinks with its stock (no layout shift).
  const heights = await page
    .getByTestId('product-card')
    .getByTestId('stock-note')
    .evaluateAll((notes) => notes.map((n) => n.getBoundingClientRect().height));
  assert.equal(heights.length, 3);
  assert.ok(heights[0] > 0 && new Set(heights).size === 1, `notice heights ${heights}`);
  await bothWidths(page, 'stock-cards');
});

test('the product page says what is left, refuses a sold-out add, and takes no more than is left', T, async () => {
  const p = await productsWith({ few: 3, gone: 0 });
  const { page, token } = await shopper();

  await visit(page, `/product/${p.gone.slug}`);
  await waitText(page.getByTestId('stock-note'), /^Out of stock$/);
  const button = page.getByRole('button', { name: 'Sold out' });
  assert.equal(await button.getAttribute('aria-disabled'), 'true');
  assert.equal(await description(button), 'Out of stock');
  assert.equal(await page.getByLabel('Quantity').isDisabled(), true);
  await button.focus();
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.deepEqual(await cartLines(shop.urls, token), {});
  await check(page, 'stock-product-out');

  await visit(page, `/product/${p.few.slug}`);
  await waitText(page.getByTestId('stock-note'), /^Only 3 left$/);
  await page.getByLabel('Quantity').fill('4');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('#qty-error'), /Enter a quantity from 1 to 3/);
  assert.deepEqual(await cartLines(shop.urls, token), {});
  await page.getByLabel('Quantity').fill('3');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.getByTestId('added'), /Added 3/);
  assert.deepEqual(await cartLines(shop.urls, token), { [p.few.id]: 3 });
  await bothWidths(page, 'stock-product-few');
});

test('a checkout short of stock names what is left; "Adjust" sets the cart to it; checkout then goes through', T, async () => {
  const p = await productsWith({ short: 2, gone: 1, plenty: null });
  const { page, token } = await shopper();
  await add(token, p.short, 5);
  await add(token, p.gone, 1);
  await add(token, p.plenty, 1);
  // The last one is sold elsewhere after it went into this cart.
  await patchProduct(shop.urls, await asAdmin(), p.gone.id, { stock: 0 });

  await visit(page, '/cart');
  await page.getByTestId('cart-line').nth(2).waitFor();
  await page.getByRole('button', { name: 'Check out' }).click();
  const notice = page.getByTestId('out-of-stock');
  await notice.waitFor();
  const lines = await notice.getByTestId('short-line').allInnerTexts();
  assert.deepEqual(lines, [
    `${p.short.name}: 5 in your cart, only 2 left.`,
    `${p.gone.name}: 1 in your cart, out of stock: none left.`,
  ]);
  assert.match(await notice.innerText(), /Nothing was charged/);
  await focusIs(page, 'adjust-cart', 'focus on the way out');
  assert.deepEqual(await cartLines(shop.urls, token), { [p.short.id]: 5, [p.gone.id]: 1, [p.plenty.id]: 1 }, 'cart unchanged');
  await bothWidths(page, 'cart-out-of-stock');

  await page.keyboard.press('Enter');
  await waitText(page.getByTestId('cart-adjusted'), new RegExp(`${p.short.name} now 2 \\(was 5\\); ${p.gone.name} removed`));
  assert.deepEqual(await cartLines(shop.urls, token), { [p.short.id]: 2, [p.plenty.id]: 1 });
  assert.equal(await page.getByLabel(`Quantity of ${p.short.name}`).inputValue(), '2');
  assert.equal(await page.getByTestId('cart-line').count(), 2);
  assert.equal(await page.getByTestId('out-of-stock').count(), 0);
  await focusIs(page, 'checkout', 'focus on Check out after adjusting');
  await check(page, 'cart-adjusted');

  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/thank-you\/\d+$/);
  assert.equal((await productById(shop.urls, p.short.id)).stock, 0, 'the two left were sold');
  assert.equal((await productById(shop.urls, p.plenty.id)).stock, null, 'untracked stays untracked');
});

test('a checkout while the catalogue is down says nothing was charged, and keeps the cart', T, async () => {
  const p = await productsWith({ some: 10 });
  const { page, token } = await shopper();
  await add(token, p.some, 2);
  await visit(page, '/cart');
  await page.getByTestId('cart-line').waitFor();
  await shop.stack.stop('products');
  await page.getByRole('button', { name: 'Check out' }).click();
  await waitText(page.locator('.cart-problem'), /Checkout is unavailable right now: nothing was charged and no order was placed/);
  assert.match(page.url(), /\/cart$/);
  assert.deepEqual(await cartLines(shop.urls, token), { [p.some.id]: 2 });
  await check(page, 'cart-checkout-unavailable');
  await shop.stack.start('products');
  assert.equal((await productById(shop.urls, p.some.id)).stock, 10, 'nothing reserved');
});

// Issue 25: stock counts per cart at add time. With 3 left and 2 already in
// this cart, the page says so and takes at most 1 more; the card refuses an
// add past what is left, saying why, instead of a line checkout will refuse.
test('what is in the cart counts against what is left: "you have N of the M left"', T, async () => {
  const p = await productsWith({ few: 3, one: 1 });
  const { page, token } = await shopper();
  await add(token, p.few, 2);
  await visit(page, `/product/${p.few.slug}`);
  await waitText(page.getByTestId('qty-hint'), /You have 2 of the 3 left in your cart: add up to 1\./);
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('#qty-error'), /Only 3 left and you have 2 in your cart: add at most 1\./);
  assert.deepEqual(await cartLines(shop.urls, token), { [p.few.id]: 2 });
  await page.getByLabel('Quantity').fill('1');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.getByTestId('added'), /You now have 3 of .* in your cart, 3 of the 3 left\./);
  await waitText(page.getByTestId('qty-hint'), /You have all 3 left in your cart\./);
  await check(page, 'stock-all-in-cart');
  await page.waitForTimeout(600);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('#qty-error'), /You have all 3 left in your cart: no more can be added\./);
  assert.deepEqual(await cartLines(shop.urls, token), { [p.few.id]: 3 });

  // The catalogue card, one at a time.
  await visit(page, `/?q=${encodeURIComponent(p.one.name)}`);
  const card = page.locator(`[data-testid="product-card"][data-product="${p.one.id}"]`);
  await card.getByRole('button', { name: /^Add to cart/ }).click();
  await waitText(card.locator('.card-add-status'), /^1 of the 1 left in your cart$/);
  await page.waitForTimeout(600);
  await card.getByRole('button', { name: /^Add to cart/ }).click();
  await waitText(card.locator('.card-add-status'), /You have all 1 left in your cart: no more can be added\./);
  await page.waitForTimeout(300);
  assert.deepEqual(await cartLines(shop.urls, token), { [p.few.id]: 3, [p.one.id]: 1 });
});
