import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import type { TestProject } from 'vitest/node';

/**
 * Finds a real Redis for the tests: REDIS_URL (or the default address) when it answers,
 * else a redis-server started here on a free port, else a failure that says how to get one.
 * Never a mock.
 */
async function answersPing(url: string): Promise<boolean> {
  const u = new URL(url);
  if (u.protocol !== 'redis:') return false;
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      const auth = u.password ? `AUTH ${decodeURIComponent(u.password)}\r\n` : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (d) => {
      if (d.toString().includes('+PONG')) done(true);
      else if (d.toString().startsWith('-')) done(false);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let child: ChildProcess | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let base: string;
  if (await answersPing(configured)) {
    base = configured;
  } else {
    const has = spawnSync('redis-server', ['--version']);
    if (has.error || has.status !== 0) {
      throw new Error(
        `No Redis answers at ${configured} and redis-server is not installed. ` +
          'Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) ' +
          'or set REDIS_URL to a reachable server.',
      );
    }
    const port = await freePort();
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    base = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && !(await answersPing(base)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await answersPing(base)))
      throw new Error(`redis-server started on port ${port} but does not answer`);
  }
  project.provide('redisBaseUrl', base);
  return async () => {
    child?.kill('SIGTERM');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisBaseUrl: string;
  }
}
