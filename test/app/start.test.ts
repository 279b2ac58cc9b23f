import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type Run, runProgram } from '../support/program.js';
import { generateRecording, writeRecording } from '../support/recording.js';
import { flushTestDb, testRedisUrl } from '../support/redis.js';

/**
 * `npm start` as a user runs it, in a fresh copy of the checkout (sources, configs, scripts; the
 * installed node_modules linked), so every start here has to build or wait for a build.
 */
const url = testRedisUrl(17);
let checkout: string;
let recording: string;

const npmStart = (args: string[], timeoutMs = 60_000): Promise<Run> =>
  runProgram(
    args,
    { HOME: process.env.HOME ?? '', REDIS_URL: url },
    {
      command: ['npm', 'start', '--silent', '--'],
      cwd: checkout,
      timeoutMs,
    },
  );

const replay = () => npmStart(['--replay', recording, '--speed', 'max']);
const compiled = (r: Run) => r.stderr.includes('compiling src/');
const finished = (r: Run) => r.stdout.split('\n').some((l) => l.includes('"msg":"replay finished"'));
const builds = () => readdirSync(join(checkout, 'dist', 'start'));

beforeAll(async () => {
  checkout = mkdtempSync(join(tmpdir(), 'pulse-start-'));
  for (const entry of [
    'src',
    'scripts',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
  ])
    cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const rec = generateRecording({
    symbols: ['BTC'],
    startTs: Date.UTC(2026, 5, 1),
    hours: 25,
    stepMs: 60_000,
  });
  recording = join(checkout, 'rec.ndjson');
  await writeRecording(recording, rec.lines);
  await flushTestDb(url);
});

afterAll(async () => {
  rmSync(checkout, { recursive: true, force: true });
  await flushTestDb(url);
});

describe('npm start', () => {
  it('concurrent starts in one checkout all run; one compiles, the others wait and reuse its build', async () => {
    const runs = await Promise.all([replay(), replay(), replay()]);
    expect(runs.map((r) => r.stderr).join('')).not.toContain('SyntaxError');
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs.every(finished)).toBe(true);
    expect(runs.filter(compiled)).toHaveLength(1);
    // One finished build, no lock and no temporary directory left behind.
    expect(builds()).toHaveLength(1);
  }, 120_000);

  it('does not compile again while the sources are unchanged', async () => {
    const run = await replay();
    expect(run.code).toBe(0);
    expect(compiled(run)).toBe(false);
  }, 60_000);

  it('rebuilds after a source change, past the lock of a build that was killed', async () => {
    const before = builds();
    // A start killed mid-build (OOM, kill -9) leaves its lock: pid 2^22 + 1 is above Linux's pid_max.
    writeFileSync(join(checkout, 'dist', 'start', '.lock'), `4194305 ${hostname()} x\n`);
    await appendFile(join(checkout, 'src', 'app', 'demo.ts'), '\n// changed\n');
    const run = await replay();
    expect(run.code).toBe(0);
    expect(compiled(run)).toBe(true);
    expect(finished(run)).toBe(true);
    expect(existsSync(join(checkout, 'dist', 'start', '.lock'))).toBe(false);
    expect(builds().filter((b) => !before.includes(b))).toHaveLength(1);
  }, 60_000);
});
