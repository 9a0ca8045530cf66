/*
 * dom.js - building DOM nodes without ever parsing HTML.
 *
 * Everything the API returns is untrusted text: it is only ever put into the
 * page with textContent or as attribute values through el().  Nothing in the
 * panel assigns innerHTML or calls insertAdjacentHTML or document.write;
 * tests/integration/test_admin_panel.py checks the sources.
 */

/* el('td', {className: 'x', dataset: {id: 1}, onclick: f}, child, 'text', ...) */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

/* Replaces the rows of a table body. */
export function setRows(tbody, rows) {
  clear(tbody);
  append(tbody, rows);
}

/* A value as display text: null/undefined as an em dash, objects as JSON. */
export function text(v) {
  if (v === undefined || v === null || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/*
 * Shows an error in its container: an API problem (RFC 9457) as its title,
 * detail and one line per invalid field; anything else as its message.
 */
export function showProblem(container, err) {
  clear(container);
  if (!err) return;
  const p = err.problem;
  const box = el('div', { className: 'problem', role: 'alert' });
  if (p) {
    box.append(el('strong', { className: 'problem-title' }, p.title || `HTTP ${err.status}`));
    if (err.status) box.append(' ', el('span', { className: 'muted' }, `(${err.status})`));
    if (p.detail) box.append(el('div', { className: 'problem-detail' }, p.detail));
    if (Array.isArray(p.errors) && p.errors.length) {
      box.append(el('ul', { className: 'problem-errors' },
        p.errors.map((e) => el('li', { dataset: { field: text(e.field) } },
          el('code', {}, text(e.field)), ': ', text(e.message || e.detail || e.code)))));
    }
    if (p.request_id) box.append(el('div', { className: 'muted small' }, `request ${p.request_id}`));
  } else {
    box.append(el('strong', { className: 'problem-title' }, err.message || String(err)));
  }
  container.append(box);
}

/* A short status line at the top of the page. */
let flashTimer = 0;
export function flash(message, kind = 'ok') {
  const f = $('flash');
  f.textContent = message;
  f.className = `notice ${kind}`;
  f.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { f.hidden = true; }, 4000);
}
