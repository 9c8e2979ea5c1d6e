// The HTTP API as the page uses it. The page is signed in with the session
// cookie (HttpOnly: script cannot read it); every request that changes state
// carries the session's CSRF token in X-Lhk-CSRF. The bearer token is used
// once, to sign in, and never kept.
import { t } from './i18n.js';

let csrf = '';
let onUnauthorized = null;

export function setCSRF(token) { csrf = token || ''; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// ApiError is a failed request: the HTTP status and the API's error code,
// message and, for a failed run, the invocation id.
export class ApiError extends Error {
  constructor(status, code, message, invocation) {
    super(message);
    this.status = status;
    this.code = code;
    this.invocation = invocation || '';
  }
}

// request sends one request and returns the Response; errors are thrown as
// ApiError. opts: json (a value to send as JSON), body, headers, signal,
// signIn (a 401 is the caller's, not a sign-out).
export async function request(method, path, opts = {}) {
  const headers = new Headers(opts.headers || {});
  let body = opts.body;
  if (opts.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(opts.json);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers.set('X-Lhk-CSRF', csrf);
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store', redirect: 'error', signal: opts.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'unavailable', t('err.network'));
  }
  if (!res.ok) {
    let e = {};
    try { e = (await res.json()).error || {}; } catch { /* not JSON */ }
    const err = new ApiError(res.status, e.code || 'internal', e.message || res.statusText, e.invocation || res.headers.get('X-Lhk-Invocation'));
    if (res.status === 401 && !opts.signIn && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return res;
}

// api sends a request and decodes a JSON answer (null when there is none).
export async function api(method, path, opts = {}) {
  const res = await request(method, path, opts);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// query builds a path with query parameters, leaving out empty ones.
export function query(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? path + '?' + s : path;
}

export const enc = encodeURIComponent;
