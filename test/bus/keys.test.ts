import { describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_NAMES, REDIS_PREFIX_PATTERN, redisNames } from '../../src/bus/keys.js';

describe('Redis names', () => {
  it('are exactly the documented contract under the default prefix', () => {
    const n = DEFAULT_REDIS_NAMES;
    expect(redisNames().alertStream).toBe(n.alertStream);
    expect([
      n.latestKey('bybit', 'BTC'),
      n.snapshotChannel('all', 'ETH'),
      n.symbolsKey('okx'),
      n.statusKey,
      n.alertStateKey,
      n.alertLevelsKey,
      n.alertChannel,
      n.alertStream,
      n.alertIdKey('a1'),
      n.deliveredKey('a1'),
      n.checkpointKey('all'),
      n.subsKey('BTC'),
      n.chatSubsKey(-100),
      n.chatSubVenuesKey(7),
      n.chatSettingsKey(7),
      n.chatMutesKey(7),
      n.chatHeldKey(7),
      n.schedulesKey,
    ]).toEqual([
      'pulse:latest:bybit:BTC',
      'pulse:snapshot:all:ETH',
      'pulse:symbols:okx',
      'pulse:status',
      'pulse:alert-state',
      'pulse:alert-levels',
      'pulse:alert',
      'pulse:alerts',
      'pulse:alert-id:a1',
      'pulse:delivered:a1',
      'pulse:checkpoint:all',
      'pulse:subs:BTC',
      'pulse:chat:-100:subs',
      'pulse:chat:7:subvenues',
      'pulse:chat:7:settings',
      'pulse:chat:7:mutes',
      'pulse:chat:7:held',
      'pulse:schedules',
    ]);
    expect(n.patterns).toEqual({
      subs: 'pulse:subs:*',
      chatSubs: 'pulse:chat:*:subs',
      chatSettings: 'pulse:chat:*:settings',
    });
  });

  it('puts every name and SCAN pattern under another prefix', () => {
    const n = redisNames('staging-2');
    const all = [
      n.latestKey('bybit', 'BTC'),
      n.snapshotChannel('bybit', 'BTC'),
      n.symbolsKey('bybit'),
      n.statusKey,
      n.alertStateKey,
      n.alertLevelsKey,
      n.alertChannel,
      n.alertStream,
      n.alertIdKey('x'),
      n.deliveredKey('x'),
      n.checkpointKey('0-2'),
      n.subsKey('BTC'),
      n.chatSubsKey(1),
      n.chatSubVenuesKey(1),
      n.chatSettingsKey(1),
      n.chatMutesKey(1),
      n.chatHeldKey(1),
      n.schedulesKey,
      ...Object.values(n.patterns),
    ];
    for (const name of all) expect(name).toMatch(/^staging-2:/);
    expect(n.alertStream).toBe('staging-2:alerts');
  });

  it('refuses prefixes that could overlap another instance or read as a SCAN glob', () => {
    for (const bad of ['', 'a:b', 'p*', 'p?', 'p[1]', 'p\\', 'with space', 'x'.repeat(33), 'pulse:']) {
      expect(REDIS_PREFIX_PATTERN.test(bad)).toBe(false);
      expect(() => redisNames(bad)).toThrow(/prefix/);
    }
    for (const good of ['pulse', 'a', 'Prod_EU-1', 'x'.repeat(32)])
      expect(redisNames(good).prefix).toBe(good);
  });
});
