// Issue 10, (1): a quantity field keeps exactly what is typed, or refuses it with
// a message; nothing is ever added or sent for a value the shopper did not mean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, visit } from '../lib/browser.mjs';
import { products } from '../lib/api.mjs';
import { badgeIs, cartLines, loggedInShopper, shopperWithCart, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

for (const typed of ['1.5', '-1', '1e2', 'abc']) {
  test(`the product page keeps "${typed}" as typed and refuses it with a message`, T, async () => {
    const product = (await products(shop.urls)).results[0];
    const { token, page } = await loggedInShopper(shop, 'qty');
    await visit(page, `/product/${product.slug}`);
    const qty = page.getByLabel('Quantity');
    await qty.fill('');
    await qty.pressSequentially(typed, { delay: 30 });
    assert.equal(await qty.inputValue(), typed, 'the field shows exactly what was typed');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await waitText(page.locator('#qty-error'), /Enter a quantity from 1 to 99/);
    assert.equal(await qty.inputValue(), typed, 'still as typed after the refusal');
    assert.equal(await qty.getAttribute('aria-invalid'), 'true');
    await page.waitForTimeout(500);
    assert.deepEqual(await cartLines(shop.urls, token), {}, 'nothing was added');
    if (typed === '1.5') await check(page, 'product-quantity-refused');
  });
}

test('a valid typed quantity is added exactly', T, async () => {
  const product = (await products(shop.urls)).results[1];
  const { token, page } = await loggedInShopper(shop, 'qtyok');
  await visit(page, `/product/${product.slug}`);
  await page.getByLabel('Quantity').fill('12');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await badgeIs(page, 12);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 12 });
});

test('the cart editor keeps "-3" as typed, refuses it and sends nothing', T, async () => {
  const { token, product, page } = await shopperWithCart(shop, 'cartqty');
  const updates = [];
  page.on('request', (r) => r.url().includes('/api/order/update-item') && updates.push(r));
  await visit(page, '/cart');
  const qty = page.getByLabel(`Quantity of ${product.name}`);
  await qty.fill('');
  await qty.pressSequentially('-3', { delay: 30 });
  await qty.press('Enter');
  await waitText(page.locator(`#qty-${product.id}-error`), /not a whole number/);
  assert.equal(await qty.inputValue(), '-3');
  await page.waitForTimeout(500);
  assert.equal(updates.length, 0, 'no update-item request');
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 2 });
  await check(page, 'cart-quantity-refused');
});

// Issue 25: a change the cart refused or never got left the new number in the
// field, as if it had been made; it goes back to what the cart holds.
test('a failed quantity change puts the number back to what the cart holds', T, async () => {
  const { token, product, page } = await shopperWithCart(shop, 'revert');
  await visit(page, '/cart');
  const qty = page.getByLabel(`Quantity of ${product.name}`);
  await waitText(page.getByTestId('cart-total'), /\$/);
  await page.route('**/api/order/update-item', (route) => route.abort('connectionrefused'));
  await qty.fill('5');
  await qty.press('Enter');
  await waitText(page.locator('.cart-problem'), /cart is unavailable/);
  await page.waitForFunction((el) => el.value === '2', await qty.elementHandle(), { timeout: 5_000 });
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 2 });
});
