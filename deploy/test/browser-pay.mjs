// The paying journey in Debian's Chromium (playwright-core from e2e/) against the
// compose stack, payments on: a shopper logs in, checks out the cart, and pays on the
// order's page with a test card through the emulator's Stripe.js, under the SPA
// image's Content-Security-Policy (any violation fails: Stripe.js, its calls and its
// frames must be allowed by name). Prints the paid order's id.
//
//   node deploy/test/browser-pay.mjs http://127.0.0.1:8080
import { call, products, registerAndLogin, uniqueName } from '../../e2e/lib/api.mjs';
import { CARDS, typeCard } from '../../e2e/lib/pay.mjs';
import { loginInUi, waitText } from '../../e2e/lib/ui.mjs';
import { launch, pageWatchingCsp } from './browser.mjs';

const spa = process.argv[2] ?? 'http://127.0.0.1:8080';
const urls = {
  users: process.env.SHOP_USERS ?? 'http://127.0.0.1:5001',
  products: process.env.SHOP_PRODUCTS ?? 'http://127.0.0.1:5002',
  orders: process.env.SHOP_ORDERS ?? 'http://127.0.0.1:5003',
};

const username = uniqueName('paybrowser');
const token = await registerAndLogin(urls, username);
const product = (await products(urls)).results.find((p) => p.stock === null || p.stock === undefined || p.stock >= 5);
await call(urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: product.id, qty: 1 } });

const browser = await launch();
try {
  const { page, violations } = await pageWatchingCsp(browser, { baseURL: spa });
  await loginInUi(page, username);
  await page.goto('/cart');
  await page.getByTestId('cart-line').first().waitFor();
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  await typeCard(page, CARDS.visa);
  await page.locator('#pay-order').click();
  await waitText(page.getByTestId('order-status'), /^Paid$/);
  const order = (await call(urls.orders, 'GET', `/api/order/${id}`, { token })).result;
  if (order.status !== 'paid') throw new Error(`order ${id} is ${order.status}, not paid`);
  if (violations.length) {
    console.error(`CSP violations:\n  ${violations.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log(`   order ${id} paid in the browser with a test card (no CSP violation)`);
  }
} finally {
  await browser.close();
}
