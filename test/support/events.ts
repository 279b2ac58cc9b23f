import type { MarketEvent } from '../../src/domain/types.js';

/** BTC's instrument name on the venues the analytics tests use. */
const BTC_INSTRUMENT = { okx: 'BTC-USDT-SWAP', bybit: 'BTCUSDT' } as const;

/**
 * A BTC market event on `venue` at `eventTs`, received `receiveLagMs` later, carrying `fields`:
 * the one builder behind each analytics test's own short `ev(...)`.
 */
export function btcEvent(
  venue: keyof typeof BTC_INSTRUMENT,
  eventTs: number,
  fields: Partial<MarketEvent>,
  receiveLagMs = 0,
): MarketEvent {
  return {
    type: 'market',
    venue,
    symbol: 'BTC',
    instrument: BTC_INSTRUMENT[venue],
    eventTs,
    receiveTs: eventTs + receiveLagMs,
    ...fields,
  };
}
