/*
 * decimal.js - exact fixed-point amounts as decimal strings.
 *
 * The API counts money in integer micro-USD (and hash rates in integer
 * GH/s).  The panel shows and reads them as decimal strings with BigInt
 * arithmetic: 12500000 micro-USD is "12.5" USD and "0.000001" USD is 1,
 * never through a float (parseFloat("0.29") * 1e6 is 289999.99999999994).
 */

/* The integer an API value holds as a BigInt, or null (not an exact integer). */
function toBig(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return null;
}

/*
 * formatScaled(12500000, 6) -> '12.5'; formatScaled(1, 6) -> '0.000001';
 * minPlaces pads the fraction (money: 2), group puts commas in the whole part.
 * Not an exact integer: null.
 */
export function formatScaled(units, places, { minPlaces = 0, group = false } = {}) {
  const n = toBig(units);
  if (n === null) return null;
  const abs = n < 0n ? -n : n;
  const base = 10n ** BigInt(places);
  let whole = (abs / base).toString();
  if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = (abs % base).toString().padStart(places, '0').replace(/0+$/, '').padEnd(minPlaces, '0');
  return `${n < 0n ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/*
 * parseScaled('12.5', 6) -> 12500000n; parseScaled('-1', 6) -> -1000000n.
 * Digits with an optional sign and at most `places` decimals; anything else
 * (empty, 'abc', '1e3', '1,000', too many decimals) is null.  The range is
 * the server's to judge.
 */
export function parseScaled(s, places) {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(String(s));
  if (!m) return null;
  const [, sign, whole, frac = ''] = m;
  if ((whole === '' && frac === '') || frac.length > places) return null;
  const n = BigInt(whole || '0') * 10n ** BigInt(places) + BigInt(frac.padEnd(places, '0') || '0');
  return sign === '-' ? -n : n;
}

/* A BigInt as the Number JSON carries, or null where a Number would round it. */
export function exactNumber(n) {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return n <= max && n >= -max ? Number(n) : null;
}

/* True when two API integers are the same amount. */
export function sameAmount(a, b) {
  const x = toBig(a);
  return x !== null && x === toBig(b);
}
