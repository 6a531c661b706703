// (2)-(5) Each part of the shop fails alone. These tests run their own services
// (not run.sh's), kill some of them, and start them again after each test.
import { test } from 'node:test';
import { screenshot, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import {
  CART_DOWN,
  CATALOGUE_DOWN,
  badgeIs,
  loggedInShopper,
  loginInUi,
  logoutInUi,
  nav,
  registerInUi,
  waitText,
} from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop({ own: true });

test('products down: the catalogue says so; register, log in and the cart still work', T, async () => {
  // A cart made while everything was up.
  const username = uniqueName('pdown');
  const token = await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[0];
  await call(shop.urls.orders, 'POST', '/api/order/add-item', {
    token,
    body: { product_id: product.id, qty: 1 },
  });

  await shop.stack.stop('products');
  const page = await shop.page();
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
});

test('orders down: the catalogue still shows; the cart and the badge say the cart is unavailable', T, async () => {
  const username = uniqueName('odown');
  await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[0];
  await shop.stack.stop('orders');

  const page = await shop.page();
  await loginInUi(page, username);
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  await page.getByTestId('cart-unavailable').waitFor();
  await screenshot(page, 'orders-down-catalogue');

  await nav(page, /Cart/).click();
  await waitText(page.locator('.notice'), CART_DOWN);
  await screenshot(page, 'orders-down-cart');

  await visit(page, `/product/${product.slug}`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('.notice'), CART_DOWN);

  // Issue 25: the history is about orders, not "the cart".
  await visit(page, '/orders');
  await waitText(page.locator('.orders-page .notice'), /^Your orders are unavailable right now\./);
  await screenshot(page, 'orders-down-history');
});

test('products and orders down: register and log in still work', T, async () => {
  await shop.stack.stop('products');
  await shop.stack.stop('orders');
  const page = await shop.page();
  const username = uniqueName('podown');
  // Registering logs in.
  await registerInUi(page, username);
  await visit(page, '/');
  await waitText(page.locator('.notice'), CATALOGUE_DOWN);
  await page.getByTestId('cart-unavailable').waitFor();
  await screenshot(page, 'products-orders-down');
});

test('all three down: the page still renders, with notices', T, async () => {
  const { username, page } = await loggedInShopper(shop, 'alldown');
  await Promise.all(['users', 'products', 'orders'].map((s) => shop.stack.stop(s)));

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
  const fresh = await shop.page();
  await visit(fresh, '/');
  await waitText(fresh.locator('.notice'), CATALOGUE_DOWN);
  await screenshot(fresh, 'all-down');
  await visit(fresh, '/login');
  await fresh.getByLabel('Username').fill(username);
  await fresh.getByLabel('Password').fill('whatever it is');
  await fresh.getByRole('button', { name: 'Log in' }).click();
  await waitText(fresh.locator('.notice'), /Accounts are unavailable right now/);
  await screenshot(fresh, 'all-down-login');

});
