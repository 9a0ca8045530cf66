/*
 * users.js - finding users, banning and unbanning them, their audit log.
 *
 *   GET  /api/admin/users?q=&limit=&after=   one page; `after` is the cursor
 *   POST /api/admin/users/:id/ban {reason}
 *   POST /api/admin/users/:id/unban
 *   GET  /api/admin/audit?user_id=
 *
 * Pages are cursor-based: "Next page" asks for the rows after the cursor
 * the previous answer gave.  A ban asks for a reason inline (no prompt(),
 * which a CSP-strict page should not depend on either).
 */
import * as api from './api.js';
import { $, el, setRows, showProblem, text, flash } from './dom.js';
import { items, nextCursor, pick } from './lists.js';

const REASON_MAX = 500;
let ctx = null;
let wired = false;
let query = { q: '', limit: 20 };
let cursor = null;

export function start(context) {
  ctx = context;
  if (!wired) {
    wired = true;
    $('users-search').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      query = { q: String(f.get('q') || '').trim(), limit: Number(f.get('limit')) || 20 };
      load(false);
    });
    $('users-more').addEventListener('click', () => load(true));
  }
  load(false);
}

export function stop() {}

async function load(more) {
  const box = $('users-problem');
  showProblem(box, null);
  let body;
  try {
    body = await api.get(api.withQuery('/api/admin/users', { ...query, after: more ? cursor : null }));
  } catch (e) {
    ctx.fail(box, e);
    return;
  }
  const rows = items(body, 'users').map(userRow);
  const tbody = $('users-table').tBodies[0];
  if (more) rows.forEach((r) => tbody.append(r));
  else setRows(tbody, rows);
  cursor = nextCursor(body);
  $('users-more').hidden = cursor === null;
}

function isBanned(u) {
  return Boolean(pick(u, 'banned_at') || u.banned === true || u.status === 'banned');
}

function userRow(u) {
  const banned = isBanned(u);
  const actions = el('td', { className: 'actions' });
  const status = banned
    ? el('span', { className: 'badge bad', title: text(pick(u, 'ban_reason', 'banned_reason')) }, 'banned')
    : el('span', { className: 'badge ok' }, 'active');
  const row = el('tr', { dataset: { user: text(u.id) } },
    el('td', {}, text(u.id)),
    el('td', {}, text(u.email)),
    el('td', {}, text(u.role)),
    el('td', {}, text(pick(u, 'created_at'))),
    el('td', {}, status),
    actions);
  if (banned) {
    actions.append(el('button', { type: 'button', className: 'unban', onclick: () => unban(u) }, 'Unban'));
  } else {
    actions.append(banForm(u));
  }
  actions.append(' ', el('button', { type: 'button', className: 'audit', onclick: () => audit(u) }, 'Audit log'));
  return row;
}

function banForm(u) {
  const reason = el('input', { type: 'text', maxLength: REASON_MAX, placeholder: 'reason', required: true,
    className: 'ban-reason', 'aria-label': `reason to ban user ${u.id}` });
  return el('form', { className: 'inline ban-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const why = reason.value.trim();
    if (!why) {
      showProblem($('users-problem'), new Error('A ban needs a reason.'));
      return;
    }
    try {
      await api.post(`/api/admin/users/${encodeURIComponent(u.id)}/ban`, { reason: why });
      flash(`User ${u.id} banned.`);
      load(false);
    } catch (e) {
      ctx.fail($('users-problem'), e);
    }
  } }, reason, ' ', el('button', { type: 'submit', className: 'ban' }, 'Ban'));
}

async function unban(u) {
  try {
    await api.post(`/api/admin/users/${encodeURIComponent(u.id)}/unban`);
    flash(`User ${u.id} unbanned.`);
    load(false);
  } catch (e) {
    ctx.fail($('users-problem'), e);
  }
}

async function audit(u) {
  const box = $('audit-problem');
  $('audit-card').hidden = false;
  $('audit-user').textContent = `user ${u.id}${u.email ? ` · ${u.email}` : ''}`;
  showProblem(box, null);
  setRows($('audit-table').tBodies[0], []);
  let body;
  try {
    body = await api.get(api.withQuery('/api/admin/audit', { user_id: u.id }));
  } catch (e) {
    ctx.fail(box, e);
    return;
  }
  const shown = ['at', 'created_at', 'time', 'action', 'kind', 'event', 'ip'];
  setRows($('audit-table').tBodies[0], items(body, 'entries', 'audit', 'events').map((a) => {
    const rest = Object.fromEntries(Object.entries(a).filter(([k]) => !shown.includes(k)));
    return el('tr', {},
      el('td', {}, text(pick(a, 'at', 'created_at', 'time'))),
      el('td', {}, text(pick(a, 'action', 'kind', 'event'))),
      el('td', {}, text(a.ip)),
      el('td', { className: 'small' }, text(Object.keys(rest).length ? rest : null)));
  }));
}
