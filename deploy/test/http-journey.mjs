// HTTP checks of a running Cartwheel stack, through its published ports (the
// balancer). Node 20+, no packages (it imports e2e/lib/api.mjs, which needs none).
// Every request is bounded by a 10 s timeout.
//
//   node http-journey.mjs journey                 register, log in, catalogue, cart, checkout,
//                                                 and pay when payments are on (a test card);
//                                                 prints {"username", "order_id", "total", "status"}
//   node http-journey.mjs orders USER ORDER_ID    logs in again: the order is in the history
//   node http-journey.mjs is-admin USER           the user is an admin (GET /api/users works)
//   node http-journey.mjs steady SECONDS          keeps a shopper's reads and cart writes going
//                                                 on the three services; fails on any error
//
// SHOP_USERS, SHOP_PRODUCTS, SHOP_ORDERS, SHOP_STRIPE (and SHOP_STRIPE_KEY, the
// publishable key) override the URLs (default: compose.yaml's).
import assert from 'node:assert/strict';
import { call as request } from '../../e2e/lib/api.mjs';

const urls = {
  users: process.env.SHOP_USERS ?? 'http://127.0.0.1:5001',
  products: process.env.SHOP_PRODUCTS ?? 'http://127.0.0.1:5002',
  orders: process.env.SHOP_ORDERS ?? 'http://127.0.0.1:5003',
};
// The payment provider as a browser reaches it (compose.yaml's emulator).
const stripe = {
  url: process.env.SHOP_STRIPE ?? 'http://127.0.0.1:8420',
  publishableKey: process.env.SHOP_STRIPE_KEY ?? 'pk_test_cartwheel_compose',
};
const PASSWORD = 'correct horse battery';

/** e2e's `call`, every request bounded by 10 s; by default 200 or 201 is expected. */
function call(base, method, path, { expect = [200, 201], ...options } = {}) {
  return request(base, method, path, { expect, timeoutMs: 10_000, ...options });
}

async function login(username) {
  const r = await call(urls.users, 'POST', '/api/user/login', { body: { username, password: PASSWORD } });
  assert.ok(r.api_key, 'login returns a token');
  return r.api_key;
}

