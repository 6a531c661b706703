// A tiny static server for the built SPA: files from `dir`, `/config.json` from a
// file of its own (so tests point the same build at their services), and
// index.html for every other path (client-side routes survive a reload).
//
// `likeImage: true` serves as the SPA image's nginx does (deploy/docker/spa/):
// brotli or gzip as the browser asks, hashed assets cached for a year and the
// rest `no-cache`, and the landing page's `Link` preloads (config.json, the
// catalogue's first page, a preconnect to the products service). The tests
// use the plain mode; e2e/first-card.mjs measures with this one.
import { createServer } from 'node:http';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

async function fileOrNull(path) {
  try {
    const s = await stat(path);
    return s.isFile() ? await readFile(path) : null;
  } catch {
    return null;
  }
}

/** Trunk's content-hashed names (`app-<hash>_bg.wasm`), as nginx.conf matches them. */
const HASHED = /-[0-9a-f]{8,20}(_bg)?\.[a-z0-9]+$/;
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.svg', '.ico', '.txt']);

/** Each file's compressed copies, made once (the image makes them at build time). */
const packed = new Map();
function compressed(key, body, encoding) {
  const k = `${encoding} ${key}`;
  if (!packed.has(k)) {
    packed.set(k, encoding === 'br'
      ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } })
      : gzipSync(body, { level: 9 }));
  }
  return packed.get(k);
}

/** The headers and body the SPA image would answer with. */
function likeImageAnswer(req, path, file, type, body, products) {
  const headers = { 'content-type': type, vary: 'Accept-Encoding' };
  headers['cache-control'] = HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
  if (type.startsWith('text/html') && products) {
    const origin = new URL(products).origin;
    let links = `</config.json>; rel=preload; as=fetch; crossorigin=anonymous, <${origin}>; rel=preconnect; crossorigin=anonymous, <${origin}>; rel=preconnect`;
    if (path === '/') {
      links += `, <${products}/api/products?limit=8&offset=0>; rel=preload; as=fetch; crossorigin=anonymous`;
    }
    headers.link = links;
  }
  const accept = String(req.headers['accept-encoding'] ?? '');
  const ext = extname(file ?? path) || '.html';
  if (COMPRESSIBLE.has(ext) && body.length > 256) {
    const encoding = /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : null;
    if (encoding) {
      // config.json is written per run: never kept.
      body = file ? compressed(file, body, encoding) : (encoding === 'br' ? brotliCompressSync(body) : gzipSync(body));
      headers['content-encoding'] = encoding;
    }
  }
  return { headers, body };
}

/** `/admin` and below: served from the admin's build, in `admin/` of the dist. */
function isAdminPath(path) {
  return path === '/admin' || path.startsWith('/admin/');
}

/**
 * Starts serving; resolves to the node http.Server once it listens.
 * `likeImage`: serve as the SPA image does (see above); `products` is the
 * products service's URL for its `Link` header.
 */
export function startStaticServer({ dir, configFile, host = '127.0.0.1', port = 0, likeImage = false, products = null }) {
  const root = normalize(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let body = null;
    let type = TYPES['.html'];
    let file = null;
    if (path === '/config.json' && configFile) {
      body = await fileOrNull(configFile);
      type = TYPES['.json'];
    } else {
      file = normalize(join(root, path));
      if (file === root || file.startsWith(root + sep)) {
        body = await fileOrNull(file);
        type = TYPES[extname(file)] ?? 'application/octet-stream';
      }
      if (body === null && !extname(path)) {
        // The admin pages are a build of their own (app/src/pages/admin).
        file = join(root, isAdminPath(path) ? 'admin/index.html' : 'index.html');
        body = await fileOrNull(file);
        type = TYPES['.html'];
      }
    }
    if (body === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (likeImage) {
      const answer = likeImageAnswer(req, path, file, type, body, products);
      res.writeHead(200, answer.headers).end(answer.body);
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  // The image compresses at build time: so here before the first request,
  // or the first load would wait for brotli's highest level on the WASM.
  const ready = likeImage ? precompress(root) : Promise.resolve();
  return ready.then(() => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  }));
}

async function precompress(root) {
  for (const name of await readdir(root)) {
    const file = join(root, name);
    if (!COMPRESSIBLE.has(extname(name))) continue;
    const body = await fileOrNull(file);
    if (body === null || body.length <= 256) continue;
    compressed(file, body, 'br');
    compressed(file, body, 'gzip');
  }
}

// As a program: node lib/static-server.mjs <dist> <config.json> [port] [--like-image]
// (`--like-image`: compressed and cached as the SPA image serves it, the
// products URL for its preloads read from config.json; what `trunk serve`
// cannot do, see the README's "WASM" notes).
if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const likeImage = args.includes('--like-image');
  const [dir, configFile, port = '0'] = args.filter((a) => a !== '--like-image');
  const products = likeImage ? JSON.parse(await readFile(configFile, 'utf8')).products : null;
  const server = await startStaticServer({ dir, configFile, port: Number(port), likeImage, products });
  const { address, port: p } = server.address();
  console.log(`listening on http://${address}:${p}`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
