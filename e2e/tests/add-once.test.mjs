// Issue 10, (2): one press, one add. A double-click or two quick Enters add once,
// each intended add carries its own Idempotency-Key, and the notice says how many
// of the product the cart now holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { call, products } from '../lib/api.mjs';
import { badgeIs, cartLines, loggedInShopper, slowDown, waitFocus, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

async function onProductPage(index = 0) {
  const product = (await products(shop.urls)).results[index];
  const { token, page } = await loggedInShopper(shop, 'once');
  await visit(page, `/product/${product.slug}`);
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
  return { page, token, product };
}

for (const gap of [0, 80, 200]) {
  test(`a mouse double-click (${gap} ms apart) on Add to cart adds once`, T, async () => {
    const { page, token, product } = await onProductPage();
    // A slow orders service: the second click lands while the first is in flight.
    await slowDown(page, '**/api/order/add-item', 400);
    const box = await page.getByRole('button', { name: 'Add to cart' }).boundingBox();
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await page.mouse.click(x, y);
    await page.waitForTimeout(gap);
    await page.mouse.click(x, y, { clickCount: 2 });
    await waitText(page.getByTestId('added'), /now have 1 of/);
    await page.waitForTimeout(800);
    assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 1 });
    await badgeIs(page, 1);
  });
}

test('two quick Enters in the quantity field add once', T, async () => {
  const { page, token, product } = await onProductPage();
  await slowDown(page, '**/api/order/add-item', 400);
  const qty = page.getByLabel('Quantity');
  await qty.fill('3');
  await qty.press('Enter');
  await qty.press('Enter');
  await waitText(page.getByTestId('added'), /now have 3 of/);
  await page.waitForTimeout(800);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 3 });
});

test('the button says it is busy while the add is in flight', T, async () => {
  const { page } = await onProductPage();
  await slowDown(page, '**/api/order/add-item', 1500);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  const busy = page.getByRole('button', { name: 'Adding…' });
  await busy.waitFor();
  assert.equal(await busy.getAttribute('aria-disabled'), 'true');
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
});

test('the notice says how many of the product are now in the cart', T, async () => {
  const { page, token, product } = await onProductPage(1);
  await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 4 } });
  await page.getByLabel('Quantity').fill('2');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.getByTestId('added'), new RegExp(`Added 2 to your cart\\. You now have 6 of ${product.name}`));
  // Focus stays on the button: the keyboard user is where they were.
  await waitFocus(page, 'focus stays on the Add to cart button', (f) => f.tag === 'button' && /Add to cart/.test(f.text));
  await check(page, 'product-added');
});

test('each add sends an Idempotency-Key, a new one for each press', T, async () => {
  const { page } = await onProductPage();
  const keys = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/order/add-item') && r.method() === 'POST') {
      keys.push(r.headers()['idempotency-key']);
    }
  });
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.getByTestId('added'), /now have 1 of/);
  // A deliberate second add: past the half second in which a press is the
  // same intent as the one before (see the test of two clicks 300 ms apart).
  await page.waitForTimeout(600);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.getByTestId('added'), /now have 2 of/);
  assert.equal(keys.length, 2);
  for (const k of keys) assert.match(k ?? '', /^[A-Za-z0-9_-]{1,64}$/);
  assert.notEqual(keys[0], keys[1]);
});

test('a retry after a lost answer reuses the key and adds once', T, async () => {
  const { page, token, product } = await onProductPage();
  const keys = [];
  let first = true;
  // The first answer is lost on the way back: the service did the work.
  await page.route('**/api/order/add-item', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (first) {
      first = false;
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.locator('.add-outcome'), /unavailable/);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitText(page.getByTestId('added'), /now have 1 of/);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], 'the retry carries the same key');
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 1 });
});

// Issue 25: the in-flight guard covered only the milliseconds an add takes; a
// shaky second click 300 ms later added again. Within half a second it is the
// same intent (the same Idempotency-Key: the service answers it again and adds
// nothing); a deliberate second add after that still adds.
test('two clicks 300 ms apart on Add to cart add one, a third a second later adds again', T, async () => {
  const { page, token, product } = await onProductPage();
  const keys = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/order/add-item') && r.method() === 'POST') {
      keys.push(r.headers()['idempotency-key']);
    }
  });
  const button = page.getByRole('button', { name: 'Add to cart' });
  // Both clicks timed in the page: Playwright's own second click would wait for
  // the button to stop being busy (aria-disabled), which on a loaded machine can
  // be past the half second, and that is a deliberate second add.
  await button.evaluate((el) => {
    el.click();
    setTimeout(() => el.click(), 300);
  });
  await page.waitForTimeout(400);
  await waitText(page.getByTestId('added'), /now have 1 of/);
  await page.waitForTimeout(800);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 1 }, 'the shaky second click added nothing');
  await badgeIs(page, 1);
  if (keys.length === 2) assert.equal(keys[0], keys[1], 'a second press within half a second repeats the key');

  await button.click();
  await waitText(page.getByTestId('added'), /now have 2 of/);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 2 }, 'a deliberate add still adds');
});
