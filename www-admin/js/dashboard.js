/*
 * dashboard.js - readiness, the worlds and their live tick counters.
 *
 * Readiness is polled (GET /readyz answers 200 or a 503 problem, both with
 * "checks").  Each running world gets one EventSource on /live/world/<id>
 * (Nchan); a `tick:update` message carries {type, world, tick, ts, payload}
 * and updates that world's counter.  World controls PATCH
 * /api/admin/worlds/:id with {status} or {tick_ms} and re-read the list, so
 * the table always shows what the server stored.
 */
import * as api from './api.js';
import { $, el, setRows, showProblem, text, flash } from './dom.js';

const READY_POLL_MS = 5000;
const WORLDS_POLL_MS = 10000;
const TICK_MS_MIN = 100;
const TICK_MS_MAX = 3600000;

let ctx = null;
let timers = [];
const streams = new Map(); /* world id -> EventSource */

export function start(context) {
  ctx = context;
  readiness();
  worlds();
  timers.push(setInterval(readiness, READY_POLL_MS), setInterval(worlds, WORLDS_POLL_MS));
}

export function stop() {
  timers.forEach(clearInterval);
  timers = [];
  for (const es of streams.values()) es.close();
  streams.clear();
}

/* ---- readiness ---- */

function checkRows(checks) {
  const rows = [];
  for (const [name, c] of Object.entries(checks || {})) {
    rows.push(el('tr', { dataset: { check: name } },
      el('td', {}, name),
      el('td', {}, el('span', { className: `badge ${c.status === 'ok' ? 'ok' : 'bad'}` }, text(c.status))),
      el('td', {}, text(c.detail))));
    for (const w of Array.isArray(c.worlds) ? c.worlds : []) {
      const age = w.last_tick_age_ms === null || w.last_tick_age_ms === undefined
        ? 'never ticked' : `last tick ${w.last_tick_age_ms} ms ago`;
      rows.push(el('tr', { className: 'sub', dataset: { check: `${name}.world.${w.world}` } },
        el('td', {}, `↳ world ${text(w.world)}`),
        el('td', {}, el('span', { className: `badge ${w.status === 'ok' ? 'ok' : 'bad'}` }, text(w.status))),
        el('td', {}, `tick ${text(w.tick)}, ${age}`)));
    }
  }
  return rows;
}

async function readiness() {
  const badge = $('ready-status');
  let body;
  let err = null;
  try {
    body = await api.get('/readyz', { auth: false });
  } catch (e) {
    err = e;
    body = e.problem; /* a 503 problem still lists the checks */
  }
  const ok = !err && body && body.status === 'ready';
  badge.textContent = ok ? 'ready' : 'not ready';
  badge.className = `badge ${ok ? 'ok' : 'bad'}`;
  showProblem($('ready-problem'), err);
  setRows($('ready-table').tBodies[0], checkRows(body && body.checks));
}

/* ---- worlds ---- */

function worldRow(w) {
  const interval = el('input', {
    type: 'number', min: TICK_MS_MIN, max: TICK_MS_MAX, step: 1, value: w.tick_ms,
    className: 'tick-ms', 'aria-label': `tick interval of world ${w.id} in ms`,
  });
  const apply = el('button', { type: 'submit', className: 'apply-tick' }, 'Apply');
  const form = el('form', { className: 'inline tick-form', onsubmit: (ev) => {
    ev.preventDefault();
    const v = Number(interval.value);
    if (!Number.isInteger(v) || v < TICK_MS_MIN || v > TICK_MS_MAX) {
      showProblem($('worlds-problem'), new Error(`The tick interval must be a whole number of ms between ${TICK_MS_MIN} and ${TICK_MS_MAX}.`));
      return;
    }
    change(w.id, { tick_ms: v }, `World ${w.id} now ticks every ${v} ms.`);
  } }, interval, ' ms ', apply);
  const paused = w.status === 'paused';
  const toggle = el('button', {
    type: 'button', className: paused ? 'resume' : 'pause',
    onclick: () => change(w.id, { status: paused ? 'running' : 'paused' },
      `World ${w.id} ${paused ? 'resumed' : 'paused'}.`),
  }, paused ? 'Resume' : 'Pause');
  return el('tr', { dataset: { world: w.id } },
    el('td', {}, text(w.id)),
    el('td', {}, text(w.name), w.is_default ? el('span', { className: 'muted' }, ' (default)') : null),
    el('td', { className: 'status' }, el('span', { className: `badge ${paused ? 'bad' : 'ok'}` }, text(w.status))),
    el('td', { className: 'tick' }, text(w.tick)),
    el('td', {}, form),
    el('td', { className: 'last-tick' }, text(w.last_tick_at)),
    el('td', {}, toggle));
}

const lastTicks = new Map(); /* world id -> newest tick seen live */

async function worlds() {
  let list;
  try {
    list = await api.get('/api/admin/worlds');
  } catch (e) {
    ctx.fail($('worlds-problem'), e);
    return;
  }
  if (!Array.isArray(list)) list = [];
  /* Do not clobber an interval being typed: skip the periodic redraw then. */
  const active = document.activeElement;
  if (active && active.classList.contains('tick-ms') && $('worlds-table').contains(active)) return;
  setRows($('worlds-table').tBodies[0], list.map(worldRow));
  for (const w of list) {
    const seen = lastTicks.get(w.id);
    if (seen !== undefined && seen > w.tick) setTick(w.id, seen);
    follow(w.id, w.status === 'running');
  }
}

function setTick(id, tick) {
  const cell = document.querySelector(`#worlds-table tr[data-world="${Number(id)}"] td.tick`);
  if (cell) {
    cell.textContent = String(tick);
    cell.classList.remove('flash');
    void cell.offsetWidth; /* restart the highlight animation */
    cell.classList.add('flash');
  }
}

/* Keeps one live stream per running world. */
function follow(id, running) {
  const have = streams.get(id);
  if (!running) {
    if (have) { have.close(); streams.delete(id); }
    return;
  }
  if (have) return;
  const es = new EventSource(`/live/world/${encodeURIComponent(id)}`);
  es.addEventListener('tick:update', (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!m || m.type !== 'tick:update' || Number(m.world) !== Number(id) || !Number.isInteger(m.tick)) return;
    const prev = lastTicks.get(id);
    if (prev !== undefined && m.tick <= prev) return; /* replayed or out of order */
    lastTicks.set(id, m.tick);
    setTick(id, m.tick);
  });
  streams.set(id, es);
}

async function change(id, body, done) {
  showProblem($('worlds-problem'), null);
  try {
    await api.patch(`/api/admin/worlds/${encodeURIComponent(id)}`, body);
    flash(done);
  } catch (e) {
    ctx.fail($('worlds-problem'), e);
  }
  if (document.activeElement) document.activeElement.blur();
  await worlds();
}
