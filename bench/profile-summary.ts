/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per file,
 * as a share of all samples. `node dist/bench/profile-summary.js FILE [top]`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly name: string;
  readonly pct: number;
  readonly ms: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  /** Share of samples where the process was not idle. */
  readonly busyPct: number;
  readonly byFunction: readonly HotSpot[];
  readonly byFile: readonly HotSpot[];
  /** Inclusive time of selected functions (everything they called counts). */
  readonly inclusive: readonly HotSpot[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const m = /\/(src|bench|node_modules)\/(.*)$/.exec(url);
  if (m) return m[1] === 'node_modules' ? `node_modules/${m[2]!.split('/')[0]}` : `${m[1]}/${m[2]}`;
  return url.replace(/^node:/, 'node:');
}

const INCLUSIVE = [
  'parseFrame',
  'handle',
  'onMarket',
  'applyMarketEvent',
  'toSnapshot',
  'evaluateRules',
  'evaluateAggregate',
  'publishDirty',
  'publishSnapshots',
  'flushPending',
  'parse',
];

export function summarize(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfMs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    selfMs.set(p.samples[i]!, (selfMs.get(p.samples[i]!) ?? 0) + ms);
  }
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  const incl = new Map<string, number>();
  let idle = 0;
  for (const [id, ms] of selfMs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += ms;
      continue;
    }
    const where = shortUrl(n.callFrame.url);
    const key = n.callFrame.url ? `${where}:${name}` : name;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    files.set(where, (files.get(where) ?? 0) + ms);
    // Inclusive: each selected name counted once per sample stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (INCLUSIVE.includes(f.functionName) && f.url.includes('/src/')) {
        const k = `${shortUrl(f.url)}:${f.functionName}`;
        if (!seen.has(k)) {
          seen.add(k);
          incl.set(k, (incl.get(k) ?? 0) + ms);
        }
      }
    }
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, n: number): HotSpot[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: Number(((100 * ms) / busy).toFixed(1)) }));
  return {
    file,
    totalMs: Math.round(total),
    busyPct: Number(((100 * busy) / total).toFixed(1)),
    byFunction: rank(fn, top),
    byFile: rank(files, top),
    inclusive: rank(incl, 20),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`${s.file}: ${s.totalMs} ms sampled, ${s.busyPct}% busy; shares are of busy samples`];
  lines.push('  self time by function:');
  for (const h of s.byFunction) lines.push(`    ${h.pct.toFixed(1).padStart(5)}%  ${h.name}`);
  lines.push('  self time by file:');
  for (const h of s.byFile) lines.push(`    ${h.pct.toFixed(1).padStart(5)}%  ${h.name}`);
  lines.push('  inclusive time of pipeline functions:');
  for (const h of s.inclusive) lines.push(`    ${h.pct.toFixed(1).padStart(5)}%  ${h.name}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.js FILE.cpuprofile [top]');
  console.log(formatSummary(summarize(file, Number(top ?? 15))));
}
