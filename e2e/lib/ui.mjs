// What a person does in the SPA, as small steps the tests share.
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

export async function registerInUi(page, username, password = PASSWORD) {
  await visit(page, '/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('First name').fill('Test');
  await page.getByLabel('Last name').fill('User');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/login\?registered=/);
  await waitText(page.locator('.notice'), /account is ready/);
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
