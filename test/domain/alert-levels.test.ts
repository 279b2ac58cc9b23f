import { describe, expect, it } from 'vitest';
import {
  LEVEL_GRIDS,
  MAX_LEVELS_PER_KIND,
  parseAlertLevels,
  snapLevel,
  stringifyAlertLevels,
} from '../../src/domain/alert-levels.js';

describe('chat alert levels', () => {
  it('snaps to the grid and never below the floor', () => {
    expect(snapLevel('oi_change_15m', 0.2)).toBe(LEVEL_GRIDS.oi_change_15m.floorValue);
    expect(snapLevel('oi_change_15m', 1.3)).toBe(1.5);
    expect(snapLevel('oi_change_15m', 1.2)).toBe(1);
    expect(snapLevel('funding_pressure', 82)).toBe(80);
    expect(snapLevel('momentum_spike', 1e9)).toBe(LEVEL_GRIDS.momentum_spike.maxValue);
    expect(snapLevel('oi_change_24h', Number.NaN)).toBe(3);
  });

  it('round-trips and drops what is off the grid or unknown', () => {
    const text = stringifyAlertLevels({ oi_change_15m: [1, 1.5], funding_pressure: [80] });
    expect(parseAlertLevels(text)).toEqual({ oi_change_15m: [1, 1.5], funding_pressure: [80] });
    const messy = JSON.stringify({
      v: 1,
      levels: { oi_change_15m: [2, 1.3, 2, 'x', 0.5], control_flip: [1], nope: [3] },
    });
    expect(parseAlertLevels(messy)).toEqual({ oi_change_15m: [2] });
    expect(parseAlertLevels('{')).toEqual({});
    expect(parseAlertLevels(JSON.stringify({ v: 2, levels: {} }))).toEqual({});
    expect(parseAlertLevels(null)).toEqual({});
  });

  it('keeps at most MAX_LEVELS_PER_KIND per kind', () => {
    const many = Array.from({ length: 60 }, (_, i) => 1 + i * 0.5);
    const parsed = parseAlertLevels(stringifyAlertLevels({ oi_change_15m: many }));
    expect(parsed.oi_change_15m).toHaveLength(MAX_LEVELS_PER_KIND);
  });
});
