// What a person does in the SPA, as small steps the tests share.
import assert from 'node:assert/strict';
import { visit } from './browser.mjs';
import { call, products, registerAndLogin, uniqueName } from './api.mjs';

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

/**
 * How long a focus check waits for focus to get where it should. The app moves
 * focus on a later animation frame (after the change it follows is on screen,
 * a page's heading once its data came), so focus is never read at once: every
 * check polls until the expected element has it, and fails after this long
 * naming the element that has it instead.
 */
export const FOCUS_WAIT_MS = 10_000;

/** The element that has keyboard focus, described (one read, no waiting). */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName?.toLowerCase(),
      text: el?.textContent?.trim().replace(/\s+/g, ' '),
      id: el?.id,
      classes: el ? [...el.classList] : [],
      visible: el ? el.matches(':focus-visible') : false,
      outline: el ? getComputedStyle(el).outlineStyle : 'none',
    };
  });
}

/** A `focused(page)` answer in a few words, for failure messages. */
export function describeFocus(f) {
  if (!f) return 'unknown (the page could not be read)';
  if (!f.tag) return 'no element';
  const id = f.id ? `#${f.id}` : '';
  const cls = f.classes?.length ? `.${f.classes.join('.')}` : '';
  const text = f.text ? ` "${f.text.slice(0, 80)}"` : '';
  const ring = f.visible ? `focus-visible, outline ${f.outline}` : `not :focus-visible, outline ${f.outline}`;
  return `<${f.tag}${id}${cls}>${text} (${ring})`;
}

/**
 * Polls until `want(f)` holds for the focused element `f` (as `focused` describes
 * it) and returns `f`; fails after `timeout` ms, saying `what` was expected and
 * which element has focus instead.
 */
export async function waitFocus(page, what, want, { timeout = FOCUS_WAIT_MS } = {}) {
  const deadline = Date.now() + timeout;
  let f = null;
  for (;;) {
    // A read can fail while the page is being replaced: that is not focus yet.
    f = await focused(page).catch(() => null);
    if (f && want(f)) return f;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: not focused within ${timeout} ms; focus is on ${describeFocus(f)}`);
}

/** Waits until the element with this id has focus (see `waitFocus`). */
export async function focusIs(page, id, message) {
  const what = message ? `${message} (#${id})` : `#${id}`;
  return waitFocus(page, what, (f) => f.id === id);
}

/**
 * Waits until the locator's element itself has focus (and, with `visible`, shows
 * it: `:focus-visible` and an outline); see `waitFocus`. The locator is resolved
 * anew at each poll, so an element drawn again still counts.
 */
export async function focusOn(page, locator, what, { visible = false, timeout = FOCUS_WAIT_MS } = {}) {
  const deadline = Date.now() + timeout;
  let it = null;
  for (;;) {
    it = await locator
      .evaluate(
        (el) => ({
          on: el === document.activeElement,
          visible: el.matches(':focus-visible'),
          outline: getComputedStyle(el).outlineStyle,
        }),
        null,
        { timeout: 1000 },
      )
      .catch(() => null);
    if (it?.on && (!visible || (it.visible && it.outline !== 'none'))) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const f = await focused(page).catch(() => null);
  const state = !it ? 'not found' : it.on ? 'focused but not visibly' : 'not focused';
  assert.fail(`${what}: ${state} within ${timeout} ms; focus is on ${describeFocus(f)}`);
}

/** Focus is on some element, not `<body>`, and shows it (see `waitFocus`). */
export function isVisibleFocus(f) {
  return f.tag !== undefined && f.tag !== 'body' && f.visible && f.outline !== 'none';
}

/**
 * Presses Tab until `want(f)` (may be async) holds for the focused element `f`;
 * after each press, waits until focus is somewhere and, with `visible`, visibly
 * so (a keyboard user always sees where focus is). Fails after `max` presses
 * naming where focus is.
 */
export async function tabTo(page, what, want, { max = 60, visible = true } = {}) {
  let f = null;
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    f = await waitFocus(
      page,
      `Tab ${i + 1} on the way to ${what}: focus ${visible ? 'visible ' : ''}somewhere`,
      visible ? isVisibleFocus : (g) => g.tag !== undefined && g.tag !== 'body',
    );
    if (await want(f)) return f;
  }
  assert.fail(`Tab never reached ${what} in ${max} presses; focus is on ${describeFocus(f)}`);
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

/**
 * An outage of one service as this page sees it: its requests matching `match`
 * (a URL predicate) fail until `up()`. Sections heal by themselves (retries
 * backing off 1, 2, 4 ... s), so a test of "Try again" must not race them:
 * `up()` returns just after one of the page's own retries failed, when the
 * next is at least two seconds away, and a press right then is what brings
 * the section back.
 */
export async function outageInPage(page, match) {
  let down = true;
  let asked = 0;
  await page.route(match, async (route) => {
    asked += 1;
    if (down) await route.abort('connectionrefused');
    else await route.continue();
  });
  return {
    async up() {
      const seen = asked;
      for (let i = 0; i < 400 && asked === seen; i++) await new Promise((r) => setTimeout(r, 25));
      assert.notEqual(asked, seen, 'the page retried by itself');
      down = false;
    },
  };
}

/** A new shopper whose cart holds `qty` of the catalogue's first product, logged in on a new page of `shop`. */
export async function shopperWithCart(shop, name, qty = 2) {
  const username = uniqueName(name);
  const token = await registerAndLogin(shop.urls, username);
  const product = (await products(shop.urls)).results[0];
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty } });
  return { ...(await loggedInAs(shop, username, token)), product };
}

/**
 * A new shopper, registered through the API and logged in through the SPA
 * (a page of `size`, the shop's default if none): its name, token and page.
 */
export async function loggedInShopper(shop, prefix, size) {
  const username = uniqueName(prefix);
  const token = await registerAndLogin(shop.urls, username);
  return loggedInAs(shop, username, token, size);
}

/** As `loggedInShopper`, an admin (made one before logging in). */
export async function loggedInAdmin(shop, prefix) {
  const username = uniqueName(prefix);
  const token = await registerAndLogin(shop.urls, username);
  await shop.stack.makeAdmin(username);
  return loggedInAs(shop, username, token);
}

async function loggedInAs(shop, username, token, size) {
  const page = await shop.page(size);
  await loginInUi(page, username);
  return { username, token, page };
}
