#!/usr/bin/env node
// A shop of its own, its SPA served as the SPA image serves it, until Ctrl-C.
//
//   node e2e/serve-like-image.mjs          # prints the SPA's URL, then waits
//   scripts/lighthouse http://127.0.0.1:<port>/
//
// For measuring a first load (Lighthouse, a trace) on a local build without
// building the images: the same stack as e2e/first-card.mjs (lib/stack.mjs with
// `likeImage`: brotli/gzip, hashed assets cached, the landing page's Link
// preloads), on dist/ and target/debug/api-* as e2e/run.sh leaves them. The
// services are debug builds, so what they take to answer is not the image's.
import { Stack } from './lib/stack.mjs';

const stack = await Stack.start({ likeImage: true });
console.log(`${stack.spa}/`);
const stop = async () => {
  await stack.shutdown();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Keep the process alive until a signal arrives.
setInterval(() => {}, 1 << 30);
