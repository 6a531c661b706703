// Starts the real services and the SPA for a test, each on a free port with its own
// temporary SQLite databases, and stops/restarts single services to test outages.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm, open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startStaticServer } from './static-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR
  ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
  : join(repoRoot, 'target');
export const binDir = process.env.E2E_BIN_DIR ?? join(targetDir, 'debug');
export const distDir = process.env.E2E_DIST_DIR ?? join(repoRoot, 'dist');

export const SERVICES = ['users', 'products', 'orders'];

/**
 * Ports handed out by this process. The system may offer a port again as soon
 * as its probe closes, before whoever it went to listens on it: a stack's
 * Stripe emulator once got the products service's port (2026-12-07).
 */
const handedOut = new Set();

/** A port nobody listens on right now, and not handed out before by this process. */
export async function freePort() {
  for (;;) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A port the system offers for listening on 127.0.0.1, closed again. */
function probePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls GET /readyz until 200. With `exited` (a function giving why the server
 * is gone, or nothing while it runs), fails as soon as it gives a reason.
 */
export async function waitReady(url, timeoutMs = 30_000, exited = () => null) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone) throw new Error(gone);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * The SPA and the three services, as one running shop.
 * `stop(name)` kills a service's process; `start(name)` brings it back on the same
 * port and database.
 */
export class Stack {
  /**
   * `payments: true`: the orders service takes payment (contract v1.3) through
   * its own Stripe emulator (`scripts/localstripe`), and the SPA's config.json
   * carries the emulator's keys; see `pauseStripe`. `orders`: more settings
   * of the orders service (`ORDER_PAYMENT_TTL_SECS`, ...). `likeImage`: the
   * SPA served as its image serves it (compressed, cached, preloads; see
   * lib/static-server.mjs), for measuring a first load.
   */
  static async start({ payments = false, orders = {}, likeImage = false } = {}) {
    const s = new Stack();
    try {
      await s.#boot(payments, orders, likeImage);
    } catch (e) {
      // What did start must not outlive the failure: a static server left
      // listening kept the test file's process, and the suite, waiting forever.
      await s.shutdown().catch(() => {});
      throw e;
    }
    return s;
  }

  #procs = {};
  #env = {};
  #server = null;
  #mail = null;
  #stripe = null;
  dir = null;
  urls = {};
  /** Where the mail catcher keeps the shop's emails (a Maildir). */
  maildir = null;

