import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The backup and restore of docs/deploy.md, run for real: deploy/redis-snapshot.sh and
// deploy/redis-restore.sh against a redis-server configured as in docker-compose.yml
// (appendonly yes). This file starts its own servers, on unix sockets in a temporary directory,
// because it stops them and restarts them on a data directory it owns.

const run = promisify(execFile);
const script = (name: string) => fileURLToPath(new URL(`../../deploy/${name}`, import.meta.url));
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

let work: string;
const servers = new Set<ChildProcess>();

/** A redis-server on `dir` as the compose file runs it; resolves once it answers. */
async function startRedis(dir: string, sock: string): Promise<{ redis: Redis; stop: () => Promise<void> }> {
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', sock, '--dir', dir, '--appendonly', 'yes', '--save', ''],
    { stdio: 'ignore' },
  );
  servers.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await vi.waitFor(() => expect(existsSync(sock)).toBe(true), { timeout: 10_000, interval: 50 });
  const redis = new Redis({ path: sock, maxRetriesPerRequest: 1 });
  await redis.ping();
  return {
    redis,
    stop: async () => {
      redis.disconnect();
      child.kill('SIGTERM');
      await exited;
      servers.delete(child);
    },
  };
}

/** One key of every family the guide's table lists, as the program writes them. */
async function writeEveryFamily(r: Redis): Promise<void> {
  await r.sadd('pulse:subs:BTC', '111');
  await r.sadd('pulse:chat:111:subs', 'BTC');
  await r.hset('pulse:chat:111:settings', 'quiet', '{"from":"23:00","to":"07:00"}');
  await r.set('pulse:alert-levels', '{"v":1,"levels":{}}');
  await r.hset('pulse:alert-state', 'bybit:BTC:oi_change_15m:up', '{"armed":false}');
  await r.hset('pulse:checkpoint:all', 'bybit:BTC', '{"v":1}');
  await r.xgroup('CREATE', 'pulse:alerts', 'perp-pulse-bot', '$', 'MKSTREAM');
  await r.xadd('pulse:alerts', '*', 'json', '{"id":"a1"}');
  // Read, not acknowledged: the alert a bot was delivering when the backup was taken.
  await r.xreadgroup('GROUP', 'perp-pulse-bot', 'bot-1', 'COUNT', 1, 'STREAMS', 'pulse:alerts', '>');
  await r.sadd('pulse:delivered:a1', '111');
  await r.expire('pulse:delivered:a1', 3 * 86_400);
  await r.set('pulse:alert-id:a1', '1-0', 'EX', 3 * 86_400);
}

describe.skipIf(!hasRedisServer)('Redis backup and restore (deploy/redis-*.sh)', () => {
  let backup: string;
  let data: string;
  let sock: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pulse-backup-'));
    data = join(work, 'data');
    sock = join(work, 'redis.sock');
    mkdirSync(data);
    const { redis, stop } = await startRedis(data, sock);
    await writeEveryFamily(redis);
    const snap = await run('sh', [script('redis-snapshot.sh')], {
      env: { ...process.env, REDIS_CLI: `redis-cli -s ${sock}` },
    });
    expect(snap.stdout).toMatch(/^snapshot: .*\/dump\.rdb complete \(9 keys, saved at \d+\)\n$/);
    backup = join(work, 'backup.rdb');
    copyFileSync(join(data, 'dump.rdb'), backup);
    // What happens after the backup, then lost: the restore goes back to the backup's moment.
    await redis.flushall();
    await redis.set('written-after-the-backup', '1');
    await stop();
  });

  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('copying dump.rdb into the volume alone restores nothing (why the guide uses the script)', async () => {
    const naive = join(work, 'naive');
    cpSync(data, naive, { recursive: true });
    rmSync(join(naive, 'appendonlydir'), { recursive: true, force: true });
    copyFileSync(backup, join(naive, 'dump.rdb'));
    const { redis, stop } = await startRedis(naive, join(work, 'naive.sock'));
    expect(await redis.dbsize()).toBe(0);
    await stop();
  });

  it('restores every key family, the consumer group and its pending alert, and the TTLs', async () => {
    const out = await run('sh', [script('redis-restore.sh'), backup, data]);
    expect(out.stdout).toBe(
      `restore: 9 keys from ${backup} are in ${data} (AOF written); start Redis normally\n`,
    );
    const { redis, stop } = await startRedis(data, sock);
    expect(await redis.exists('written-after-the-backup')).toBe(0);
    expect((await redis.keys('*')).sort()).toEqual([
      'pulse:alert-id:a1',
      'pulse:alert-levels',
      'pulse:alert-state',
      'pulse:alerts',
      'pulse:chat:111:settings',
      'pulse:chat:111:subs',
      'pulse:checkpoint:all',
      'pulse:delivered:a1',
      'pulse:subs:BTC',
    ]);
    expect(await redis.smembers('pulse:subs:BTC')).toEqual(['111']);
    expect(await redis.hget('pulse:chat:111:settings', 'quiet')).toContain('23:00');
    const pending = (await redis.xpending('pulse:alerts', 'perp-pulse-bot')) as [number, ...unknown[]];
    expect(pending[0]).toBe(1);
    expect(await redis.ttl('pulse:alert-id:a1')).toBeGreaterThan(86_400);
    expect(await redis.ttl('pulse:delivered:a1')).toBeGreaterThan(86_400);
    await stop();
  });

  it('a missing backup file is an error that says so, and leaves the data alone', async () => {
    const err = await run('sh', [script('redis-restore.sh'), join(work, 'nope.rdb'), data]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 1, stderr: expect.stringContaining('no such file') });
    expect(existsSync(join(data, 'appendonlydir'))).toBe(true);
  });
});
