/*
 * rigs.js - the rig catalog: the price of new units and whether a model is sold.
 *
 *   GET   /rigs/catalog          -> {models: [{id, name, year, hash_ghs, power_w,
 *                                   efficiency_j_th, price_usd_micro, available, ...}], ...}
 *   PATCH /api/admin/rigs/:id    {price_usd_micro?, available?}
 *                                -> {id, name, price_usd_micro, available, catalog_version}
 *
 * Prices are integer micro-USD on the wire and decimal USD strings in the
 * panel, converted exactly (decimal.js).  A change bumps the catalog version,
 * which every world's tickd applies from its next tick.  Only what is not a
 * decimal amount at all is refused here: the server validates the range and
 * answers problem+json with one errors[] entry per bad field, shown as is.
 */
import * as api from './api.js';
import { $, el, setRows, showProblem, text, flash } from './dom.js';
import { items } from './lists.js';
import { formatScaled, parseScaled, exactNumber, sameAmount } from './decimal.js';

const USD_PLACES = 6; /* price_usd_micro */
const TH_PLACES = 3; /* hash_ghs shown in TH/s */

let ctx = null;

export function start(context) {
  ctx = context;
  showProblem($('rigs-problem'), null);
  load();
}

export function stop() {}

const usd = (micro) => formatScaled(micro, USD_PLACES, { minPlaces: 2, group: true });

async function load() {
  let body;
  try {
    body = await api.get('/rigs/catalog');
  } catch (e) {
    ctx.fail($('rigs-problem'), e);
    return;
  }
  setRows($('rigs-table').tBodies[0], items(body, 'models').map(modelRow));
}

function modelRow(m) {
  const onSale = m.available === true;
  const price = el('input', {
    type: 'text', inputMode: 'decimal', className: 'price-usd', size: 14,
    value: formatScaled(m.price_usd_micro, USD_PLACES) ?? '',
    'aria-label': `new price of ${text(m.id)} in USD`,
  });
  const form = el('form', { className: 'inline price-form', onsubmit: (ev) => {
    ev.preventDefault();
    setPrice(m, price.value);
  } }, price, ' USD ', el('button', { type: 'submit', className: 'apply-price' }, 'Set price'));
  const toggle = el('button', {
    type: 'button', className: onSale ? 'withdraw' : 'sell',
    onclick: () => change(m, { available: !onSale }),
  }, onSale ? 'Withdraw from sale' : 'Put on sale');
  return el('tr', { dataset: { rig: text(m.id) } },
    el('td', {}, text(m.name)),
    el('td', {}, el('code', {}, text(m.id))),
    el('td', { className: 'num' }, text(m.year)),
    el('td', { className: 'num' }, text(formatScaled(m.hash_ghs, TH_PLACES))),
    el('td', { className: 'num' }, text(m.power_w)),
    el('td', { className: 'num' }, text(m.efficiency_j_th)),
    el('td', { className: 'num price' }, text(usd(m.price_usd_micro))),
    el('td', { className: 'on-sale' },
      el('span', { className: `badge ${onSale ? 'ok' : 'bad'}` }, onSale ? 'yes' : 'no')),
    el('td', { className: 'actions' }, form, ' ', toggle));
}

function setPrice(m, typed) {
  const micro = parseScaled(typed, USD_PLACES);
  if (micro === null) {
    showProblem($('rigs-problem'), new Error(
      `The price of ${text(m.id)} must be an amount in USD with at most ${USD_PLACES} decimals, e.g. 2800 or 0.5.`));
    return;
  }
  if (sameAmount(micro, m.price_usd_micro)) {
    showProblem($('rigs-problem'), null);
    flash('Nothing changed.', 'muted');
    return;
  }
  const n = exactNumber(micro);
  if (n === null) {
    showProblem($('rigs-problem'), new Error(`The price of ${text(m.id)} is too large.`));
    return;
  }
  change(m, { price_usd_micro: n });
}

async function change(m, body) {
  const box = $('rigs-problem');
  showProblem(box, null);
  let r;
  try {
    r = await api.patch(`/api/admin/rigs/${encodeURIComponent(m.id)}`, body);
  } catch (e) {
    ctx.fail(box, e);
    return;
  }
  const now = r && typeof r === 'object' ? r : {};
  flash(`${text(now.name ?? m.name)}: ${text(usd(now.price_usd_micro))} USD, `
    + `${now.available ? 'on sale' : 'not on sale'}. This applies in every world from its next tick `
    + `(catalog version ${text(now.catalog_version)}).`);
  await load();
}
