import { Redis } from 'ioredis';
import { inject } from 'vitest';

/**
 * The URL of a real Redis for one test file, isolated by its own database index (1–26 are reserved,
 * one per file; global-setup makes sure the server has them). Pub/sub channels are not
 * per-database: tests that subscribe use symbols of their own.
 */
export function testRedisUrl(db: number): string {
  const u = new URL(inject('redisBaseUrl'));
  u.pathname = `/${db}`;
  return u.toString();
}

/** Empties the file's database; call in beforeAll and afterAll. */
export async function flushTestDb(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  await r.flushdb();
  r.disconnect();
}

/** Unique, valid-looking symbol so pub/sub tests running in parallel never see each other. */
export function uniqueSymbol(prefix = 'T'): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
}
