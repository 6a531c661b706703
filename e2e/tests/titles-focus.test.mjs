// Issue 10, (3) and (4): every route has its own title; "Skip to content" works;
// focus moves to the new page's heading; a live region says which page it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { focusIs, loginInUi, nav, waitFocus, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

test('each route has its own title', T, async () => {
  const username = uniqueName('titles');
  await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[0];
  const page = await shop.page();
  const expect = async (path, title) => {
    await visit(page, path);
    await page.waitForFunction((t) => document.title === t, title);
  };
  await expect('/', 'Catalogue · Cartwheel');
  await expect('/?q=zzzz', 'Search: zzzz · Cartwheel');
  await expect(`/product/${product.slug}`, `${product.name} · Cartwheel`);
  await expect('/product/no-such-thing', 'Product not found · Cartwheel');
  await expect('/login', 'Log in · Cartwheel');
  await expect('/register', 'Create an account · Cartwheel');
  await expect('/nowhere', 'Page not found · Cartwheel');
  await loginInUi(page, username);
  await expect('/cart', 'Your cart · Cartwheel');
  await expect('/orders', 'Your orders · Cartwheel');
  await expect('/account', 'Your account · Cartwheel');
  await expect('/admin', 'Manage products · Cartwheel');
});

test('"Skip to content" moves focus to the page heading', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByRole('heading', { level: 1, name: 'Catalogue' }).waitFor();
  await page.keyboard.press('Tab');
  await waitFocus(page, 'the skip link, shown (:focus-visible)', (f) => f.text === 'Skip to content' && f.visible);
  await check(page, 'skip-link-focused');
  await page.keyboard.press('Enter');
  await waitFocus(page, 'the "Catalogue" heading after "Skip to content"', (f) => f.tag === 'h1' && f.text === 'Catalogue');
  assert.equal(new URL(page.url()).pathname, '/', 'the route did not change');
  // The next Tab goes on into the page, past the header.
  await page.keyboard.press('Tab');
  await focusIs(page, 'search-q', 'the next Tab goes on to the search field');
});

test('after a page change focus is on the new page heading', T, async () => {
  const product = (await products(shop.urls)).results[0];
  const page = await shop.page();
  await visit(page, '/');
  await page.getByRole('link', { name: product.name }).first().click();
  await waitFocus(page, `the product page's heading "${product.name}"`, (f) => f.tag === 'h1' && f.text === product.name);
  await nav(page, 'Catalogue').click();
  await waitFocus(page, 'the "Catalogue" heading', (f) => f.tag === 'h1' && f.text === 'Catalogue');
});

test('a live region announces the new page', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  const region = page.getByTestId('announcer');
  assert.equal(await region.getAttribute('aria-live'), 'polite');
  await page.locator('.account').getByRole('link', { name: 'Log in' }).click();
  await waitText(region, /^Log in · Cartwheel$/);
  await check(page, 'login-after-navigation');
});
