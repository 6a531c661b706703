// The journeys: one short mouse journey through the shop, one by keyboard alone
// with focus visible at every step, and the end of a revoked session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { PASSWORD, badgeIs, focused, loginInUi, nav, registerInUi, waitText } from '../lib/ui.mjs';
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

/** Presses Tab until `want(activeElement)` holds; focus must be visible at each stop. */
async function tabTo(page, describe, want, arg = null, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    assert.ok(f.visible && f.outline !== 'none', `focus visible on ${f.tag} "${f.text}" (going to ${describe})`);
    if (await page.evaluate(want, arg)) return;
  }
  throw new Error(`Tab never reached ${describe}`);
}

async function focusVisibleNow(page, what) {
  const f = await focused(page);
  assert.notEqual(f.tag, 'body', `${what}: focus is somewhere`);
  assert.ok(f.visible && f.outline !== 'none', `${what}: focus visible on ${f.tag} "${f.text}"`);
  return f;
}

test('keyboard only: register, find a product, add it, change the quantity, check out', T, async () => {
  const product = (await products(shop.urls)).results[0];
  const word = product.name.split(/\s+/).find((w) => w.length >= 3) ?? product.name;
  const username = uniqueName('keys');
  const page = await shop.page();
  await visit(page, '/register');
  await page.getByLabel('Username').waitFor();

  await tabTo(page, 'username', () => document.activeElement.id === 'field-username');
  await page.keyboard.type(username);
  await tabTo(page, 'email', () => document.activeElement.id === 'field-email');
  await page.keyboard.type(`${username}@example.com`);
  await tabTo(page, 'password', () => document.activeElement.id === 'field-password');
  await page.keyboard.type(PASSWORD);
  await tabTo(page, 'create account', () => document.activeElement.textContent.trim() === 'Create account');
  await page.keyboard.press('Enter');
  await waitText(page.getByTestId('user-name'), /Hi, /);
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  await focusVisibleNow(page, 'catalogue heading after registering');

  await tabTo(page, 'search', () => document.activeElement.id === 'search-q');
  await page.keyboard.type(word);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\?q=/);
  await waitText(page.locator('.card-title').first(), /\S/);
  await tabTo(
    page,
    'the product link',
    (name) => document.activeElement.tagName === 'A' && document.activeElement.textContent.includes(name),
    product.name,
  );
  await page.keyboard.press('Enter');
  await page.waitForFunction((name) => document.activeElement?.tagName === 'H1' && document.activeElement.textContent.trim() === name, product.name);
  await focusVisibleNow(page, 'product heading');

  await tabTo(page, 'add to cart', () => document.activeElement.textContent.trim() === 'Add to cart');
  await page.keyboard.press('Enter');
  await badgeIs(page, 1);
  await focusVisibleNow(page, 'after adding');

  await tabTo(page, 'view cart', () => document.activeElement.textContent.trim() === 'View cart');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent.trim() === 'Your cart');
  await tabTo(page, 'the quantity', () => document.activeElement.classList.contains('qty-input'));
  await page.keyboard.press('Control+A');
  await page.keyboard.type('3');
  await page.keyboard.press('Enter');
  await badgeIs(page, 3);
  await page.waitForFunction(() => document.activeElement?.classList.contains('qty-input'));
  await focusVisibleNow(page, 'quantity after the change');

  await tabTo(page, 'check out', () => document.activeElement.textContent.trim() === 'Check out');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/thank-you\/\d+$/);
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  await focusVisibleNow(page, 'thank-you heading');
  await check(page, 'thank-you');
});

test('a token the users service revoked sends the user to log in, and back after', T, async () => {
  const username = uniqueName('bob');
  await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  await loginInUi(page, username);
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
