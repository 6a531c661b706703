// Issue 25, "Looks": the shop looks like one. A footer with what shoppers look
// for (shipping, returns, privacy, contact and an email address), each a page
// of its own with its title, heading and focus; a drawn logo mark beside the
// name; quiet catalogue cards (a small add button right under or beside the
// price, no empty band) at desktop, phone and 320 px widths; − and + beside a
// cart line's quantity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, MOBILE, bothWidths, check, visit } from '../lib/browser.mjs';
import { badgeIs, cartLines, focusOn, shopperWithCart, slowDown, tabTo, waitFocus, waitText } from '../lib/ui.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

const PAGES = [
  { name: 'Shipping', path: '/shipping', says: /nothing you order here is packed or sent/ },
  { name: 'Returns', path: '/returns', says: /cancel it yourself/ },
  { name: 'Privacy', path: '/privacy', says: /Card numbers never reach the shop/ },
  { name: 'Contact', path: '/contact', says: /shop@cartwheel\.example/ },
];

const footerNav = (page) => page.locator('footer').getByRole('navigation', { name: 'Shop information' });

test('the footer links to shipping, returns, privacy and contact, and gives an email address', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  const links = footerNav(page).getByRole('link');
  assert.deepEqual(await links.allInnerTexts(), PAGES.map((p) => p.name));
  for (const p of PAGES) {
    assert.equal(await footerNav(page).getByRole('link', { name: p.name }).getAttribute('href'), p.path);
  }
  const mail = page.locator('footer').getByRole('link', { name: 'shop@cartwheel.example' });
  assert.equal(await mail.getAttribute('href'), 'mailto:shop@cartwheel.example');
  assert.match(await page.locator('footer').innerText(), /test mode/);
});

test('each footer page is reached by keyboard, with its title, its heading focused, and no axe violation', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').first().waitFor();
  await page.locator('#search-q').focus();
  for (const p of PAGES) {
    // From wherever focus is (the search field, then the last page's heading),
    // Tab on to the footer's link and follow it with Enter.
    const link = footerNav(page).getByRole('link', { name: p.name });
    await tabTo(page, `the footer's "${p.name}" link`, () => link.evaluate((el) => el === document.activeElement), {
      max: 80,
    });
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === p.path);
    await waitFocus(page, `the "${p.name}" heading after following the footer link`, (f) => f.tag === 'h1' && f.text === p.name);
    await page.waitForFunction((t) => document.title === t, `${p.name} · Cartwheel`);
    assert.match(await page.locator('main').innerText(), p.says);
    await check(page, `info-${p.name.toLowerCase()}`);
  }
});

test('a footer page loaded directly has its title and heading, not "Page not found"', T, async () => {
  const page = await shop.page();
  for (const p of PAGES) {
    await visit(page, p.path);
    await page.getByRole('heading', { level: 1, name: p.name, exact: true }).waitFor();
    await page.waitForFunction((t) => document.title === t, `${p.name} · Cartwheel`);
  }
  // The contact page's address is a link a mail program opens.
  const mail = page.locator('main').getByRole('link', { name: 'shop@cartwheel.example' });
  assert.equal(await mail.getAttribute('href'), 'mailto:shop@cartwheel.example');
  await page.setViewportSize(MOBILE);
  await check(page, 'info-contact-mobile');
});

test('the brand is a drawn mark beside the name, hidden from screen readers', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  const brand = page.locator('header a.brand');
  // The link's name is the word alone: the mark adds nothing to it.
  assert.equal(await page.locator('header').getByRole('link', { name: 'Cartwheel', exact: true }).count(), 1);
  const mark = await brand.evaluate((a) => {
    const svg = a.querySelector('svg');
    if (!svg) return null;
    const box = svg.getBoundingClientRect();
    return {
      hidden: svg.closest('[aria-hidden="true"]') !== null && svg.getAttribute('aria-hidden') === 'true',
      focusable: svg.getAttribute('focusable'),
      width: box.width,
      height: box.height,
      text: a.textContent.trim(),
    };
  });
  assert.ok(mark, 'an <svg> mark in the brand link');
  assert.equal(mark.hidden, true, 'the mark is aria-hidden');
  assert.equal(mark.focusable, 'false');
  assert.ok(mark.width >= 20 && mark.height >= 20, `a visible mark, ${mark.width}x${mark.height}`);
  assert.equal(mark.text, 'Cartwheel', 'no glyph left in the text');
});

