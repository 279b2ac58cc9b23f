/**
 * Canonical symbols: the base asset in upper case (`BTC`). Users type `btc`, `BTCUSDT`,
 * `btc-usdt-swap` or `BTC/USDT`; all of them name `BTC`.
 */
const QUOTE_SUFFIXES = ['USDT', 'USDC', 'USD', 'PERP', 'SWAP'];

/** Parses user or venue input into a canonical symbol, or null when it cannot be one. */
export function canonicalSymbol(input: string): string | null {
  let s = input.trim().toUpperCase().replace(/^\$/, '');
  if (s.length === 0 || s.length > 40) return null;
  s = s.replace(/[-_/:]/g, '');
  let changed = true;
  while (changed) {
    changed = false;
    for (const q of QUOTE_SUFFIXES) {
      if (s.length > q.length && s.endsWith(q)) {
        s = s.slice(0, -q.length);
        changed = true;
      }
    }
  }
  return /^[A-Z0-9]{1,20}$/.test(s) ? s : null;
}
