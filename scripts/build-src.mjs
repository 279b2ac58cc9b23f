/**
 * Compiles what the program runs (src/ only, tsconfig.build.json) with little memory, for
 * `npm start` and the image build. Type-checking is not done here: `npm run build`, `npm test`
 * and `npm run typecheck` do it over the whole project.
 *
 *   node scripts/build-src.mjs            build for `npm start` if the sources changed; prints the directory
 *   node scripts/build-src.mjs --out DIR  plain compile into DIR/src (the Dockerfile's build stage)
 *
 * `npm start` runs a build keyed by a hash of its inputs from `dist/start/<hash>/`. A build is
 * compiled into a private temporary directory and renamed into place in one step, so no process
 * ever sees a half-written build, and a finished build is never written again. A lock file makes
 * a second concurrent start wait for the first one's build and reuse it instead of compiling too.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Files outside src/ whose change changes the build (the lock file pins the compiler version). */
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
/** A lock older than this is abandoned even if its pid is alive (a reused pid, another container). */
const LOCK_STALE_MS = 5 * 60_000;
const LOCK_POLL_MS = 100;
/** Builds last used longer ago than this are removed; a process that just started on one keeps it. */
const KEEP_UNUSED_MS = 60_000;

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** A hash of every input of the src build: sources, configs, the lock file and this script. */
export function srcStamp(root = ROOT) {
  const hash = createHash('sha256');
  const files = [
    ...sourceFiles(join(root, 'src')),
    ...INPUT_FILES.map((f) => join(root, f)),
    fileURLToPath(import.meta.url),
  ].sort();
  for (const file of files) {
    hash.update(relative(root, file));
    hash.update('\0');
    hash.update(existsSync(file) ? readFileSync(file) : '');
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The native compiler binary of TypeScript 7. Running it directly saves the ~45 MB Node wrapper
 * that `node_modules/.bin/tsc` is; the wrapper stands in where the platform package is missing.
 */
function compilerCommand(root) {
  const require = createRequire(join(root, 'package.json'));
  try {
    const pkg = require.resolve(`@typescript/typescript-${process.platform}-${process.arch}/package.json`);
    const exe = join(dirname(pkg), 'lib', process.platform === 'win32' ? 'tsc.exe' : 'tsc');
    if (existsSync(exe)) return [exe];
  } catch {
    // fall through to the wrapper
  }
  return [process.execPath, join(root, 'node_modules', 'typescript', 'bin', 'tsc')];
}

/**
 * Compiles src/ into `outDir/src`. `--noCheck` and `--singleThreaded` keep the compiler's peak
 * near 160 MB instead of about 480 MB (checked, multi-threaded), and the output is byte for byte
 * the same. GOGC=50 (unless set) trades a little CPU for a lower heap peak of the Go runtime.
 */
export function compileSrc(outDir, root = ROOT) {
  const [cmd, ...pre] = compilerCommand(root);
  const args = [...pre, '-p', 'tsconfig.build.json', '--outDir', outDir, '--noCheck', '--singleThreaded'];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { GOGC: '50', ...process.env },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`tsc exited with ${signal ?? code} while compiling src/`)),
    );
  });
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Takes the lock (O_EXCL create) or returns the holder's pid; removes a lock whose holder is gone. */
function tryLock(lockPath) {
  try {
    const fd = openSync(lockPath, 'wx');
    writeSync(fd, `${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
    closeSync(fd);
    return null;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  let holder;
  let ageMs;
  try {
    holder = readFileSync(lockPath, 'utf8').split(' ');
    ageMs = Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return 0; // released between our two calls: try again
  }
  // Empty while its holder is between creating and writing it: wait, unless it is old.
  const pid = Number.parseInt(holder[0] ?? '', 10);
  const sameHost = holder[1] === hostname();
  if ((sameHost && !(pid > 0 && isAlive(pid))) || ageMs > LOCK_STALE_MS) {
    // The holder died mid-build (kill -9, OOM): its lock would block every later start.
    rmSync(lockPath, { force: true });
    return 0;
  }
  return pid;
}

/** Removes other builds nobody used for a while and temporary directories of dead builders. */
function prune(startDir, keep) {
  for (const name of readdirSync(startDir)) {
    if (name === keep || name === '.lock') continue;
    const path = join(startDir, name);
    const tmpPid = /^\.tmp-(\d+)-/.exec(name)?.[1];
    try {
      const unused = tmpPid ? !isAlive(Number(tmpPid)) : Date.now() - statSync(path).mtimeMs > KEEP_UNUSED_MS;
      if (unused) rmSync(path, { recursive: true, force: true });
    } catch {
      // another start pruned it first
    }
  }
}

/** Marks a build as in use (its mtime), so a concurrent prune keeps it; false when it does not exist. */
function markUsed(dir) {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
    return true;
  } catch (err) {
    // A read-only checkout cannot record use; nothing can prune there either.
    return err.code === 'ENOENT' ? false : existsSync(dir);
  }
}

/**
 * Returns the directory of an up-to-date src build (`dist/start/<hash>`), compiling it first when
 * no build of the current sources exists. Safe to run from several processes at once.
 */
export async function ensureSrcBuild({ root = ROOT, log = (msg) => process.stderr.write(`${msg}\n`) } = {}) {
  const stamp = srcStamp(root);
  const startDir = join(root, 'dist', 'start');
  const target = join(startDir, stamp);
  const lockPath = join(startDir, '.lock');
  mkdirSync(startDir, { recursive: true });
  let waitingFor = null;
  while (!markUsed(target)) {
    const holder = tryLock(lockPath);
    if (holder === null) {
      try {
        if (!existsSync(target)) await buildInto(target, startDir, root, log);
      } finally {
        rmSync(lockPath, { force: true });
      }
      continue;
    }
    if (holder !== 0 && holder !== waitingFor) {
      waitingFor = holder;
      log(`perp-pulse: waiting for the build of process ${holder}`);
    }
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
  prune(startDir, stamp);
  return target;
}

async function buildInto(target, startDir, root, log) {
  const tmp = join(startDir, `.tmp-${process.pid}-${Date.now()}`);
  log('perp-pulse: sources changed, compiling src/ (type-checking is `npm run build`)');
  try {
    await compileSrc(tmp, root);
    // version.ts reads package.json two levels above src/app; "type": "module" applies here too.
    copyFileSync(join(root, 'package.json'), join(tmp, 'package.json'));
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another builder that ignored a stale lock finished first: its build is as good as ours.
    if (!existsSync(target)) throw err;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outIndex = process.argv.indexOf('--out');
  try {
    if (outIndex > 0) {
      const out = process.argv[outIndex + 1];
      if (!out) throw new Error('--out needs a directory');
      await compileSrc(resolvePath(out));
    } else {
      process.stdout.write(`${await ensureSrcBuild()}\n`);
    }
  } catch (err) {
    process.stderr.write(`perp-pulse: build failed: ${err.message}\n`);
    process.exit(1);
  }
}