/** Each card's boxes: the card, its price, its add button, its status line. */
function cardBoxes(page) {
  return page.getByTestId('product-card').evaluateAll((cards) =>
    cards.map((card) => {
      const box = (el) => {
        const r = el.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width };
      };
      return {
        name: card.querySelector('h2').textContent,
        card: box(card),
        price: box(card.querySelector('.price')),
        button: box(card.querySelector('.card-add button')),
      };
    }),
  );
}

test('catalogue cards: a small add button right by the price, no empty band, at 1280, 390 and 320 px', T, async () => {
  const page = await shop.page();
  await visit(page, '/');
  await page.getByTestId('product-card').nth(3).waitFor();
  for (const size of [DESKTOP, MOBILE, { width: 320, height: 700 }]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(overflow, false, `no sideways scrolling at ${size.width} px`);
    const cards = await cardBoxes(page);
    assert.ok(cards.length >= 4, `cards at ${size.width} px`);
    for (const c of cards) {
      const where = `"${c.name}" at ${size.width} px`;
      assert.ok(c.button.width < 0.7 * c.card.width, `${where}: the button (${c.button.width} px) is not full width (card ${c.card.width} px)`);
      // Beside the price (the gap is negative) or right under it: no band.
      const gap = c.button.top - c.price.bottom;
      assert.ok(gap <= 12, `${where}: ${gap} px between the price and the button`);
      // Nothing empty under the button either: the card ends with its padding.
      const below = c.card.bottom - c.button.bottom;
      assert.ok(below <= 16, `${where}: ${below} px under the button`);
      assert.ok(c.button.left >= c.card.left && c.button.right <= c.card.right, `${where}: the button is inside the card`);
    }
    await check(page, `looks-catalogue-${size.width}`);
  }
});

test('− and + change a cart line by one, keep focus, wait while a change is on its way, and stop at 1', T, async () => {
  const { token, product, page } = await shopperWithCart(shop, 'stepper');
  await visit(page, '/cart');
  const qty = page.getByLabel(`Quantity of ${product.name}`);
  const more = page.getByRole('button', { name: `One more ${product.name}` });
  const fewer = page.getByRole('button', { name: `One fewer ${product.name}` });
  await waitText(page.getByTestId('cart-total'), /\$/);
  await badgeIs(page, 2);

  // A click: one more, sent at once; focus stays on the button.
  await more.click();
  await badgeIs(page, 3);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 3 });
  assert.equal(await qty.inputValue(), '3');
  await focusOn(page, more, 'the + button after its click');

  // While the change is on its way both are unavailable (but keep focus) and a
  // second press sends nothing more.
  const updates = [];
  page.on('request', (r) => r.url().includes('/api/order/update-item') && updates.push(r));
  await slowDown(page, '**/api/order/update-item', 1_000);
  await fewer.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((el) => el.getAttribute('aria-disabled') === 'true', await more.elementHandle());
  await page.keyboard.press('Enter');
  await badgeIs(page, 2);
  await page.waitForFunction((el) => el.getAttribute('aria-disabled') === 'false', await more.elementHandle());
  assert.equal(updates.length, 1, 'one update for two presses while busy');
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 2 });
  await focusOn(page, fewer, 'the − button after its key press', { visible: true });
  await page.unroute('**/api/order/update-item');

  // Down to 1, where − stops: "Remove" is the way to 0.
  await page.keyboard.press('Enter');
  await badgeIs(page, 1);
  await page.waitForFunction((el) => el.getAttribute('aria-disabled') === 'true', await fewer.elementHandle());
  await page.keyboard.press('Enter');
  await page.waitForTimeout(400);
  assert.deepEqual(await cartLines(shop.urls, token), { [product.id]: 1 });
  assert.equal(await qty.inputValue(), '1');

  // The field is still the field: typed, checked, refused as before.
  await qty.fill('x');
  await qty.press('Enter');
  await waitText(page.locator(`#qty-${product.id}-error`), /not a whole number/);
  assert.equal(await qty.getAttribute('aria-invalid'), 'true');
  await bothWidths(page, 'looks-cart-stepper');
});
