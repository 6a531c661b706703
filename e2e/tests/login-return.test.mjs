// Issue 10, (5): logging in returns to the page the shopper came from, registering
// logs in, and the login and register forms are not shown to someone logged in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { PASSWORD, badgeIs, cartLines, focusOn, loggedInShopper, loginInUi, slowDown, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

test('"Log in to add this to your cart" comes back to the product', T, async () => {
  const username = uniqueName('back');
  await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[2];
  const page = await shop.page();
  await visit(page, `/product/${product.slug}`);
  await page.locator('.login-hint').getByRole('link', { name: 'Log in' }).click();
  await page.waitForURL(/\/login\?next=/);
  await loginInUi(page, username);
  await page.waitForURL(new RegExp(`/product/${product.slug}$`));
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
});

test('the header Log in link comes back to a searched catalogue page', T, async () => {
  const username = uniqueName('back2');
  await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  await visit(page, '/?q=a');
  await page.locator('.account').getByRole('link', { name: 'Log in' }).click();
  await loginInUi(page, username);
  await page.waitForURL(/\/\?q=a$/);
});

test('a login never leaves the site, whatever ?next= says', T, async () => {
  const username = uniqueName('evil');
  await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  await visit(page, '/login?next=//example.com/x');
  await loginInUi(page, username);
  assert.equal(new URL(page.url()).origin, shop.stack.spa);
  assert.equal(new URL(page.url()).pathname, '/');
});

test('registering logs the new user in and returns to the page', T, async () => {
  const product = (await products(shop.urls)).results[0];
  const username = uniqueName('newreg');
  const page = await shop.page();
  await visit(page, `/product/${product.slug}`);
  await page.locator('.account').getByRole('link', { name: 'Register' }).click();
  await page.waitForURL(/\/register\?next=/);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.getByTestId('user-name'), /Hi, /);
  await page.waitForURL(new RegExp(`/product/${product.slug}$`));
  assert.ok(await page.evaluate(() => localStorage.getItem('cartwheel.token')));
});

test('a logged-in user sees no login or register form', T, async () => {
  const { username, page } = await loggedInShopper(shop, 'already');
  for (const path of ['/login', '/register']) {
    await visit(page, path);
    await waitText(page.getByTestId('already-logged-in'), new RegExp(`logged in as ${username}`));
    assert.equal(await page.getByLabel('Password').count(), 0, `${path}: no password field`);
  }
  await check(page, 'register-when-logged-in');
});

// Issue 25: the Log in button was disabled while the login was on its way,
// which dropped focus to the page: a failed login started from it left the
// keyboard user nowhere. The button stays focused, the notice says why.
test('a failed login started from the button keeps focus on the button', T, async () => {
  const username = uniqueName('wrong');
  await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  await visit(page, '/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('not the password');
  const button = page.getByRole('button', { name: 'Log in', exact: true });
  await button.focus();
  await page.keyboard.press('Enter');
  await waitText(page.locator('.notice'), /Wrong username or password\./);
  await focusOn(page, page.locator('form').getByRole('button', { name: 'Log in', exact: true }), 'focus on the Log in button');
});

// Issue 25: "Add to cart" pressed while logged out led to the login and back,
// but the add itself was lost: it is done on coming back.
test('a card\'s add pressed while logged out is done after logging in', T, async () => {
  const username = uniqueName('later');
  const token = await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  await visit(page, '/');
  const card = page.getByTestId('product-card').nth(1);
  const id = Number(await card.getAttribute('data-product'));
  await card.getByRole('button', { name: /^Add to cart/ }).click();
  // From the catalogue's first page, the login comes back there (no ?next=).
  await page.waitForURL(/\/login$/);
  await loginInUi(page, username);
  await page.waitForURL(/\/$/);
  const back = page.locator(`[data-testid="product-card"][data-product="${id}"]`);
  await waitText(back.locator('.card-add-status'), /^1 in your cart$/);
  assert.deepEqual(await cartLines(shop.urls, token), { [id]: 1 });
  // Done once: coming back again adds nothing more.
  await visit(page, '/');
  await back.waitFor();
  await page.waitForTimeout(500);
  assert.deepEqual(await cartLines(shop.urls, token), { [id]: 1 });
});

test('after a login the cart is the shopper\'s own: never 0 or "empty" before it comes', T, async () => {
  const username = uniqueName('held');
  const token = await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[1];
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 2 } });
  const page = await shop.page();
  // The shopper's cart is slow to come. Until it does, the badge and the cart
  // page must say it is loading: the value held until then is the logged-out
  // one (no cart), which read as "0" and "Your cart is empty".
  await slowDown(page, (url) => url.pathname === '/api/order', 1_500);
  await visit(page, '/login?next=%2Fcart');
  await loginInUi(page, username);
  await page.waitForURL(/\/cart$/);
  const seen = new Set();
  for (const until = Date.now() + 1_000; Date.now() < until; ) {
    seen.add(await page.evaluate(() => [
      document.querySelector('[data-testid="cart-count"]')?.textContent ?? '',
      document.querySelector('[data-testid="cart-empty"]') ? 'empty' : '',
    ].join('|')));
    await page.waitForTimeout(50);
  }
  await badgeIs(page, 2);
  assert.deepEqual([...seen].filter((s) => s !== '|'), [], 'nothing but "loading" before the cart came');
  await check(page, 'cart-after-login');
});
