// Direct calls to the services, to set up data the browser test is not about.
// (deploy/test/http-journey.mjs calls the deployed services with `call` too.)

/**
 * One request; the answer's JSON (or text). Throws on a status outside
 * `expect` (default: any 2xx), and after `timeoutMs` when given.
 */
export async function call(base, method, path, { token, body, expect, timeoutMs } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  if (expect ? !expect.includes(r.status) : !r.ok) {
    throw new Error(`${method} ${base}${path}: ${r.status} ${text}`);
  }
  return json;
}

let counter = 0;
/** A username no other test uses. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}${counter}`;
}

/** Registers and logs in a user through the API; returns its token. */
export async function registerAndLogin(urls, username, password = 'correct horse battery') {
  await call(urls.users, 'POST', '/api/user/create', {
    body: { username, email: `${username}@example.com`, password, first_name: 'Test', last_name: 'User' },
  });
  const login = await call(urls.users, 'POST', '/api/user/login', { body: { username, password } });
  return login.api_key;
}

export async function products(urls, q = '') {
  const query = q ? `?limit=1000&q=${encodeURIComponent(q)}` : '?limit=1000';
  return call(urls.products, 'GET', `/api/products${query}`);
}

/**
 * A new admin's token. The user is made admin before logging in, so that the
 * token is an admin's from its first use (services may cache who a token is).
 */
export async function adminToken(stack, username = uniqueName('admin'), password = 'correct horse battery') {
  await call(stack.urls.users, 'POST', '/api/user/create', {
    body: { username, email: `${username}@example.com`, password, first_name: 'Ad', last_name: 'Min' },
  });
  await stack.makeAdmin(username);
  const login = await call(stack.urls.users, 'POST', '/api/user/login', { body: { username, password } });
  return { username, password, token: login.api_key };
}

/** `POST /api/product/create` as an admin; returns the product. */
export async function createProduct(urls, token, body) {
  const r = await call(urls.products, 'POST', '/api/product/create', { token, body });
  return r.product;
}

/** `PATCH /api/product/{id}` as an admin (v1.2); returns the product. */
export async function patchProduct(urls, token, id, body) {
  const r = await call(urls.products, 'PATCH', `/api/product/${id}`, { token, body });
  return r.result;
}

/** `GET /api/product/{id}`, with a token when given (admins see hidden ones). */
export async function productById(urls, id, token) {
  const r = await call(urls.products, 'GET', `/api/product/${id}`, { token });
  return r.result;
}
