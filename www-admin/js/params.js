/*
 * params.js - a world's live-adjustable parameters and shocks.
 *
 *   GET   /api/admin/worlds/:id/params   -> {name: value, ...} (or {params: {...}},
 *                                           or [{name|key, value}, ...])
 *   PATCH /api/admin/worlds/:id/params   {name: value, ...} only the changed ones
 *   POST  /api/admin/worlds/:id/shock    {kind, magnitude, region?, ...extra}
 *
 * Scalars get a typed input (numbers stay numbers: an integer parameter is
 * sent as an integer), nested values a JSON text area.  The server validates
 * and answers problem+json with one errors[] entry per bad field, shown as is.
 */
import * as api from './api.js';
import { $, el, clear, setRows, showProblem, flash } from './dom.js';
import { items, pick } from './lists.js';

let ctx = null;
let wired = false;
let loaded = { world: null, values: {} };

export function start(context) {
  ctx = context;
  if (!wired) {
    wired = true;
    $('params-pick').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
    $('params-form').addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
    $('shock-form').addEventListener('submit', (ev) => { ev.preventDefault(); shock(ev.target); });
  }
  worldChoices().then(() => { if (!$('params-form').hidden || !loaded.world) load(); });
}

export function stop() {}

async function worldChoices() {
  const sel = $('params-world');
  try {
    const worlds = items(await api.get('/api/admin/worlds'), 'worlds');
    const keep = sel.value;
    clear(sel);
    for (const w of worlds) sel.append(el('option', { value: String(w.id) }, `${w.id} · ${w.name}`));
    if (keep) sel.value = keep;
  } catch (e) {
    ctx.fail($('params-problem'), e);
  }
}

function normalise(body) {
  if (Array.isArray(body)) {
    return Object.fromEntries(body.map((p) => [String(pick(p, 'name', 'key')), p.value]));
  }
  if (body && typeof body.params === 'object' && body.params !== null) return normalise(body.params);
  return body && typeof body === 'object' ? body : {};
}

function input(name, value) {
  const common = { name, dataset: { param: name }, 'aria-label': name };
  if (typeof value === 'boolean') return el('input', { ...common, type: 'checkbox', checked: value });
  if (typeof value === 'number') return el('input', { ...common, type: 'number', step: 'any', value: String(value) });
  if (typeof value === 'string') return el('input', { ...common, type: 'text', value });
  return el('textarea', { ...common, rows: 3, spellcheck: false, value: JSON.stringify(value, null, 1) });
}

async function load() {
  const box = $('params-problem');
  const world = $('params-world').value;
  showProblem(box, null);
  if (!world) return;
  let body;
  try {
    body = await api.get(`/api/admin/worlds/${encodeURIComponent(world)}/params`);
  } catch (e) {
    $('params-form').hidden = true;
    ctx.fail(box, e);
    return;
  }
  loaded = { world, values: normalise(body) };
  setRows($('params-table').tBodies[0], Object.entries(loaded.values).map(([k, v]) =>
    el('tr', {}, el('td', {}, el('code', {}, k)), el('td', {}, input(k, v)))));
  $('params-form').hidden = false;
}

/* The value an input holds, typed like the loaded one; throws on bad input. */
function read(node, before) {
  if (node.type === 'checkbox') return node.checked;
  if (typeof before === 'number') {
    const v = Number(node.value);
    if (node.value.trim() === '' || !Number.isFinite(v)) throw new Error(`${node.name} must be a number`);
    return v;
  }
  if (typeof before === 'string') return node.value;
  try {
    return JSON.parse(node.value);
  } catch {
    throw new Error(`${node.name} must be valid JSON`);
  }
}

async function save() {
  const box = $('params-problem');
  showProblem(box, null);
  const changed = {};
  try {
    for (const node of $('params-table').querySelectorAll('[data-param]')) {
      const name = node.dataset.param;
      const before = loaded.values[name];
      const now = read(node, before);
      if (JSON.stringify(now) !== JSON.stringify(before)) changed[name] = now;
    }
  } catch (e) {
    showProblem(box, e);
    return;
  }
  if (!Object.keys(changed).length) {
    flash('Nothing changed.', 'muted');
    return;
  }
  try {
    await api.patch(`/api/admin/worlds/${encodeURIComponent(loaded.world)}/params`, changed);
    flash(`Saved ${Object.keys(changed).length} parameter(s) of world ${loaded.world}.`);
    await load();
  } catch (e) {
    ctx.fail(box, e);
  }
}

async function shock(form) {
  const box = $('shock-problem');
  showProblem(box, null);
  const world = $('params-world').value;
  const f = new FormData(form);
  let body;
  try {
    if (!world) throw new Error('Choose a world first.');
    const extra = String(f.get('extra') || '').trim();
    body = extra ? JSON.parse(extra) : {};
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('Extra fields must be a JSON object.');
  } catch (e) {
    showProblem(box, e instanceof SyntaxError ? new Error('Extra fields must be valid JSON.') : e);
    return;
  }
  body.kind = String(f.get('kind') || '').trim();
  body.magnitude = Number(f.get('magnitude'));
  const region = String(f.get('region') || '').trim();
  if (region) body.region = region;
  try {
    await api.post(`/api/admin/worlds/${encodeURIComponent(world)}/shock`, body);
    flash(`Shock "${body.kind}" injected into world ${world}.`);
  } catch (e) {
    ctx.fail(box, e);
  }
}
