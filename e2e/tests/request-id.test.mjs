// Issue 12: one shopper's add-item can be followed through the services. The
// SPA sends an X-Request-Id with each call it makes with a token or a body; the
// orders service answers with it, logs it, and passes it on to the products
// service (the price), which logs it too. (The users service gets it as well
// when orders asks it about the token, which it does at most every 4 s per
// token: the SPA's earlier cart read has usually asked already.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { visit } from '../lib/browser.mjs';
import { products } from '../lib/api.mjs';
import { loggedInShopper, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

// This file's own shop logs every request (the shared one logs warnings only).
process.env.E2E_RUST_LOG = 'info';
const shop = useShop({ own: true });

async function logOf(name) {
  return readFile(join(shop.stack.dir, `${name}.log`), 'utf8');
}

test('an add-item carries one request id through orders and products', T, async () => {
  const product = (await products(shop.urls)).results[0];
  const { page } = await loggedInShopper(shop, 'traced');
  await visit(page, `/product/${product.slug}`);
  const answered = page.waitForResponse(
    (r) => r.url().includes('/api/order/add-item') && r.request().method() === 'POST',
  );
  await page.getByRole('button', { name: 'Add to cart' }).click();
  const response = await answered;
  await waitText(page.getByTestId('added'), /now have 1 of/);

  const sent = response.request().headers()['x-request-id'];
  assert.match(sent ?? '', /^spa-[0-9a-f]{20}$/, 'the SPA names the call');
  assert.equal(response.headers()['x-request-id'], sent, 'the answer carries it back');
  // Log lines are written as requests end: give them a moment.
  await page.waitForTimeout(300);
  for (const service of ['orders', 'products']) {
    assert.ok((await logOf(service)).includes(sent), `api-${service}'s log names ${sent}`);
  }
});

test('an anonymous catalogue read sends no request id (no preflight)', T, async () => {
  const page = await shop.page();
  const headers = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/products')) headers.push(r.headers()['x-request-id']);
  });
  await visit(page, '/');
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.waitForTimeout(500);
  assert.ok(headers.length > 0, 'the catalogue was read');
  assert.deepEqual(headers.filter(Boolean), []);
});
