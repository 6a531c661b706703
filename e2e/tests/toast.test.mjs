// Issue 25, "Looks": after an add, a toast says what was added (picture, name,
// quantity) and the cart's subtotal, with "Check out" and a close button. It is
// seen, not spoken (the add's own status beside the button is the one live
// region that says it, so a screen reader hears it once), never takes focus from
// the add button, closes with Escape, hides by itself after about 6 s unless
// pointed at or focused, and a new add replaces it. A failed add shows none.
// And the catalogue's cards keep their prices and buttons in line across a
// row after an add (the "in your cart" line no longer pushes one card's down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, MOBILE, check, visit } from '../lib/browser.mjs';
import { call, products } from '../lib/api.mjs';
import { focusOn, loggedInShopper, money, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

/** How long the app keeps the toast when nobody points at it or focuses it. */
const HIDE_MS = 6_000;

async function loggedIn(size = DESKTOP) {
  const shopper = await loggedInShopper(shop, 'toast', size);
  // The pointer away from where the toast shows (it waits while pointed at).
  await shopper.page.mouse.move(0, 0);
  return shopper;
}

/** The live regions an element is in (itself or an ancestor), as `tag[role|aria-live]`. */
function liveAround(locator) {
  return locator.evaluate((el) => {
    const live = [];
    for (let e = el; e; e = e.parentElement) {
      const role = e.getAttribute('role');
      const aria = e.getAttribute('aria-live');
      if (['status', 'alert', 'log'].includes(role) || (aria && aria !== 'off')) {
        live.push(`${e.tagName.toLowerCase()}[${role ?? ''}|${aria ?? ''}]`);
      }
    }
    return live;
  });
}

/** The catalogue, its first cards drawn; the n-th card, its product and its add button. */
async function cardOf(page, n) {
  const card = page.getByTestId('product-card').nth(n);
  await card.waitFor();
  const id = Number(await card.getAttribute('data-product'));
  const product = (await products(shop.urls)).results.find((p) => p.id === id);
  return { card, product, button: card.getByRole('button', { name: /^Add to cart/ }) };
}

/** Presses a button by keyboard, as a keyboard user would (the pointer stays away). */
async function pressByKeyboard(button) {
  await button.focus();
  await button.press('Enter');
}

/** The cart's total as the orders service has it. */
async function cartTotal(token) {
  const body = await call(shop.urls.orders, 'GET', '/api/order', { token });
  return body.result.total;
}

const toastOf = (page) => page.getByTestId('toast');

/** A logged-in shopper on the catalogue adds its first product: the toast that opened. */
async function toastOfFirstCard(size = DESKTOP) {
  const { page } = await loggedIn(size);
  await visit(page, '/');
  const { button } = await cardOf(page, 0);
  await pressByKeyboard(button);
  const toast = toastOf(page);
  await toast.waitFor();
  return { page, button, toast };
}

test('an add from a card: the toast shows the picture, name, quantity and subtotal; focus stays; Escape closes it', T, async () => {
  const { page, token } = await loggedIn();
  await visit(page, '/');
  const { card, product, button } = await cardOf(page, 0);
  const region = page.getByTestId('toast-region');
  assert.equal((await region.innerText()).trim(), '');
  const regionBefore = await region.elementHandle();

  await pressByKeyboard(button);
  const toast = toastOf(page);
  await toast.waitFor();
  await waitText(card.locator('.card-add-status'), /1 in your cart/);
  assert.equal(
    await regionBefore.evaluate((el) => el.isConnected && el.querySelector('[data-testid="toast"]') !== null),
    true,
    'the toast filled the region that was there, not one made with it',
  );
  assert.equal(await toast.getByTestId('toast-name').innerText(), product.name);
  assert.equal(await toast.locator('img').getAttribute('src'), product.image);
  assert.equal(await toast.getByTestId('toast-qty').innerText(), 'Quantity: 1');
  assert.equal(await toast.getByTestId('toast-subtotal').innerText(), `Cart subtotal: ${money(await cartTotal(token))}`);
  assert.equal(await toast.getByRole('link', { name: 'Check out' }).getAttribute('href'), '/cart');
  assert.equal(await toast.getByRole('button', { name: 'Close' }).count(), 1, 'a close button named "Close"');
  // Said once: by the card's status, a live region; the toast is in none.
  assert.equal(await card.locator('.card-add-status').getAttribute('role'), 'status');
  assert.deepEqual(await liveAround(toast), [], 'the toast is not in a live region: it would be read twice');
  assert.equal(await page.getByRole('region', { name: 'Added to your cart' }).count(), 1, 'a landmark, named');
  // The keyboard user is where they were: on the card's button.
  await focusOn(page, button, 'the add button after the add', { visible: true });
  await check(page, 'toast-card-1280');

  await page.keyboard.press('Escape');
  await toast.waitFor({ state: 'detached' });
  await focusOn(page, button, 'the add button after Escape closed the toast');
  assert.equal((await region.innerText()).trim(), '', 'the region stays, empty');
});

test('an add on the product page: the quantity and subtotal; Check out goes to the cart; the close button gives focus back', T, async () => {
  const { page, token } = await loggedIn();
  const product = (await products(shop.urls)).results[1];
  // Something in the cart already: the subtotal is the whole cart's.
  const other = (await products(shop.urls)).results[2];
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: other.id, qty: 1 } });
  await visit(page, `/product/${product.slug}`);
  const qty = page.getByLabel('Quantity');
  await qty.fill('2');
  await qty.press('Enter');
  const toast = toastOf(page);
  await toast.waitFor();
  await waitText(page.getByTestId('added'), /Added 2 to your cart/);
  // Said once, by the form's own status.
  assert.equal(await page.getByTestId('added').evaluate((el) => el.closest('[role="status"]') !== null), true);
  assert.deepEqual(await liveAround(toast), []);
  assert.equal(await toast.getByTestId('toast-name').innerText(), product.name);
  assert.equal(await toast.locator('img').getAttribute('src'), product.image);
  assert.equal(await toast.getByTestId('toast-qty').innerText(), 'Quantity: 2');
  const total = await cartTotal(token);
  assert.equal(total, 2 * product.price + other.price);
  assert.equal(await toast.getByTestId('toast-subtotal').innerText(), `Cart subtotal: ${money(total)}`);
  await focusOn(page, qty, 'the quantity field after Enter');

  // Closed from inside (focus on its close button): focus goes back to where
  // the shopper was, not to the page's body.
  const close = toast.getByRole('button', { name: 'Close' });
  await close.focus();
  await page.keyboard.press('Enter');
  await toast.waitFor({ state: 'detached' });
  await focusOn(page, qty, 'the quantity field after the toast was closed');

  await page.waitForTimeout(600);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(toast.getByTestId('toast-qty'), /Quantity: 2/);
  await waitText(toast.getByTestId('toast-subtotal'), new RegExp(money(4 * product.price + other.price).replace(/[$.]/g, '\\$&')));
  await toast.getByRole('link', { name: 'Check out' }).click();
  await page.waitForURL((u) => u.pathname === '/cart');
  await page.getByTestId('cart-total').waitFor();
  assert.equal(await toastOf(page).count(), 0, 'the toast is gone on the cart page');
});

