import { describe, expect, it } from 'vitest';
import { keyHash, RecentKeys } from '../../../src/streams/core/recent-keys.js';

describe('RecentKeys', () => {
  it('says whether a key is new, and forgets the oldest beyond its capacity', () => {
    const keys = new RecentKeys(3);
    expect(['a', 'b', 'a', 'c'].map((k) => keys.add(k))).toEqual([true, true, false, true]);
    expect(keys.add('d')).toBe(true); // evicts a
    expect(keys.size).toBe(3);
    expect(keys.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((k) => keys.has(k))).toBe(true);
    expect(keys.add('a')).toBe(true);
    expect(() => new RecentKeys(0)).toThrow(RangeError);
  });

  it('hashes to safe integers that tell 200,000 liquidation-like keys apart', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) {
      // Keys that differ in one character only, the hard case for a weak hash.
      const h = keyHash(`BTC-USDT-SWAP|${1_790_000_000_000 + i}|sell|long|${(i % 97) + 1}|63561.${i % 10}`);
      expect(Number.isSafeInteger(h)).toBe(true);
      seen.add(h);
    }
    expect(seen.size).toBe(200_000);
    expect(keyHash('BTCUSDT|1|Buy|0.1|100')).not.toBe(keyHash('BTCUSDT|1|Sell|0.1|100'));
  });
});
