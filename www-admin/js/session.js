/*
 * session.js - the signed-in admin session: tokens, their expiry, refresh.
 *
 * Storage: sessionStorage, not localStorage.  sessionStorage lives only as
 * long as this browser tab and is not shared with other tabs, so a forgotten
 * panel tab is the longest a token survives on the machine, and nothing
 * lingers on disk-backed storage after the browser closes.  Any script
 * running in the page could read either store, which is why the page allows
 * only its own scripts (strict CSP) and never renders API strings as HTML.
 *
 * The stored value is JSON {access_token, refresh_token?, expires_at?}:
 * sign-in writes all three; a bare {access_token} (e.g. put there by a test
 * or an operator's tool) works too, expiry then comes from the token's exp
 * claim.  Claims are decoded only for display and scheduling: the server
 * verifies every request, the panel trusts nothing it decodes.
 */
const KEY = 'bt.admin.session';
/* Refresh this long before expiry (or at 80 % of a shorter lifetime). */
const REFRESH_MARGIN_MS = 60 * 1000;

let refreshTimer = 0;
let refreshing = null;
let onExpired = () => {};

export function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (!s || typeof s.access_token !== 'string' || !s.access_token) return null;
    const claims = decodeClaims(s.access_token);
    if (!claims) return null;
    if (!s.expires_at && claims.exp) s.expires_at = claims.exp * 1000;
    s.claims = claims;
    return s;
  } catch {
    return null;
  }
}

function store(s) {
  const { access_token, refresh_token, expires_at } = s;
  sessionStorage.setItem(KEY, JSON.stringify({ access_token, refresh_token, expires_at }));
}

export function clear() {
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(KEY);
}

/* The JWT payload as an object, or null when it is not a JWT. */
export function decodeClaims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/* Role of the session: the login answer's user.role, else the token's claim. */
export function role(s) {
  return (s && s.claims && s.claims.role) || null;
}

export function accessToken() {
  const s = load();
  return s ? s.access_token : null;
}

/* Stores a /auth/login or /auth/refresh answer. */
export function accept(answer) {
  if (!answer || typeof answer.access_token !== 'string') throw new Error('the sign-in answer has no access token');
  const s = {
    access_token: answer.access_token,
    refresh_token: answer.refresh_token,
    expires_at: answer.expires_in ? Date.now() + answer.expires_in * 1000 : undefined,
  };
  store(s);
  return schedule();
}

/* Arms the refresh timer for the stored session; calls back when it lapses. */
export function schedule(expired) {
  if (expired) onExpired = expired;
  clearTimeout(refreshTimer);
  const s = load();
  if (!s || !s.expires_at) return s;
  const left = s.expires_at - Date.now();
  const lead = Math.min(REFRESH_MARGIN_MS, left * 0.2);
  if (!s.refresh_token) {
    refreshTimer = setTimeout(() => onExpired('Your session expired. Sign in again.'), Math.max(0, left));
  } else {
    refreshTimer = setTimeout(() => refresh().catch(() => {}), Math.max(0, left - lead));
  }
  return s;
}

/*
 * Exchanges the refresh token for a new pair (rotated by the server: the old
 * one is dead afterwards).  Concurrent callers share one request.  Resolves
 * to the new access token; on failure the session ends.
 */
export function refresh() {
  if (refreshing) return refreshing;
  const s = load();
  if (!s || !s.refresh_token) return Promise.reject(new Error('no refresh token'));
  refreshing = fetch('/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ refresh_token: s.refresh_token }),
    credentials: 'omit',
    cache: 'no-store',
  }).then(async (r) => {
    if (!r.ok) throw new Error(`refresh failed (${r.status})`);
    accept(await r.json());
    return accessToken();
  }).catch((e) => {
    clear();
    onExpired('Your session ended. Sign in again.');
    throw e;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

/* Revokes the refresh token family server-side (best effort), then forgets the session. */
export async function logout() {
  const s = load();
  clear();
  if (!s) return;
  try {
    await fetch('/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.access_token}` },
      body: JSON.stringify(s.refresh_token ? { refresh_token: s.refresh_token } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    /* Offline or the auth service is down: the local session is gone anyway. */
  }
}