test('on phones the toast is a full-width drawer at the bottom, clear of the header, at 390 and 320 px', T, async () => {
  for (const size of [MOBILE, { width: 320, height: 640 }]) {
    const { page } = await loggedIn(size);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await visit(page, '/');
    const { button } = await cardOf(page, 0);
    await pressByKeyboard(button);
    const toast = toastOf(page);
    await toast.waitFor();
    const box = await toast.boundingBox();
    const header = await page.locator('header.site-header').boundingBox();
    assert.ok(Math.abs(box.x) <= 1 && Math.abs(box.width - size.width) <= 1, `full width at ${size.width} px: ${JSON.stringify(box)}`);
    assert.ok(Math.abs(box.y + box.height - size.height) <= 1, `at the bottom at ${size.width} px: ${JSON.stringify(box)}`);
    assert.ok(box.y > header.y + header.height, `below the header at ${size.width} px`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(overflow, false, `no sideways scrolling at ${size.width} px`);
    assert.equal(await toast.evaluate((el) => getComputedStyle(el).animationName), 'none', 'no slide-in with reduced motion');
    await focusOn(page, button, `the add button at ${size.width} px`);
    await check(page, `toast-card-${size.width}`);
  }
});

test('the toast hides by itself after about 6 s', T, async () => {
  const { page, toast } = await toastOfFirstCard();
  const shown = Date.now();
  await page.waitForTimeout(HIDE_MS - 1_500);
  assert.equal(await toast.count(), 1, 'still there before the time is up');
  await toast.waitFor({ state: 'detached', timeout: 8_000 });
  const after = Date.now() - shown;
  assert.ok(after >= HIDE_MS - 1_000, `hidden after ${after} ms`);
});

test('the toast waits while the pointer is over it or focus is in it', T, async () => {
  const { page, button, toast } = await toastOfFirstCard();
  await toast.hover();
  await page.waitForTimeout(HIDE_MS + 1_500);
  assert.equal(await toast.count(), 1, 'still there while pointed at');
  // Pointer gone: it hides after the time, counted from then.
  await page.mouse.move(5, 5);
  const left = Date.now();
  await toast.waitFor({ state: 'detached', timeout: HIDE_MS + 4_000 });
  assert.ok(Date.now() - left >= HIDE_MS - 1_000, 'the full time again once the pointer left');

  await page.waitForTimeout(600);
  await pressByKeyboard(button);
  await toast.waitFor();
  await toast.getByRole('link', { name: 'Check out' }).focus();
  await page.waitForTimeout(HIDE_MS + 1_500);
  assert.equal(await toast.count(), 1, 'still there while focus is in it');
  await button.focus();
  await toast.waitFor({ state: 'detached', timeout: HIDE_MS + 4_000 });
});

test('a second add replaces the toast: one at a time', T, async () => {
  const { page, token } = await loggedIn();
  await visit(page, '/');
  const first = await cardOf(page, 0);
  const second = await cardOf(page, 1);
  await pressByKeyboard(first.button);
  await waitText(toastOf(page).getByTestId('toast-name'), new RegExp(`^${first.product.name}$`));
  await pressByKeyboard(second.button);
  await waitText(toastOf(page).getByTestId('toast-name'), new RegExp(`^${second.product.name}$`));
  await waitText(second.card.locator('.card-add-status'), /1 in your cart/);
  assert.equal(await toastOf(page).count(), 1, 'one toast, not a stack');
  assert.equal(await toastOf(page).locator('img').getAttribute('src'), second.product.image);
  assert.equal(
    await toastOf(page).getByTestId('toast-subtotal').innerText(),
    `Cart subtotal: ${money(first.product.price + second.product.price)}`,
  );
  assert.equal(await cartTotal(token), first.product.price + second.product.price);
  await focusOn(page, second.button, 'the second add button');
});

test('a failed add shows no toast, and closes one that was open; the inline error stays', T, async () => {
  const { page } = await loggedIn();
  await visit(page, '/');
  const first = await cardOf(page, 0);
  const second = await cardOf(page, 1);
  await pressByKeyboard(first.button);
  await toastOf(page).waitFor();
  await page.route('**/api/order/add-item', (route) => route.abort('connectionrefused'));
  await pressByKeyboard(second.button);
  await waitText(second.card.locator('.card-add-status'), /unavailable/);
  await toastOf(page).waitFor({ state: 'detached' });
  await page.waitForTimeout(500);
  assert.equal(await toastOf(page).count(), 0);
});

/** The add buttons of the catalogue's first row of cards: their tops, by card. */
async function firstRowButtons(page) {
  return page.getByTestId('product-card').evaluateAll((cards) => {
    const top = cards[0].getBoundingClientRect().top;
    return cards
      .filter((c) => Math.abs(c.getBoundingClientRect().top - top) < 1)
      .map((c) => ({
        name: c.querySelector('h2').textContent,
        price: c.querySelector('.price').getBoundingClientRect().top,
        button: c.querySelector('.card-add button').getBoundingClientRect().top,
      }));
  });
}

function assertInLine(row, where) {
  assert.ok(row.length >= 2, `${where}: a row of cards (${row.length})`);
  for (const c of row) {
    assert.ok(Math.abs(c.button - row[0].button) <= 1, `${where}: "${c.name}"'s button at ${c.button}, "${row[0].name}"'s at ${row[0].button}`);
    assert.ok(Math.abs(c.price - row[0].price) <= 1, `${where}: "${c.name}"'s price at ${c.price}, "${row[0].name}"'s at ${row[0].price}`);
  }
}

for (const size of [DESKTOP, MOBILE]) {
  test(`after an add, the first row's prices and add buttons stay in line at ${size.width} px`, T, async () => {
    const { page } = await loggedIn(size);
    await visit(page, '/');
    const { card, button } = await cardOf(page, 0);
    await cardOf(page, 3);
    assertInLine(await firstRowButtons(page), `${size.width} px, before the add`);
    await pressByKeyboard(button);
    await waitText(card.locator('.card-add-status'), /1 in your cart/);
    assertInLine(await firstRowButtons(page), `${size.width} px, after the add`);
  });
}
