/*
 * lists.js - reading list answers whose envelope may vary.
 *
 * List endpoints answer either a bare array or an object holding the array
 * (under one of a few names) and a cursor for the next page.  One reader
 * here instead of guessing in every section.
 */
export function items(body, ...names) {
  if (Array.isArray(body)) return body;
  if (!body || typeof body !== 'object') return [];
  for (const n of [...names, 'items', 'data', 'results']) {
    if (Array.isArray(body[n])) return body[n];
  }
  return [];
}

/* The cursor for the next page, or null at the end. */
export function nextCursor(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  for (const n of ['next_after', 'next', 'after', 'next_cursor', 'cursor']) {
    const v = body[n];
    if (v !== undefined && v !== null && v !== '' && typeof v !== 'object') return v;
  }
  return null;
}

/* The first present field among names. */
export function pick(obj, ...names) {
  for (const n of names) {
    if (obj && obj[n] !== undefined && obj[n] !== null) return obj[n];
  }
  return null;
}
