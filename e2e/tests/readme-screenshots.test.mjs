// The README's pictures of the shop: the catalogue, a product page, the cart
// (desktop and phone), checkout's payment step and a paid order's page, as a
// logged-in shopper (Ada) sees them, taken from a shop of their own (the demo
// catalogue only, payments on through the Stripe emulator) once every picture
// in view has loaded, with no notice of a problem on the page, each after
// axe-core found nothing wrong with it. They land in e2e/artifacts/readme/; with
// E2E_UPDATE_SCREENSHOTS=1 they are also copied into docs/screenshots/ (through
// Debian's `pngquant` when it is installed, to keep them small).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESKTOP, MOBILE, axe, visit } from '../lib/browser.mjs';
import { call, products } from '../lib/api.mjs';
import { PASSWORD, loginInUi, money, waitText } from '../lib/ui.mjs';
import { ADA, CARDS, NOT_OURS, shipTo, typeCard } from '../lib/pay.mjs';
import { useShop } from '../lib/suite.mjs';

const shop = useShop({ payments: true });

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'artifacts', 'readme');
const docs = join(here, '..', '..', 'docs', 'screenshots');
/** What a README picture may weigh. */
const MAX_BYTES = 250_000;

/** Whether a program is on the PATH. */
function have(program) {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until every picture in view has loaded (a lazy one below the fold
 * does not count) and the fonts are ready, so no picture shows a blank card.
 */
async function picturesLoaded(page) {
  await page.waitForFunction(
    () =>
      document.fonts.status === 'loaded' &&
      [...document.images]
        .filter((img) => {
          const r = img.getBoundingClientRect();
          return r.width > 0 && r.bottom > 0 && r.top < window.innerHeight;
        })
        .every((img) => img.complete && img.naturalWidth > 0),
    null,
    { timeout: 20_000, polling: 100 },
  );
}

/** No error or warning notice on the page: a README picture shows the shop working. */
async function noProblems(page, name) {
  const problems = await page.locator('.notice-error, .notice-warning, [role="alert"]').allInnerTexts();
  assert.deepEqual(problems.filter((t) => t.trim()), [], `${name}: no error on the page`);
}

/** axe, then the picture of what is in view at this width, saved (and copied when asked). */
async function shoot(page, name, { size = DESKTOP, fullPage = false, axeOptions } = {}) {
  await page.setViewportSize(size);
  await page.evaluate(() => window.scrollTo(0, 0));
  await picturesLoaded(page);
  await noProblems(page, name);
  await axe(page, `readme ${name}`, axeOptions);
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled', caret: 'hide' });
  if (process.env.E2E_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(docs, { recursive: true });
    const target = join(docs, `${name}.png`);
    if (have('pngquant')) {
      execFileSync('pngquant', ['--force', '--skip-if-larger', '--quality=70-95', '--strip', '--output', target, file]);
    } else {
      copyFileSync(file, target);
    }
    const bytes = statSync(target).size;
    assert.ok(bytes <= MAX_BYTES, `${target} is ${bytes} bytes (install pngquant to shrink it)`);
  }
}

test('the README\'s screenshots: catalogue, product, cart, payment step, paid order', { timeout: 180_000 }, async () => {
  const catalogue = (await products(shop.urls)).results;
  assert.ok(catalogue.length >= 8, 'the demo catalogue');
  // A shopper, logged in: the pages show what they can do.
  const username = 'ada';
  await call(shop.urls.users, 'POST', '/api/user/create', {
    body: { username, email: 'ada@example.com', password: PASSWORD, first_name: 'Ada', last_name: 'Lovelace' },
  });
  const token = (await call(shop.urls.users, 'POST', '/api/user/login', { body: { username, password: PASSWORD } })).api_key;
  const page = await shop.page();
  await loginInUi(page, username);

  await visit(page, '/');
  await page.getByTestId('product-card').nth(7).waitFor();
  await shoot(page, 'catalogue-desktop');

  // A product with a few left: its page shows the stock note too.
  const product = catalogue.find((p) => p.stock !== null && p.stock > 0 && p.stock <= 5) ?? catalogue[0];
  await visit(page, `/product/${product.slug}`);
  await page.locator('.product-detail h1').waitFor();
  await page.getByRole('button', { name: 'Add to cart' }).waitFor();
  await shoot(page, 'product-desktop');

  // Three lines in the cart.
  const lines = catalogue.filter((p) => p.id !== product.id && (p.stock === null || p.stock > 5)).slice(0, 3);
  for (const [p, qty] of lines.map((p, i) => [p, i === 0 ? 2 : 1])) {
    await call(shop.urls.orders, 'POST', '/api/order/add-item', { token, body: { product_id: p.id, qty } });
  }
  const total = lines.reduce((sum, p, i) => sum + p.price * (i === 0 ? 2 : 1), 0);
  await visit(page, '/cart');
  await page.getByTestId('cart-line').nth(lines.length - 1).locator('img.thumb').waitFor();
  await waitText(page.getByTestId('checkout-review'), new RegExp(`You pay \\${money(total)} by card on the next step`));
  await shoot(page, 'cart-desktop');
  await shoot(page, 'cart-mobile', { size: MOBILE });
  await page.setViewportSize(DESKTOP);

  // Checkout with an address: the payment step on the order's page, a card typed in.
  await shipTo(page);
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  const id = Number(page.url().split('/').pop());
  await page.getByRole('heading', { level: 2, name: 'Pay for your order' }).waitFor();
  await typeCard(page, CARDS.visa, { postalCode: ADA.postalCode });
  await waitText(page.locator('#pay-order'), new RegExp(`^Pay \\${money(total)}$`));
  // No focus ring in the picture.
  await page.evaluate(() => document.activeElement?.blur());
  await shoot(page, 'checkout-desktop', { fullPage: true, axeOptions: NOT_OURS });

  // Paid: the order's page with its status, lines, address and timeline.
  await page.locator('#pay-order').click();
  await waitText(page.getByTestId('order-done'), new RegExp(`^Order #${id} is paid\\. Thank you!`));
  await page.getByTestId('order-timeline').waitFor();
  await visit(page, `/orders/${id}`);
  await waitText(page.getByTestId('order-status'), /^Paid$/);
  await page.getByTestId('order-timeline').waitFor();
  await shoot(page, 'order-desktop', { fullPage: true });
});
