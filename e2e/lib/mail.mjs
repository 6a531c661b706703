// The shop's emails as the mail catcher kept them (scripts/mail-catcher: one file
// per message under <maildir>/new/), read back as headers and plain text.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** RFC 2047 words (`=?utf-8?Q?...?=`) in a header, decoded. */
function decodeWords(value) {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_, charset, enc, text) => {
    const bytes = enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return new TextDecoder(charset).decode(bytes);
  });
}

/** Header block and body of one MIME entity. */
function split(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

function decodeBody(body, headers) {
  const enc = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return bytes.toString('utf8');
  }
  return body;
}

/** Every text part of an entity (HTML with its tags taken out), joined. */
function texts(raw) {
  const { headers, body } = split(raw);
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith('--'))
      .map((p) => texts(p.replace(/^\r?\n/, '')))
      .join('\n');
  }
  const text = decodeBody(body, headers);
  return /html/i.test(type) ? text.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&#36;|&dollar;/g, '$') : text;
}

/** Every message in the Maildir: `{ file, to, subject, messageId, text }`. */
export async function messages(maildir) {
  const dir = join(maildir, 'new');
  const files = await readdir(dir).catch(() => []);
  const all = [];
  for (const file of files.sort()) {
    const raw = await readFile(join(dir, file), 'utf8');
    const { headers } = split(raw);
    all.push({
      file,
      to: decodeWords(headers.to ?? ''),
      subject: decodeWords(headers.subject ?? ''),
      messageId: headers['message-id'] ?? '',
      text: texts(raw),
    });
  }
  return all;
}

/**
 * Polls the Maildir until a message satisfies `want` (the shop sends through
 * an outbox, within seconds), and returns it; fails after `timeout` ms listing
 * what arrived for `to`.
 */
export async function waitForMail(maildir, what, want, { to, timeout = 30_000 } = {}) {
  if (!maildir) throw new Error('no maildir: the stack runs no mail catcher');
  const deadline = Date.now() + timeout;
  let seen = [];
  for (;;) {
    seen = (await messages(maildir)).filter((m) => !to || m.to.toLowerCase().includes(to.toLowerCase()));
    const found = seen.find(want);
    if (found) return found;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${what}: no such email within ${timeout} ms; to ${to ?? 'anyone'}: ` +
      (seen.map((m) => `"${m.subject}"`).join(', ') || 'none'),
  );
}

/** Whether a message names this order (its number) and its total. */
export function aboutOrder(m, order, money) {
  const all = `${m.subject}\n${m.text}`;
  return new RegExp(`#\\s?${order.id}\\b|order\\s+${order.id}\\b`, 'i').test(all) && all.includes(money(order.total));
}
