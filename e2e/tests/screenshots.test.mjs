// Every page at desktop (1280x800) and phone (390x844) width: no sideways
// scrolling, no axe violation, a screenshot of each in e2e/artifacts/.
import { test } from 'node:test';
import { bothWidths, visit } from '../lib/browser.mjs';
import { call, products, registerAndLogin, uniqueName } from '../lib/api.mjs';
import { loginInUi } from '../lib/ui.mjs';
import { useShop } from '../lib/suite.mjs';

const shop = useShop();

test('every page at desktop and phone width', { timeout: 180_000 }, async () => {
  const all = (await products(shop.urls)).results;
  const page = await shop.page();
  const shot = async (path, name, ready) => {
    await visit(page, path);
    await ready();
    await bothWidths(page, name);
  };
  await shot('/', 'catalogue', () => page.getByTestId('product-card').first().waitFor());
  await shot(`/product/${all[0].slug}`, 'product', () => page.locator('.product-detail h1').waitFor());
  await shot('/login', 'login', () => page.getByLabel('Password').waitFor());
  await shot('/register', 'register', () => page.getByLabel('Password').waitFor());
  await shot('/nowhere', 'not-found', () => page.getByRole('heading', { level: 1 }).waitFor());

  const username = uniqueName('shots');
  const token = await registerAndLogin(shop.urls, username);
  await shop.stack.makeAdmin(username);
  for (const [p, qty] of [[all[0], 2], [all[1], 1]]) {
    await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty } });
  }
  await loginInUi(page, username);
  await shot('/cart', 'cart', () => page.getByTestId('cart-line').nth(1).locator('img.thumb').waitFor());
  const order = (await call(shop.urls.orders, 'POST', '/api/order/checkout', { token })).result;
  await shot(`/thank-you/${order.id}`, 'thank-you', () => page.getByTestId('thanks').waitFor());
  await shot('/orders', 'orders', () => page.getByTestId('order').first().locator('img.thumb').first().waitFor());
  await shot('/account', 'account', () => page.getByTestId('account-username').waitFor());
  await shot('/admin', 'admin', () => page.getByLabel(/^Price/).waitFor());
  // v1.3: one order's page, the order desk and one order there.
  await shot(`/orders/${order.id}`, 'order', () => page.getByTestId('order-timeline').waitFor());
  await shot('/admin/orders', 'order-desk', () => page.getByTestId('desk-order').first().waitFor());
  await shot(`/admin/orders/${order.id}`, 'desk-order', () => page.getByTestId('ship-form').waitFor());
});
