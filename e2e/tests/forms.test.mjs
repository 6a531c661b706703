// Issue 10, (10): form errors are sentences for people (dollars, not cents), shown
// once, focus goes to the first invalid field, and a duplicate product name is
// reported on the name field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { focusIs, loggedInAdmin, nav, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

async function adminForm() {
  const { page } = await loggedInAdmin(shop, 'admin');
  await nav(page, 'Manage products').click();
  await page.getByRole('button', { name: 'Add product' }).waitFor();
  return page;
}

test('an empty product form: sentences in dollars, focus on the first field', T, async () => {
  const page = await adminForm();
  await page.getByRole('button', { name: 'Add product' }).click();
  await waitText(page.locator('#field-name-error'), /^Name is required\.$/);
  const price = await page.locator('#field-price-error').innerText();
  assert.match(price, /^Price is required: enter it in dollars/);
  assert.doesNotMatch(price, /cents/);
  await focusIs(page, 'field-name', 'focus on the first field');
  assert.equal(await page.locator('.notice').count(), 0, 'no second copy in a notice');
  await check(page, 'admin-errors');
});

test('a price that is not dollars is refused on the price field, focused', T, async () => {
  const page = await adminForm();
  await page.getByLabel(/^Name/).fill(`Thing ${uniqueName('p')}`);
  await page.getByLabel(/^Price/).fill('12.345');
  await page.getByRole('button', { name: 'Add product' }).click();
  await waitText(page.locator('#field-price-error'), /in dollars, for example 12\.50/);
  await focusIs(page, 'field-price', 'focus on the price field');
});

test('a duplicate product name is reported on the name field', T, async () => {
  const existing = (await products(shop.urls)).results[0];
  const page = await adminForm();
  await page.getByLabel(/^Name/).fill(existing.name);
  await page.getByLabel(/^Price/).fill('5');
  await page.getByRole('button', { name: 'Add product' }).click();
  await waitText(page.locator('#field-name-error'), /Another product has this name/);
  assert.equal(await page.locator('#field-slug-error').innerText(), '');
  await focusIs(page, 'field-name', 'focus on the name field');
  assert.equal(await page.locator('.notice').count(), 0);
  await check(page, 'admin-duplicate-name');
});

test('register: server field errors read as sentences, once, focus on the first', T, async () => {
  const page = await shop.page();
  await visit(page, '/register');
  await page.getByLabel('Username').fill(uniqueName('form'));
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.locator('#field-email-error'), /^Email is not a valid email address\.$/);
  await waitText(page.locator('#field-password-error'), /^Password must be at least 8 characters\.$/);
  await focusIs(page, 'field-email', 'focus on the first invalid field');
  assert.equal(await page.locator('.notice').count(), 0, 'no "Some fields are invalid" notice');
  await check(page, 'register-errors');
});

// Issue 25: sign-up accepted a password of eight spaces that login then
// refused as blank; the service refuses it (v1.3) and the page says so.
test('register: a password of only spaces is refused on the password field', T, async () => {
  const page = await shop.page();
  await visit(page, '/register');
  const username = uniqueName('spaces');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill('          ');
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.locator('#field-password-error'), /^Password must not be only white space\.$/);
  await focusIs(page, 'field-password', 'focus on the password field');
});

test('register: a taken username is said on the username field', T, async () => {
  const username = uniqueName('taken');
  await registerAndLogin(shop.urls, username);
  const page = await shop.page();
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username);
  await waitText(page.getByTestId('username-status'), /taken/);
  await page.getByLabel('Email').fill(`other-${username}@example.com`);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.locator('#field-username-error'), /\S/);
  await focusIs(page, 'field-username', 'focus on the username field');
});
