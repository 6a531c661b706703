// A tiny static server for the built SPA: files from `dir`, `/config.json` from a
// file of its own (so tests point the same build at their services), and
// index.html for every other path (client-side routes survive a reload).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

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

/** Starts serving; resolves to the node http.Server once it listens. */
export function startStaticServer({ dir, configFile, host = '127.0.0.1', port = 0 }) {
  const root = normalize(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let body = null;
    let type = TYPES['.html'];
    if (path === '/config.json' && configFile) {
      body = await fileOrNull(configFile);
      type = TYPES['.json'];
    } else {
      const file = normalize(join(root, path));
      if (file === root || file.startsWith(root + sep)) {
        body = await fileOrNull(file);
        type = TYPES[extname(file)] ?? 'application/octet-stream';
      }
      if (body === null && !extname(path)) {
        body = await fileOrNull(join(root, 'index.html'));
        type = TYPES['.html'];
      }
    }
    if (body === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

// As a program: node lib/static-server.mjs <dist> <config.json> [port]
if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, configFile, port = '0'] = process.argv.slice(2);
  const server = await startStaticServer({ dir, configFile, port: Number(port) });
  const { address, port: p } = server.address();
  console.log(`listening on http://${address}:${p}`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
