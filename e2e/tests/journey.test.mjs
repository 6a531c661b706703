// The journeys: one short mouse journey through the shop, one by keyboard alone
// with focus visible at every step, and the end of a revoked session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { PASSWORD, badgeIs, isVisibleFocus, loginInUi, nav, registerInUi, tabTo, waitFocus, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

test('journey: register, add a product, check out, find the order', T, async () => {
  const product = (await products(shop.urls)).results[0];
  const page = await shop.page();
  await registerInUi(page, uniqueName('alice'));
  await badgeIs(page, 0);
  await visit(page, `/product/${product.slug}`);
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await badgeIs(page, 2);
  await nav(page, /Cart/).click();
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/thank-you\/\d+$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  await waitText(page.getByTestId('thanks'), new RegExp(`Order #${id} is confirmed`));
  await badgeIs(page, 0);
  await nav(page, 'Orders').click();
  await waitText(page.locator(`[data-order-id="${id}"]`), /Checked out/);
});

/** Waits until focus is on a page heading (`name`, when given) and visibly so. */
function headingFocused(page, what, name) {
  return waitFocus(
    page,
    what,
    (f) => f.tag === 'h1' && (name === undefined || f.text === name) && isVisibleFocus(f),
  );
}

test('keyboard only: register, find a product, add it, change the quantity, check out', T, async () => {
  const product = (await products(shop.urls)).results[0];
  const word = product.name.split(/\s+/).find((w) => w.length >= 3) ?? product.name;
  const username = uniqueName('keys');
  const page = await shop.page();
  await visit(page, '/register');
  await page.getByLabel('Username').waitFor();

  await tabTo(page, 'username', (f) => f.id === 'field-username');
  await page.keyboard.type(username);
  await tabTo(page, 'email', (f) => f.id === 'field-email');
  await page.keyboard.type(`${username}@example.com`);
  await tabTo(page, 'password', (f) => f.id === 'field-password');
  await page.keyboard.type(PASSWORD);
  await tabTo(page, 'create account', (f) => f.text === 'Create account');
  await page.keyboard.press('Enter');
  await waitText(page.getByTestId('user-name'), /Hi, /);
  await headingFocused(page, 'catalogue heading after registering');

  await tabTo(page, 'search', (f) => f.id === 'search-q');
  await page.keyboard.type(word);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\?q=/);
  // The catalogue keeps the last results on screen (greyed, aria-busy) until the
  // search's arrive, then replaces them: a link tabbed to before that goes with
  // them, and focus with it (to the heading). Tab only through the search's.
  await page.waitForFunction((w) => {
    const titles = [...document.querySelectorAll('.card-title')].map((t) => t.textContent.toLowerCase());
    return document.querySelector('.results')?.getAttribute('aria-busy') === 'false'
      && titles.length > 0 && titles.every((t) => t.includes(w));
  }, word.toLowerCase(), { timeout: 10_000 });
  await tabTo(page, 'the product link', (f) => f.tag === 'a' && f.text.includes(product.name));
  await page.keyboard.press('Enter');
  await headingFocused(page, 'product heading', product.name);

  await tabTo(page, 'add to cart', (f) => f.text === 'Add to cart');
  await page.keyboard.press('Enter');
  await badgeIs(page, 1);
  await waitFocus(page, 'after adding: focus visible somewhere', isVisibleFocus);

  await tabTo(page, 'view cart', (f) => f.text === 'View cart');
  await page.keyboard.press('Enter');
  await waitFocus(page, 'cart heading', (f) => f.tag === 'h1' && f.text === 'Your cart');
  await tabTo(page, 'the quantity', (f) => f.classes.includes('qty-input'));
  await page.keyboard.press('Control+A');
  await page.keyboard.type('3');
  await page.keyboard.press('Enter');
  await badgeIs(page, 3);
  await waitFocus(page, 'quantity after the change, visibly', (f) => f.classes.includes('qty-input') && isVisibleFocus(f));

  await tabTo(page, 'check out', (f) => f.text === 'Check out');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/thank-you\/\d+$/);
  await headingFocused(page, 'thank-you heading');
  await check(page, 'thank-you');
});

test('a token the users service revoked sends the user to log in, and back after', T, async () => {
  const username = uniqueName('bob');
  await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  // The cart, asked with the token as soon as the login lands, must have
  // answered first: asked after the logout it would end the session on the
  // catalogue (as it should), before the click this test makes. The badge is
  // no sign of that answer: it shows the logged-out cart's 0 until it comes
  // (one full run in ten failed here, 2026-12-07), so wait for the answer.
  const cartAnswered = page.waitForResponse((r) =>
    new URL(r.url()).pathname === '/api/order' && r.request().headers().authorization !== undefined);
  await loginInUi(page, username);
  await cartAnswered;
  const token = await page.evaluate(() => localStorage.getItem('cartwheel.token'));
  await call(shop.urls.users, 'POST', '/api/user/logout', { token });
  // The orders service may trust a token it checked for up to 5 s (API.md).
  await new Promise((r) => setTimeout(r, 5_500));
  await nav(page, 'Orders').click();
  await page.waitForURL(/\/login\?next=%2Forders$/);
  await waitText(page.locator('.notice'), /session has ended/);
  assert.equal(await page.evaluate(() => localStorage.getItem('cartwheel.token')), null);
  await check(page, 'session-ended');
  await loginInUi(page, username);
  await page.waitForURL(/\/orders$/);
});
