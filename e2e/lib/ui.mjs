// What a person does in the SPA, as small steps the tests share.
import assert from 'node:assert/strict';
import { visit } from './browser.mjs';

export const PASSWORD = 'correct horse battery';

/** Cents as the SPA shows them. */
export function money(cents) {
  const whole = Math.floor(Math.abs(cents) / 100).toLocaleString('en-US');
  const frac = String(Math.abs(cents) % 100).padStart(2, '0');
  return `${cents < 0 ? '-' : ''}$${whole}.${frac}`;
}

/** Waits until the locator's element shows text matching `re`. */
export async function waitText(locator, re) {
  await locator.filter({ hasText: re }).first().waitFor();
}

/** Registers in the form; a new account is logged in at once. */
export async function registerInUi(page, username, password = PASSWORD) {
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('First name').fill('Test');
  await page.getByLabel('Last name').fill('User');
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitText(page.getByTestId('user-name'), /Hi, (?!…)/);
}

/** Logs out in the header, so the next step starts logged out. */
export async function logoutInUi(page) {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.locator('.account').getByRole('link', { name: 'Log in' }).waitFor();
}

/** The user's cart through the API: product id -> quantity. */
export async function cartLines(urls, token) {
  const r = await fetch(`${urls.orders}/api/order`, { headers: { authorization: `Bearer ${token}` } });
  if (r.status === 404) return {};
  const body = await r.json();
  return Object.fromEntries(body.result.items.map((i) => [i.product, i.quantity]));
}

/** The session token the SPA keeps. */
export function tokenOf(page) {
  return page.evaluate(() => localStorage.getItem('cartwheel.token'));
}

/** The element that has keyboard focus, described. */
/**
 * Waits (up to 2 s) until the element with this id has focus, then checks it:
 * the app moves focus on the next animation frame, after the change it follows
 * is already on screen.
 */
export async function focusIs(page, id, message) {
  await page
    .waitForFunction((want) => document.activeElement?.id === want, id, { timeout: 2000 })
    .catch(() => {});
  assert.equal((await focused(page)).id, id, message);
}

export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName?.toLowerCase(),
      text: el?.textContent?.trim().slice(0, 80),
      id: el?.id,
      visible: el ? el.matches(':focus-visible') : false,
      outline: el ? getComputedStyle(el).outlineStyle : 'none',
    };
  });
}

/** Delays every request to `pattern` by `ms` (a slow network for that service). */
export async function slowDown(page, pattern, ms) {
  await page.route(pattern, async (route) => {
    await new Promise((r) => setTimeout(r, ms));
    await route.continue().catch(() => {});
  });
}

export async function loginInUi(page, username, password = PASSWORD) {
  if (!new URL(page.url()).pathname.startsWith('/login')) {
    await visit(page, '/login');
  }
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitText(page.getByTestId('user-name'), /Hi, (?!…)/);
}

export function nav(page, name) {
  return page.locator('nav.main-nav').getByRole('link', { name });
}

/** Waits for the badge to show this many pieces. */
export async function badgeIs(page, count) {
  await waitText(page.getByTestId('cart-count'), new RegExp(`^${count}$`));
}

export const CATALOGUE_DOWN = /catalogue is unavailable right now/;
export const CART_DOWN = /cart is unavailable right now/;