async function register(prefix) {
  const username = `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const created = await call(urls.users, 'POST', '/api/user/create', {
    body: { username, email: `${username}@example.com`, password: PASSWORD, first_name: 'Deploy' },
  });
  assert.equal(created.result.username, username);
  return username;
}

/** Products with stock to sell (or untracked), cheapest first. */
async function sellable() {
  const list = await call(urls.products, 'GET', '/api/products?limit=100');
  assert.ok(list.total >= 2, 'the demo catalogue is there');
  return list.results.filter((p) => p.stock === undefined || p.stock === null || p.stock >= 5);
}

async function journey() {
  const username = await register('deploy');
  const token = await login(username);
  const me = await call(urls.users, 'GET', '/api/user', { token });
  assert.equal(me.result.username, username);

  const catalogue = await sellable();
  assert.ok(catalogue.length >= 2, 'two products to buy');
  const [a, b] = catalogue;
  const one = await call(urls.products, 'GET', `/api/product/${a.slug}`);
  assert.equal(one.result.id, a.id);
  const image = await fetch(one.result.image, { signal: AbortSignal.timeout(10_000) });
  assert.equal(image.status, 200, `the product image ${one.result.image} loads`);

  await call(urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: a.id, qty: 2 } });
  await call(urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: b.id, qty: 1 } });
  await call(urls.orders, 'POST', '/api/order/update-item', { token, body: { product_id: b.id, qty: 3 } });
  const cart = await call(urls.orders, 'GET', '/api/order', { token });
  assert.equal(cart.result.items.length, 2);
  assert.equal(cart.result.total, a.price * 2 + b.price * 3);

  const done = await call(urls.orders, 'POST', '/api/order/checkout', { token });
  assert.equal(done.result.is_open, false);
  assert.equal(done.result.total, a.price * 2 + b.price * 3);
  await call(urls.orders, 'GET', '/api/order', { token, expect: [404] });
  const status = done.result.status === 'awaiting_payment' ? await pay(token, done.result) : done.result.status;
  await ordersHold(token, done.result.id, done.result.total);
  console.log(JSON.stringify({ username, order_id: done.result.id, total: done.result.total, status }));
}

/**
 * Pays an order awaiting payment as the SPA does: the card becomes a token at the
 * provider (Stripe.js's createToken, with the publishable key), the shop confirms
 * with the token's id. Returns the order's status after.
 */
async function pay(token, order) {
  assert.equal(order.payment.amount, order.total, 'the PaymentIntent is for the total');
  const form = new URLSearchParams({
    key: stripe.publishableKey,
    'card[number]': '4242424242424242',
    'card[exp_month]': '12',
    'card[exp_year]': '2034',
    'card[cvc]': '123',
  });
  const made = await fetch(`${stripe.url}/v1/tokens`, {
    method: 'POST',
    body: form,
    signal: AbortSignal.timeout(10_000),
  });
  const card = await made.json();
  assert.equal(made.status, 200, `a card token at ${stripe.url}: ${JSON.stringify(card)}`);
  const paid = await call(urls.orders, 'POST', `/api/order/${order.id}/pay`, {
    token,
    body: { payment_method: card.id },
  });
  assert.equal(paid.result.status, 'paid', `paid: ${JSON.stringify(paid.result.payment)}`);
  assert.equal(paid.result.payment.status, 'succeeded');
  return paid.result.status;
}

async function ordersHold(token, orderId, total) {
  const history = await call(urls.orders, 'GET', '/api/orders', { token });
  const order = history.results.find((o) => o.id === orderId);
  assert.ok(order, `order ${orderId} is in the history`);
  assert.equal(order.is_open, false);
  if (total !== undefined) assert.equal(order.total, total);
}

async function isAdmin(username) {
  const token = await login(username);
  const me = await call(urls.users, 'GET', '/api/user', { token });
  assert.equal(me.result.is_admin, true, `${username} is an admin`);
  const all = await call(urls.users, 'GET', '/api/users', { token });
  console.log(`${username} is an admin (sees ${all.total} users)`);
}

async function orders(username, orderId) {
  const token = await login(username);
  await ordersHold(token, Number(orderId));
  console.log(`order ${orderId} of ${username} is still there`);
}

/** A shopper browsing and filling a cart without pause; every answer must be a success. */
async function steady(seconds) {
  const username = await register('steady');
  const token = await login(username);
  const [p] = await sellable();
  const deadline = Date.now() + seconds * 1000;
  const counts = { ok: 0, failed: 0 };
  const errors = [];
  const one = async (fn) => {
    try {
      await fn();
      counts.ok += 1;
    } catch (e) {
      counts.failed += 1;
      if (errors.length < 5) errors.push(String(e.message ?? e));
    }
  };
  const worker = async (i) => {
    while (Date.now() < deadline) {
      switch (i % 3) {
        case 0:
          await one(() => call(urls.products, 'GET', '/api/products?limit=20'));
          break;
        case 1:
          await one(() => call(urls.users, 'GET', '/api/user', { token }));
          break;
        default:
          await one(() =>
            call(urls.orders, 'POST', '/api/order/update-item', {
              token,
              body: { product_id: p.id, qty: 1 + (counts.ok % 5) },
              expect: [200, 404],
            }).then(() => call(urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty: 1 } })),
          );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await call(urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty: 1 } });
  await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
  console.log(`steady ${seconds}s: ${counts.ok} requests answered, ${counts.failed} failed`);
  for (const e of errors) console.log(`  ${e}`);
  if (counts.failed > 0 || counts.ok === 0) process.exit(1);
}

const [cmd, ...args] = process.argv.slice(2);
const run = { journey, orders, 'is-admin': isAdmin, steady: (s) => steady(Number(s ?? 10)) }[cmd];
if (!run) {
  console.error('usage: http-journey.mjs journey | orders USER ORDER_ID | steady SECONDS');
  process.exit(2);
}
await run(...args);
