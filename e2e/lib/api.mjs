// Direct calls to the services, to set up data the browser test is not about.
export async function call(base, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  if (!r.ok) {
    throw new Error(`${method} ${path}: ${r.status} ${text}`);
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
