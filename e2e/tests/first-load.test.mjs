// Issue 10, (8) and (11): the first load asks for config and WASM at once, the LCP
// image is not lazy, a WASM that never arrives becomes an error with a retry, and
// /robots.txt and /favicon.ico are real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../lib/browser.mjs';
import { T, useShop } from '../lib/suite.mjs';

const shop = useShop();

test('index.html preloads config.json and the WASM', T, async () => {
  const html = await (await fetch(`${shop.stack.spa}/`)).text();
  assert.match(html, /<link rel="preload" href="\/config\.json" as="fetch" crossorigin="anonymous"/);
  assert.match(html, /<link rel="preload" href="\/[^"]+\.wasm" [^>]*as="fetch"|<link [^>]*as="fetch"[^>]*href="\/[^"]+\.wasm"|rel="preload"[^>]*\.wasm/);
  // The browser asks for config.json before the WASM has started.
  const page = await shop.page();
  const order = [];
  page.on('request', (r) => order.push(new URL(r.url()).pathname));
  await page.goto('/');
  await page.locator('header.site-header').waitFor();
  const config = order.indexOf('/config.json');
  const wasm = order.findIndex((p) => p.endsWith('.wasm'));
  assert.ok(config >= 0 && wasm >= 0);
  const products = order.findIndex((p) => p.startsWith('/api/products'));
  assert.ok(config < products, 'config.json before the first API call');
});

test('the first catalogue images are not lazy, the first has high priority', T, async () => {
  const page = await shop.page();
  await page.goto('/');
  const imgs = page.locator('[data-testid="product-card"] img');
  await imgs.first().waitFor();
  assert.equal(await imgs.nth(0).getAttribute('loading'), 'eager');
  assert.equal(await imgs.nth(0).getAttribute('fetchpriority'), 'high');
  assert.equal(await imgs.nth(3).getAttribute('loading'), 'eager');
});

test('a WASM that fails to arrive turns the loading line into an error with a retry', T, async () => {
  const page = await shop.page();
  let block = true;
  await page.route('**/*.wasm', (route) => (block ? route.abort('failed') : route.continue()));
  await page.goto('/');
  const boot = page.locator('#boot');
  await waitFor(boot, /could not start/);
  assert.equal(await page.locator('#boot-text').getAttribute('role'), 'alert');
  await check(page, 'boot-failed');
  // The loader's own error for the blocked WASM is the point of this test.
  assert.ok(page.crashes.every((c) => /Failed to fetch/.test(c)), page.crashes.join('\n'));
  page.crashes.length = 0;
  block = false;
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.locator('header.site-header').waitFor();
  assert.equal(await page.locator('#boot').count(), 0);
});

test('a WASM that never arrives becomes an error after a while', T, async () => {
  const page = await shop.page();
  await page.clock.install();
  await page.route('**/*.wasm', () => {}); // never answered
  await page.goto('/');
  const boot = page.locator('#boot');
  await waitFor(boot, /Loading Cartwheel/);
  await page.clock.runFor(7_000);
  await waitFor(boot, /taking longer than usual/);
  await page.clock.runFor(30_000);
  await waitFor(boot, /could not start/);
  await page.getByRole('button', { name: 'Try again' }).waitFor();
});

test('without JavaScript the page says it needs it', T, async () => {
  const page = await shop.page({ javaScriptEnabled: false });
  await page.goto('/');
  assert.match(await page.locator('body').innerText(), /needs JavaScript/);
});

test('/robots.txt and /favicon.ico are real files, not the app', T, async () => {
  const robots = await fetch(`${shop.stack.spa}/robots.txt`);
  assert.equal(robots.status, 200);
  assert.match(robots.headers.get('content-type'), /^text\/plain/);
  assert.match(await robots.text(), /^User-agent: \*$/m);
  const icon = await fetch(`${shop.stack.spa}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.match(icon.headers.get('content-type'), /image\/(x-icon|vnd\.microsoft\.icon)/);
  const bytes = new Uint8Array(await icon.arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 4)], [0, 0, 1, 0], 'an ICO header');
});

/** The PNG of each size in an .ico (scripts/favicon-ico.mjs writes PNG entries). */
function icoImages(bytes) {
  const view = Buffer.from(bytes);
  return Array.from({ length: view.readUInt16LE(4) }, (_, i) => {
    const at = 6 + 16 * i;
    const [size, length, offset] = [view.readUInt8(at) || 256, view.readUInt32LE(at + 8), view.readUInt32LE(at + 12)];
    return { size, png: view.subarray(offset, offset + length) };
  });
}

test('/favicon.ico shows the same mark as the page\'s SVG icon', T, async () => {
  const icons = icoImages(new Uint8Array(await (await fetch(`${shop.stack.spa}/favicon.ico`)).arrayBuffer()));
  assert.deepEqual(icons.map((i) => i.size), [16, 32, 48]);
  const png = `data:image/png;base64,${icons.find((i) => i.size === 32).png.toString('base64')}`;
  const page = await shop.page();
  await page.goto('/');
  const svg = await page.locator('link[rel="icon"]').getAttribute('href');
  assert.match(svg, /\.svg$/);
  // Both drawn at 32 px on white; the mean difference per channel, 0-255.
  const diff = await page.evaluate(async ([a, b]) => {
    const pixels = async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 32;
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 32, 32);
      ctx.drawImage(img, 0, 0, 32, 32);
      return ctx.getImageData(0, 0, 32, 32).data;
    };
    const [x, y] = [await pixels(a), await pixels(b)];
    let sum = 0;
    for (let i = 0; i < x.length; i += 1) if (i % 4 !== 3) sum += Math.abs(x[i] - y[i]);
    return sum / ((x.length / 4) * 3);
  }, [svg, png]);
  assert.ok(diff < 8, `the .ico differs from the SVG mark by ${diff.toFixed(1)} per channel`);
});

async function waitFor(locator, re) {
  await locator.filter({ hasText: re }).waitFor();
}
