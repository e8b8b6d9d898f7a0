// SPDX-License-Identifier: MIT
// A small XML-RPC client for the browser: the page talks to /RPC2 exactly as supervisorctl
// does (same methods, same faults, same Basic auth the browser already holds).

export class Fault extends Error {
  constructor(code, text) {
    super(`${code}: ${text}`);
    this.code = code;
    this.text = text;
  }
}

export class HttpError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function encode(v) {
  if (v === null || v === undefined) return '<nil/>';
  if (typeof v === 'string') return `<string>${esc(v)}</string>`;
  if (typeof v === 'boolean') return `<boolean>${v ? 1 : 0}</boolean>`;
  if (typeof v === 'number') return Number.isInteger(v) ? `<int>${v}</int>` : `<double>${v}</double>`;
  if (Array.isArray(v)) return `<array><data>${v.map((x) => `<value>${encode(x)}</value>`).join('')}</data></array>`;
  const members = Object.entries(v).map(([k, x]) => `<member><name>${esc(k)}</name><value>${encode(x)}</value></member>`);
  return `<struct>${members.join('')}</struct>`;
}

function children(el) {
  return Array.from(el.children);
}

function decode(valueEl) {
  const t = valueEl.firstElementChild;
  if (!t) return valueEl.textContent;
  const text = t.textContent;
  switch (t.localName) {
    case 'string':
    case 'dateTime.iso8601':
      return text;
    case 'int':
    case 'i4':
    case 'i8':
    case 'double':
      return Number(text);
    case 'boolean':
      return text.trim() === '1';
    case 'nil':
      return null;
    case 'base64':
      return atob(text.replace(/\s+/g, ''));
    case 'array':
      return children(t.firstElementChild ?? t).map(decode);
    case 'struct': {
      const out = {};
      for (const m of children(t)) {
        const name = m.getElementsByTagName('name')[0];
        const value = m.getElementsByTagName('value')[0];
        if (name && value) out[name.textContent] = decode(value);
      }
      return out;
    }
    default:
      return text;
  }
}

/** One call; resolves with the value, rejects with a Fault or an HttpError. */
export async function call(method, ...params) {
  const body = `<?xml version="1.0"?>\n<methodCall><methodName>${esc(method)}</methodName><params>${params
    .map((p) => `<param><value>${encode(p)}</value></param>`)
    .join('')}</params></methodCall>`;
  const res = await fetch('RPC2', { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body, cache: 'no-store' });
  if (res.status !== 200) throw new HttpError(res.status);
  const doc = new DOMParser().parseFromString(await res.text(), 'text/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new Error('unreadable XML-RPC response');
  const fault = doc.querySelector('methodResponse > fault > value');
  if (fault) {
    const f = decode(fault);
    throw new Fault(f.faultCode, f.faultString);
  }
  const value = doc.querySelector('methodResponse > params > param > value');
  if (!value) throw new Error('XML-RPC response without a value');
  return decode(value);
}

/** system.multicall: each result is the value, or a Fault object (not thrown). */
export async function multicall(calls) {
  const results = await call(
    'system.multicall',
    calls.map(([methodName, ...params]) => ({ methodName, params })),
  );
  return results.map((r) => (r && typeof r === 'object' && 'faultCode' in r ? new Fault(r.faultCode, r.faultString) : r));
}
