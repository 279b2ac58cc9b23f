import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { chooseBus } from '../../src/app/app.js';
import { loadConfig } from '../../src/app/config.js';
import { testRedisUrl } from '../support/redis.js';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe('choosing the bus at start-up', () => {
  it('falls back to the in-process bus, saying so in one line, when REDIS_URL is unset and nothing answers', async () => {
    const { logger, lines } = capture();
    const bus = await chooseBus(loadConfig({}), logger, 'redis://127.0.0.1:1');
    expect(bus.kind).toBe('memory');
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('REDIS_URL');
    await bus.close();
  });

  it('uses the default Redis when it answers', async () => {
    const { logger } = capture();
    const bus = await chooseBus(loadConfig({}), logger, testRedisUrl(13));
    expect(bus.kind).toBe('redis');
    await bus.close();
  });

  it('uses REDIS_URL when set, even while it does not answer (retried, never dropped to memory)', async () => {
    const { logger } = capture();
    const bus = await chooseBus(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), logger, testRedisUrl(13));
    expect(bus.kind).toBe('redis');
    await bus.close();
  });
});
