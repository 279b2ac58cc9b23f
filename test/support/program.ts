import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root and the built program, as `npm start` runs it after its build. */
export const ROOT = new URL('../../', import.meta.url).pathname;
export const MAIN = join(ROOT, 'dist/src/app/main.js');

/** `npm test` builds first; a bare `vitest run` builds here when dist/ is missing. */
export function ensureBuilt(): void {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Killed with SIGKILL after this long; default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Runs while the program does, with its output so far. If it throws, the program is killed and
   * the error is appended to stderr, so the test's assertions on the run say what went wrong.
   */
  readonly whileRunning?: (child: ChildProcess, stdout: () => string) => Promise<void>;
  /** Default: node running the built program, with `args` after it. */
  readonly command?: readonly [string, ...string[]];
  readonly cwd?: string;
}

/**
 * Runs the program as a child process with only PATH, `LOG_LEVEL=info` and `env` in its
 * environment (nothing of the test runner's leaks into a setting), collecting its output.
 */
export function runProgram(
  args: readonly string[],
  env: Record<string, string>,
  opts: RunOptions = {},
): Promise<Run> {
  const [command, ...prefix] = opts.command ?? [process.execPath, MAIN];
  return new Promise((resolve) => {
    const child = spawn(command, [...prefix, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const watching = opts
      .whileRunning?.(child, () => stdout)
      .catch((err: Error) => {
        stderr += `test harness: ${err.message}`;
        child.kill('SIGKILL');
      });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      void Promise.resolve(watching).then(() => resolve({ code, stdout, stderr }));
    });
  });
}
