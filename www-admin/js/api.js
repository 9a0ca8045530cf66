/*
 * api.js - JSON calls to the game API with the session's bearer token.
 *
 * A non-2xx answer becomes an ApiError carrying the decoded problem+json
 * (RFC 9457: type, title, status, detail, errors[]) for dom.showProblem.  A
 * 401 triggers one token refresh and one retry; a second 401 ends the
 * session (session.refresh calls the expiry handler).
 */
import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message || (problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function decode(r) {
  const type = r.headers.get('Content-Type') || '';
  if (r.status === 204) return null;
  if (type.includes('json')) {
    try {
      return await r.json();
    } catch {
      return null;
    }
  }
  return null;
}

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

/* call('GET', '/api/admin/worlds') -> decoded JSON, or throws ApiError. */
export async function call(method, path, body, { auth = true } = {}) {
  let r;
  try {
    r = await send(method, path, body, auth ? session.accessToken() : null);
    if (r.status === 401 && auth && session.load()?.refresh_token) {
      r = await send(method, path, body, await session.refresh());
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, null, `network error: ${e.message}`);
  }
  const data = await decode(r);
  if (!r.ok) {
    const problem = data && typeof data === 'object' && !Array.isArray(data)
      ? data : { title: r.statusText || 'Request failed', status: r.status };
    throw new ApiError(r.status, problem);
  }
  return data;
}

export const get = (path, opts) => call('GET', path, undefined, opts);
export const post = (path, body, opts) => call('POST', path, body ?? {}, opts);
export const patch = (path, body, opts) => call('PATCH', path, body, opts);

/* '/api/admin/users' + {q: 'x', limit: 20} -> '/api/admin/users?q=x&limit=20' (empty values dropped). */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
