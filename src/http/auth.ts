// SPDX-License-Identifier: MIT
// HTTP Basic auth as supervisord's supervisor_auth_handler (medusa auth_handler plus
// encrypted_dictionary_authorizer) decides it: one user, a plain or {SHA} password.
import { password_matches, sameSecret } from '../config/datatypes.js';

export type AuthResult =
  /** credentials accepted (or the server has no username): go on with the request */
  | { kind: 'ok'; username: string | null }
  /** 401 with WWW-Authenticate: Basic realm="default" */
  | { kind: 'unauthorized' }
  /** medusa's 400 for an Authorization: Basic value base64 cannot decode */
  | { kind: 'malformed' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Python's base64.decodebytes (binascii.a2b_base64, non-strict): characters outside the
 * alphabet are skipped, decoding stops at padding, and a dangling group is an error.
 */
function pyB64Decode(s: string): Buffer | null {
  const data = s.replace(/[^A-Za-z0-9+/=]/g, '');
  const pad = data.indexOf('=');
  const body = pad < 0 ? data : data.slice(0, pad);
  const rem = body.length % 4;
  if (rem === 1) return null;
  if (rem !== 0) {
    // 2 leftover characters need '==', 3 need '='.
    const padding = pad < 0 ? '' : data.slice(pad);
    if (padding.length < 4 - rem) return null;
  }
  return Buffer.from(body, 'base64');
}

/**
 * `header` is the Authorization value as received (undefined when absent). medusa reads it
 * with the regex 'Authorization: ([^ ]+) (.*)', so the scheme ends at the first space.
 */
export function checkBasicAuth(
  header: string | undefined,
  username: string | null,
  password: string | null,
): AuthResult {
  if (!username) return { kind: 'ok', username: null };
  if (!header) return { kind: 'unauthorized' };
  const sp = header.indexOf(' ');
  if (sp <= 0) return { kind: 'unauthorized' };
  // Digest and anything else: medusa says "unknown/unsupported auth method" and answers 401.
  if (header.slice(0, sp).toLowerCase() !== 'basic') return { kind: 'unauthorized' };
  const raw = pyB64Decode(header.slice(sp + 1));
  if (!raw) return { kind: 'malformed' };
  let decoded: string;
  try {
    decoded = utf8.decode(raw);
  } catch {
    return { kind: 'malformed' };
  }
  const colon = decoded.indexOf(':');
  // supervisord fails to unpack a value without ':' and answers 500; it is just bad credentials.
  if (colon < 0) return { kind: 'unauthorized' };
  const user = decoded.slice(0, colon);
  const pass = decoded.slice(colon + 1);
  // Both compared, each in constant time, whatever the first says: how long a refusal
  // takes tells nothing about which part was wrong or how much of it was right.
  const userOk = sameSecret(user, username);
  const passOk = password_matches(password ?? '', pass);
  return userOk && passOk ? { kind: 'ok', username: user } : { kind: 'unauthorized' };
}
