/**
 * `npm start`: compiles src/ when it changed since the last start (see build-src.mjs), then runs
 * the program from that build in this same process, so no second Node process stays resident.
 * Arguments pass through unchanged (`npm start -- --replay FILE`).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureSrcBuild } from './build-src.mjs';

let dir;
try {
  dir = await ensureSrcBuild();
} catch (err) {
  process.stderr.write(`perp-pulse: build failed: ${err.message}\n`);
  process.exit(1);
}
await import(pathToFileURL(join(dir, 'src', 'app', 'main.js')).href);
