// (2)-(5) Each part of the shop fails alone. These tests run their own services
// (not run.sh's), kill some of them, and start them again after each test.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../lib/stack.mjs';
import { launch, openPage, screenshot, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import {
  CART_DOWN,
  CATALOGUE_DOWN,
  badgeIs,
  loginInUi,
  logoutInUi,
  nav,
  registerInUi,
  waitText,
} from '../lib/ui.mjs';

let stack;
let browser;
let catalogue;

before(async () => {
  stack = await Stack.start();
  browser = await launch();
  catalogue = await products(stack.urls);
});

afterEach(async () => {
  await stack.startAll();
});

after(async () => {
  await browser?.close();
  await stack?.shutdown();
});

test('products down: the catalogue says so; register, log in and the cart still work', async () => {
  // A cart made while everything was up.
  const username = uniqueName('pdown');
  const token = await registerAndLogin(stack.urls, username);
  const product = catalogue.results[0];
  await call(stack.urls.orders, 'POST', '/api/order/add-item', {
    token,
    body: { product_id: product.id, qty: 1 },
  });

  await stack.stop('products');
  const page = await openPage(browser, stack.spa);
  await visit(page, '/');
  await waitText(page.locator('.notice'), CATALOGUE_DOWN);
  await screenshot(page, 'products-down-catalogue');

  await registerInUi(page, uniqueName('newbie'));
  await logoutInUi(page);
  await loginInUi(page, username);
  await badgeIs(page, 1);
  await nav(page, /Cart/).click();
  await page.getByTestId('cart-line').first().waitFor();
  await page.getByLabel(`Quantity of ${product.name}`).fill('2');
  await page.getByLabel(`Quantity of ${product.name}`).press('Enter');
  await badgeIs(page, 2);
  await screenshot(page, 'products-down-cart');
  assert.deepEqual(page.crashes, []);
  await page.context().close();
});

test('orders down: the catalogue still shows; the cart and the badge say the cart is unavailable', async () => {
  const username = uniqueName('odown');
  await registerAndLogin(stack.urls, username);
  await stack.stop('orders');

  const page = await openPage(browser, stack.spa);
  await loginInUi(page, username);
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  await page.getByTestId('cart-unavailable').waitFor();
  await screenshot(page, 'orders-down-catalogue');

  await nav(page, /Cart/).click();
  await waitText(page.locator('.notice'), CART_DOWN);
  await screenshot(page, 'orders-down-cart');

  await visit(page, `/product/${catalogue.results[0].slug}`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('.notice'), CART_DOWN);
  assert.deepEqual(page.crashes, []);
  await page.context().close();
});

test('products and orders down: register and log in still work', async () => {
  await stack.stop('products');
  await stack.stop('orders');
  const page = await openPage(browser, stack.spa);
  const username = uniqueName('podown');
  // Registering logs in.
  await registerInUi(page, username);
  await visit(page, '/');
  await waitText(page.locator('.notice'), CATALOGUE_DOWN);
  await page.getByTestId('cart-unavailable').waitFor();
  await screenshot(page, 'products-orders-down');
  assert.deepEqual(page.crashes, []);
  await page.context().close();
});

test('all three down: the page still renders, with notices', async () => {
  const username = uniqueName('alldown');
  await registerAndLogin(stack.urls, username);
  const page = await openPage(browser, stack.spa);
  await loginInUi(page, username);
  await Promise.all(['users', 'products', 'orders'].map((s) => stack.stop(s)));

  // A logged-in visitor: header, navigation and a notice per missing part.
  await page.reload();
  await page.locator('header.site-header').waitFor();
  await nav(page, 'Catalogue').waitFor();
  await waitText(page.locator('.notice'), CATALOGUE_DOWN);
  await page.getByTestId('cart-unavailable').waitFor();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await screenshot(page, 'all-down-logged-in');
  await nav(page, /Cart/).click();
  await waitText(page.locator('.notice'), CART_DOWN);

  // Logging out still works locally.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('.account').getByRole('link', { name: 'Log in' }).waitFor();

  // An anonymous visitor, and a login attempt.
  const fresh = await openPage(browser, stack.spa);
  await visit(fresh, '/');
  await waitText(fresh.locator('.notice'), CATALOGUE_DOWN);
  await screenshot(fresh, 'all-down');
  await visit(fresh, '/login');
  await fresh.getByLabel('Username').fill(username);
  await fresh.getByLabel('Password').fill('whatever it is');
  await fresh.getByRole('button', { name: 'Log in' }).click();
  await waitText(fresh.locator('.notice'), /Accounts are unavailable right now/);
  await screenshot(fresh, 'all-down-login');

  assert.deepEqual(page.crashes, []);
  assert.deepEqual(fresh.crashes, []);
  await page.context().close();
  await fresh.context().close();
});
