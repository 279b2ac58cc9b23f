import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import type { TestProject } from 'vitest/node';

/**
 * Finds a real Redis for the tests: REDIS_URL (or the default address) when it answers,
 * else a redis-server started here on a free port, else a failure that says how to get one.
 * Never a mock.
 */
async function answersPing(url: string, db?: number): Promise<boolean> {
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
      const select = db === undefined ? '' : `SELECT ${db}\r\n`;
      socket.write(`${auth}${select}PING\r\n`);
    });
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
      // Any error line (a wrong password, a database index out of range) is a no.
      if (/(^|\r\n)-/.test(answer)) done(false);
      else if (answer.includes('+PONG')) done(true);
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

/** Test files use one database index each, up to this one (see test/support/redis.ts). */
const HIGHEST_DB = 34;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Our own server when we can start one: the tests flush their databases, which must never hit a
  // developer's Redis, and a default server has only 16 database indexes (the files need more).
  const explicit = process.env.REDIS_URL;
  const installed = (() => {
    const has = spawnSync('redis-server', ['--version']);
    return !has.error && has.status === 0;
  })();
  let base: string;
  if (explicit === undefined && installed) {
    const port = await freePort();
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--databases',
        String(HIGHEST_DB + 12),
      ],
      { stdio: 'ignore' },
    );
    base = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && !(await answersPing(base)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await answersPing(base)))
      throw new Error(`redis-server started on port ${port} but does not answer`);
  } else {
    const configured = explicit ?? 'redis://127.0.0.1:6379';
    if (!(await answersPing(configured))) {
      throw new Error(
        `No Redis answers at ${configured} and redis-server is not installed. ` +
          'Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) ' +
          'or set REDIS_URL to a reachable server.',
      );
    }
    base = configured;
    const highest = new URL(base);
    highest.pathname = `/${HIGHEST_DB}`;
    if (!(await answersPing(highest.toString(), HIGHEST_DB))) {
      throw new Error(
        `The Redis at ${base} has fewer than ${HIGHEST_DB + 1} databases; the tests use one per file ` +
          `(start it with --databases ${HIGHEST_DB + 12}, or unset REDIS_URL to let the tests start their own).`,
      );
    }
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
