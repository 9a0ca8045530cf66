/*
 * main.js - boots the panel: session gate, sign-in, tabs.
 *
 * Flow: a stored session (see session.js) with the admin role opens the
 * panel; no session shows the sign-in form; a non-admin session is dropped
 * (its refresh token revoked) and the form says the panel is for admins
 * only.  The server enforces the role on every /api/admin call; this gate
 * only spares a player a panel full of 403s.
 */
import * as api from './api.js';
import * as session from './session.js';
import { $, showProblem, flash } from './dom.js';
import * as dashboard from './dashboard.js';
import * as users from './users.js';
import * as params from './params.js';
import * as rigs from './rigs.js';

const ADMINS_ONLY = 'This panel is for administrators only. Your account does not have the admin role.';
const sections = { dashboard, users, params, rigs };
let current = null;

function showSignin(message) {
  stopAll();
  $('app-view').hidden = true;
  $('whoami').hidden = true;
  $('signin-view').hidden = false;
  const m = $('signin-message');
  m.textContent = message || '';
  m.hidden = !message;
}

function stopAll() {
  for (const s of Object.values(sections)) s.stop?.();
  current = null;
}

async function refuseNonAdmin() {
  await session.logout();
  showSignin(ADMINS_ONLY);
}

function openPanel(s) {
  if (session.role(s) !== 'admin') {
    refuseNonAdmin();
    return;
  }
  session.schedule((why) => {
    session.clear();
    showSignin(why);
  });
  $('signin-view').hidden = true;
  $('app-view').hidden = false;
  $('whoami').hidden = false;
  const c = s.claims;
  $('whoami-text').textContent = `user ${c.sub ?? '?'} · ${c.role}`;
  selectTab('dashboard');
}

function selectTab(name) {
  if (current === name) return;
  for (const b of document.querySelectorAll('.tab')) {
    b.setAttribute('aria-selected', String(b.dataset.tab === name));
  }
  for (const [k, mod] of Object.entries(sections)) {
    $(`tab-${k}`).hidden = k !== name;
    if (k !== name) mod.stop?.();
  }
  current = name;
  sections[name].start(context);
}

/* What sections get: a way to report errors, some of which end the session. */
const context = {
  /* Returns true when err was handled as "you may not be here". */
  handleAuthError(err) {
    if (err && err.status === 403 && err.problem?.type === '/problems/forbidden') {
      refuseNonAdmin();
      return true;
    }
    if (err && err.status === 401) {
      session.clear();
      showSignin('Your session is no longer valid. Sign in again.');
      return true;
    }
    return false;
  },
  /* Shows err in its container, unless it ended the session (above). */
  fail(box, err) {
    if (!context.handleAuthError(err)) showProblem(box, err);
  },
};

async function signIn(ev) {
  ev.preventDefault();
  const form = ev.target;
  const box = $('signin-problem');
  showProblem(box, null);
  const body = { email: $('signin-email').value.trim(), password: $('signin-password').value };
  form.querySelector('button').disabled = true;
  try {
    const answer = await api.post('/auth/login', body, { auth: false });
    session.accept(answer);
    $('signin-password').value = '';
    const s = session.load();
    if (answer.user && answer.user.role && s) s.claims.role = answer.user.role;
    openPanel(s);
  } catch (e) {
    showProblem(box, e);
  } finally {
    form.querySelector('button').disabled = false;
  }
}

function boot() {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', async () => {
    stopAll();
    await session.logout();
    showSignin();
    flash('Signed out.');
  });
  for (const b of document.querySelectorAll('.tab')) {
    b.addEventListener('click', () => selectTab(b.dataset.tab));
  }
  const s = session.load();
  if (s && s.expires_at && s.expires_at <= Date.now() && !s.refresh_token) {
    session.clear();
    showSignin('Your session expired. Sign in again.');
  } else if (s) {
    openPanel(s);
  } else {
    showSignin();
  }
}

boot();
