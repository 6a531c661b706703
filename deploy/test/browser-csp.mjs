// Opens the SPA's catalogue, then an admin page (a build of its own), in Debian's
// Chromium (playwright-core from e2e/) and fails on any Content-Security-Policy
// violation: the image's CSP must let both builds start their wasm, fetch
// config.json and call the services, and show the products' images.
// Also checks that the catalogue's first page, which the image preloads from the
// landing page's Link header, is fetched once: a preload the app does not use (a URL
// that drifted from the app's) would fetch it twice and only slow the page down.
//
//   node deploy/test/browser-csp.mjs http://127.0.0.1:8080
import { launch, pageWatchingCsp } from './browser.mjs';

const spa = process.argv[2] ?? 'http://127.0.0.1:8080';

const browser = await launch();
try {
  const { page, violations } = await pageWatchingCsp(browser);
  const catalogueFetches = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('/api/products')) catalogueFetches.push(r.url());
  });
  await page.goto(spa);
  await page.getByTestId('product-card').first().waitFor();
  const images = await page.evaluate(async () => {
    const imgs = [...document.querySelectorAll('img')];
    await Promise.all(imgs.map((i) => (i.complete ? null : new Promise((r) => { i.onload = r; i.onerror = r; }))));
    return { total: imgs.length, loaded: imgs.filter((i) => i.naturalWidth > 0).length };
  });
  const cards = await page.getByTestId('product-card').count();
  console.log(`   catalogue: ${cards} products, ${images.loaded}/${images.total} images loaded`);
  // A second fetch would come at once from the app: wait a little for one.
  await page.waitForTimeout(1000);
  console.log(`   catalogue API requests on landing: ${catalogueFetches.length} (preloaded)`);
  if (catalogueFetches.length !== 1) {
    console.error(`the catalogue's first page was fetched ${catalogueFetches.length} times, `
      + `not once (preload unused?):\n  ${catalogueFetches.join('\n  ')}`);
    process.exitCode = 1;
  }
  // The admin pages, a build of their own under /admin/ (app/src/pages/admin):
  // its loader's inline script has a hash of its own in the CSP.
  const adminWasm = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) adminWasm.push(new URL(r.url()).pathname);
  });
  await page.goto(`${spa}/admin/orders`);
  await page.getByRole('heading', { level: 1, name: 'Order desk' }).waitFor();
  console.log(`   /admin/orders: the admin build (${adminWasm.join(', ')})`);
  if (!adminWasm.some((p) => p.startsWith('/admin/'))) {
    console.error(`/admin/orders did not load the admin build's WASM: ${adminWasm.join(', ')}`);
    process.exitCode = 1;
  }
  if (violations.length) {
    console.error(`CSP violations:\n  ${violations.join('\n  ')}`);
    process.exitCode = 1;
  } else if (images.total === 0 || images.loaded < images.total) {
    console.error('some product images did not load');
    process.exitCode = 1;
  } else {
    console.log('   no Content-Security-Policy violation');
  }
} finally {
  await browser.close();
}