  async #boot(payments, orders, likeImage) {
    this.dir = await mkdtemp(join(tmpdir(), 'cartwheel-e2e-'));
    const configFile = join(this.dir, 'config.json');
    for (const name of SERVICES) {
      this.urls[name] = `http://127.0.0.1:${await freePort()}`;
    }
    this.#server = await startStaticServer({ dir: distDir, configFile, likeImage, products: this.urls.products });
    this.spa = `http://127.0.0.1:${this.#server.address().port}`;
    if (payments) this.#stripe = await startLocalStripe(join(this.dir, 'localstripe.log'));
    await writeFile(configFile, JSON.stringify({ ...this.urls, ...this.#stripe?.config }));
    // The shop's emails (v1.3) go to a real SMTP server keeping a Maildir.
    this.maildir = join(this.dir, 'mail');
    const mailPort = await freePort();
    this.#mail = await startMailCatcher(this.maildir, mailPort, join(this.dir, 'mail.log'));
    // Orders reserves stock at products with it (contract v1.2): one random
    // value per shop, never the services' development default.
    const serviceToken = randomBytes(24).toString('hex');
    for (const name of SERVICES) {
      const port = new URL(this.urls[name]).port;
      this.#env[name] = {
        HOST: '127.0.0.1',
        PORT: port,
        DATABASE_URL: `sqlite://${join(this.dir, `${name}.db`)}`,
        CORS_ORIGINS: this.spa,
        USERS_URL: this.urls.users,
        PRODUCTS_URL: this.urls.products,
        RUST_LOG: process.env.E2E_RUST_LOG ?? 'warn',
        SERVICE_TOKEN: serviceToken,
        // Every shopper registers from 127.0.0.1: past the contract's 20 an
        // hour per address (v1.3), which the HTTP tests check.
        REGISTER_MAX_PER_ADDRESS: '100000',
        SMTP_URL: `smtp://127.0.0.1:${mailPort}`,
        PUBLIC_SHOP_URL: this.spa,
      };
    }
    if (this.#stripe) Object.assign(this.#env.orders, this.#stripe.env);
    Object.assign(this.#env.orders, orders);
    // Users and products first: orders calls both.
    await Promise.all([this.start('users'), this.start('products')]);
    await this.start('orders');
    await this.#stripe?.registerWebhook(`${this.urls.orders}/api/payments/stripe/webhook`);
  }

  /** The Stripe emulator's base URL and secret key (payments on), for direct reads. */
  get stripe() {
    return this.#stripe && { base: this.#stripe.base, secretKey: STRIPE.secretKey };
  }

  /** Stops the emulator where it is (SIGSTOP): calls to it hang. */
  pauseStripe() {
    this.#stripe.proc.kill('SIGSTOP');
  }

  /** Lets the emulator run again (SIGCONT), its state intact. */
  resumeStripe() {
    this.#stripe.proc.kill('SIGCONT');
  }

  async start(name) {
    if (this.#procs[name]) return;
    const log = await open(join(this.dir, `${name}.log`), 'a');
    const proc = spawn(join(binDir, `api-${name}`), [], {
      env: { ...process.env, ...this.#env[name] },
      stdio: ['ignore', log.fd, log.fd],
    });
    proc.on('exit', () => log.close().catch(() => {}));
    this.#procs[name] = proc;
    // A service that exits (its port taken, say) fails the start at once,
    // naming its log, instead of after waitReady's 30 s.
    await waitReady(this.urls[name], 30_000, () =>
      proc.exitCode === null && proc.signalCode === null
        ? null
        : `api-${name} exited before it was ready: see ${join(this.dir, `${name}.log`)}`,
    );
  }

  /** Kills the service's process and waits until it is gone. */
  async stop(name) {
    const proc = this.#procs[name];
    if (!proc) return;
    delete this.#procs[name];
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
  }

  async startAll() {
    await Promise.all([this.start('users'), this.start('products')]);
    await this.start('orders');
  }

  /** `api-users make-admin <username>` against this stack's users database. */
  async makeAdmin(username) {
    await promisify(execFile)(join(binDir, 'api-users'), ['make-admin', username], {
      env: { ...process.env, ...this.#env.users },
    });
  }

  async shutdown() {
    await Promise.all(SERVICES.map((n) => this.stop(n)));
    const stripe = this.#stripe?.proc;
    if (stripe && stripe.exitCode === null && stripe.signalCode === null) {
      const gone = new Promise((r) => stripe.once('exit', r));
      // A paused emulator must not outlive its tests.
      stripe.kill('SIGCONT');
      stripe.kill('SIGTERM');
      await gone;
    }
    if (this.#mail && this.#mail.exitCode === null) {
      const gone = new Promise((r) => this.#mail.once('exit', r));
      this.#mail.kill('SIGTERM');
      await gone;
    }
    if (this.#server) {
      await new Promise((r) => this.#server.close(r));
      this.#server.closeAllConnections?.();
    }
    if (this.dir && !process.env.E2E_KEEP_TMP) await rm(this.dir, { recursive: true, force: true });
  }
}

/** The emulator's keys (any `sk_`/`pk_`/`whsec_` value works with it). */
const STRIPE = {
  secretKey: 'sk_test_cartwheel_e2e',
  publishableKey: 'pk_test_cartwheel_e2e',
  webhookSecret: 'whsec_cartwheel_e2e',
};

/**
 * `scripts/localstripe <port>` (state in memory, fresh per stack), once it
 * answers; with the orders service's settings and the SPA's config for it.
 */
async function startLocalStripe(logFile) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = await open(logFile, 'a');
  const proc = spawn(join(repoRoot, 'scripts', 'localstripe'), [String(port)], {
    stdio: ['ignore', log.fd, log.fd],
  });
  proc.on('exit', () => log.close().catch(() => {}));
  // The first use installs it (a minute, once): run.sh does that beforehand.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const up = await fetch(`${base}/v1/payment_intents`, {
      headers: { authorization: `Bearer ${STRIPE.secretKey}` },
    }).then((r) => r.ok, () => false);
    if (up) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGTERM');
      throw new Error(`localstripe did not start (see ${logFile})`);
    }
    await sleep(100);
  }
  return {
    proc,
    base,
    env: {
      STRIPE_SECRET_KEY: STRIPE.secretKey,
      STRIPE_API_BASE: base,
      STRIPE_WEBHOOK_SECRET: STRIPE.webhookSecret,
    },
    config: {
      stripe_publishable_key: STRIPE.publishableKey,
      stripe_js_url: `${base}/js.stripe.com/v3/`,
    },
    async registerWebhook(url) {
      const r = await fetch(`${base}/_config/webhooks/orders`, {
        method: 'POST',
        body: new URLSearchParams({ url, secret: STRIPE.webhookSecret }),
      });
      if (!r.ok) throw new Error(`localstripe: webhook registration answered ${r.status}`);
    },
  };
}

/** `scripts/mail-catcher <dir> <port>`, once it accepts connections. */
async function startMailCatcher(dir, port, logFile) {
  const log = await open(logFile, 'a');
  const proc = spawn(join(repoRoot, 'scripts', 'mail-catcher'), [dir, String(port)], {
    stdio: ['ignore', log.fd, log.fd],
  });
  proc.on('exit', () => log.close().catch(() => {}));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await new Promise((ok) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); ok(true); });
      s.once('error', () => ok(false));
    });
    if (up) return proc;
    if (proc.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the mail catcher did not start (see ${logFile})`);
    }
    await sleep(100);
  }
}

/**
 * The stack `run.sh` started (its URLs in E2E_* variables), or a fresh one when a
 * test file runs on its own. Outage tests always take a fresh one.
 */
export async function sharedStack() {
  const e = process.env;
  if (e.E2E_SPA && e.E2E_USERS && e.E2E_PRODUCTS && e.E2E_ORDERS && e.E2E_USERS_DATABASE_URL) {
    const urls = { users: e.E2E_USERS, products: e.E2E_PRODUCTS, orders: e.E2E_ORDERS };
    return {
      spa: e.E2E_SPA,
      urls,
      maildir: e.E2E_MAILDIR,
      async makeAdmin(username) {
        await promisify(execFile)(join(binDir, 'api-users'), ['make-admin', username], {
          env: { ...process.env, DATABASE_URL: e.E2E_USERS_DATABASE_URL },
        });
      },
      async shutdown() {},
    };
  }
  return Stack.start();
}
