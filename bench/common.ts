/** Helpers shared by the benchmark's processes. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

export const silentLogger = pino({ level: 'silent' });

export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

/** Path of a sibling compiled module (`dist/bench/<name>.js`). */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/**
 * Runs `dist/bench/<name>.js` in a fresh Node process and resolves with the first message it
 * sends over IPC (and its exit). Rejects when it exits without one.
 */
export function runChild<T>(
  name: string,
  args: readonly string[],
  execArgv: readonly string[] = [],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(benchScript(name), [...args], {
      execArgv: [...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: { value: T } | undefined;
    child.on('message', (m) => {
      result ??= { value: m as T };
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result) resolve(result.value);
      else reject(new Error(`bench child ${name} exited (code ${code}, signal ${signal}) without a result`));
    });
  });
}

export const MIB = 1024 * 1024;

export function gcNow(): void {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
}

export const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** A bench child process driven over IPC: commands out, `{ kind }` messages back. */
export class ChildProcessHandle<M extends { readonly kind: string }> {
  private readonly child: ChildProcess;
  private readonly inbox: M[] = [];
  private waiters: (() => void)[] = [];
  private exited = false;

  constructor(name: string, args: readonly string[], execArgv: readonly string[] = []) {
    this.child = fork(benchScript(name), [...args], {
      execArgv: [...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m) => {
      this.inbox.push(m as M);
      this.wake();
    });
    this.child.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(cmd: string): void {
    this.child.send(cmd);
  }

  /** The next message of this kind (earlier ones of other kinds stay queued). */
  async next<K extends M['kind']>(kind: K, timeoutMs = 60_000): Promise<Extract<M, { kind: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.kind === kind);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<M, { kind: K }>;
      if (this.exited) throw new Error(`child exited before sending ${kind}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${kind}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves when the process has exited (kills it after `graceMs`). */
  async exit(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', () => resolve());
    });
    clearTimeout(timer);
  }
}

/**
 * Full GCs with event-loop turns between them, so array-buffer backing stores freed by a GC (their
 * sweeping finishes asynchronously) are gone before memory is read.
 */
export async function settledGc(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gcNow();
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  gcNow();
}
