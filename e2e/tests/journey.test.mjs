// (1) The whole journey on a healthy shop, and the end of a revoked session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sharedStack } from '../lib/stack.mjs';
import { launch, openPage, screenshot, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { PASSWORD, badgeIs, loginInUi, money, nav, waitText } from '../lib/ui.mjs';

let stack;
let browser;

before(async () => {
  stack = await sharedStack();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.shutdown();
});

/** The same page at phone width (390 px), then back to desktop. */
async function phoneScreenshot(page, name) {
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth > window.innerWidth + 1,
  );
  assert.equal(overflow, false, `${name}: no sideways scrolling at phone width`);
  await screenshot(page, name);
  await page.setViewportSize(desktop);
}

/** A word of a product name that matches some products but not all. */
function searchWord(all) {
  for (const p of all) {
    for (const word of p.name.split(/\s+/)) {
      const w = word.toLowerCase().replace(/[^a-z]/g, '');
      if (w.length < 3) continue;
      const hits = all.filter((x) => x.name.toLowerCase().includes(w));
      if (hits.length < all.length) return { word: w, hits };
    }
  }
  throw new Error('no usable search word in the demo catalogue');
}

test('journey: register, log in, search, fill the cart, check out, see the order, log out', async () => {
  const page = await openPage(browser, stack.spa);
  const username = uniqueName('alice');
  const catalogue = await products(stack.urls);
  assert.ok(catalogue.total >= 2, 'the demo catalogue has products');

  // Register. The API's 422 field errors appear beside their fields.
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username);
  await waitText(page.getByTestId('username-status'), /available/);
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.locator('#field-email-error, #field-password-error'), /\S/);
  await screenshot(page, 'register-field-errors');
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('First name').fill('Alice');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/login\?registered=/);

  // The live check now says the name is taken; a second sign-up gets a 409 on the field.
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username);
  await waitText(page.getByTestId('username-status'), /taken/);
  await page.getByLabel('Email').fill(`other-${username}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.locator('#field-username-error'), /\S/);
  await screenshot(page, 'register-username-taken');

  // Log in.
  await visit(page, '/login');
  await screenshot(page, 'login');
  await loginInUi(page, username);
  await waitText(page.getByTestId('user-name'), /Alice/);
  await badgeIs(page, 0);

  // The catalogue pages through the list.
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  const firstPage = await page.getByTestId('product-card').count();
  assert.equal(firstPage, Math.min(8, catalogue.total));
  await screenshot(page, 'catalogue');
  await phoneScreenshot(page, 'catalogue-phone');
  if (catalogue.total > 8) {
    await page.getByRole('link', { name: 'Next' }).click();
    await waitText(page.locator('.pager-status'), new RegExp(`^9–\\d+ of ${catalogue.total}$`));
    await page.getByRole('link', { name: 'Previous' }).click();
    await waitText(page.locator('.pager-status'), /^1–/);
  }

  // Search by a word of a product name.
  const { word, hits } = searchWord(catalogue.results);
  await page.getByLabel('Search products').fill(word);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(new RegExp(`\\?q=${word}`));
  await waitText(page.locator('.pager-status'), new RegExp(`of ${hits.length}$`));
  const titles = await page.locator('.card-title').allTextContents();
  assert.equal(titles.length, Math.min(8, hits.length));
  for (const t of titles) assert.match(t.toLowerCase(), new RegExp(word));
  await screenshot(page, 'catalogue-search');

  // Two of the first product from the search.
  const first = hits[0];
  await page.getByRole('link', { name: first.name }).first().click();
  await page.getByRole('heading', { level: 1, name: first.name }).waitFor();
  await waitText(page.locator('.price-large'), money(first.price));
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('.notice'), /Added to your cart/);
  await badgeIs(page, 2);
  await screenshot(page, 'product');

  // One of another product, opened by slug from the catalogue.
  const second = catalogue.results.find((p) => p.id !== first.id);
  await visit(page, `/product/${second.slug}`);
  await page.getByRole('heading', { level: 1, name: second.name }).waitFor();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await badgeIs(page, 3);

  // The cart: line totals, a quantity change, a removal.
  await nav(page, /Cart/).click();
  await page.getByTestId('cart-line').nth(1).waitFor();
  assert.equal(await page.getByTestId('cart-line').count(), 2);
  await waitText(page.getByTestId('cart-total'), money(first.price * 2 + second.price));
  await page.getByLabel(`Quantity of ${first.name}`).fill('3');
  await page.getByLabel(`Quantity of ${first.name}`).press('Enter');
  await badgeIs(page, 4);
  await waitText(
    page.locator(`[data-product="${first.id}"] .line-total`),
    money(first.price * 3),
  );
  await screenshot(page, 'cart');
  await phoneScreenshot(page, 'cart-phone');
  await page.getByRole('button', { name: `Remove ${second.name}` }).click();
  await badgeIs(page, 3);
  assert.equal(await page.getByTestId('cart-line').count(), 1);
  await waitText(page.getByTestId('cart-total'), money(first.price * 3));

  // Check out: the thank-you page shows the order, the cart is empty.
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/thank-you\/\d+$/);
  const orderId = Number(new URL(page.url()).pathname.split('/').pop());
  await waitText(page.getByTestId('thanks'), new RegExp(`Order #${orderId} is confirmed`));
  await waitText(page.locator('.order-total'), money(first.price * 3));
  await badgeIs(page, 0);
  await screenshot(page, 'thank-you');

  // The order is in the history.
  await nav(page, 'Orders').click();
  const order = page.locator(`[data-order-id="${orderId}"]`);
  await waitText(order, /Checked out/);
  await waitText(order, new RegExp(first.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await screenshot(page, 'orders');

  // The session survives a reload.
  await page.reload();
  await waitText(page.getByTestId('user-name'), /Alice/);

  // Log out: the token is gone from the browser and dead on the server.
  const token = await page.evaluate(() => localStorage.getItem('cartwheel.token'));
  assert.ok(token);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('.account').getByRole('link', { name: 'Log in' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('cartwheel.token')), null);
  await assert.rejects(call(stack.urls.users, 'GET', '/api/user', { token }), /401/);
  await screenshot(page, 'logged-out');

  assert.deepEqual(page.crashes, []);
  await page.context().close();
});

test('a token the users service revoked sends the user back to log in', async () => {
  const page = await openPage(browser, stack.spa);
  const username = uniqueName('bob');
  await registerAndLogin(stack.urls, username);
  await loginInUi(page, username);
  const token = await page.evaluate(() => localStorage.getItem('cartwheel.token'));
  await call(stack.urls.users, 'POST', '/api/user/logout', { token });
  // The orders service may trust a token it checked for up to 5 s (API.md).
  await new Promise((r) => setTimeout(r, 5_500));

  // The orders service now answers 401: the session ends, the user goes to log in.
  await nav(page, 'Orders').click();
  await page.waitForURL(/\/login$/);
  await waitText(page.locator('.notice'), /session has ended/);
  await page.locator('.account').getByRole('link', { name: 'Log in' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('cartwheel.token')), null);
  await screenshot(page, 'session-ended');
  assert.deepEqual(page.crashes, []);
  await page.context().close();
});
