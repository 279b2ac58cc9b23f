import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A feature is one grammY Composer (https://grammy.dev/advanced/structuring): what two features
// share lives below them (src/bot/kit and the formatters), never in another feature.
const FEATURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/bot/features');

// `import … from`, `export … from`, `import 'x'` and `import('x')`; TypeScript 7 has no JS parser API.
const SPECIFIER_RE = /\b(?:from|import)\s*\(?\s*(['"])([^'"\n]+)\1/g;

/** Every module specifier the source imports or re-exports, type-only and dynamic ones included. */
function importSpecifiers(source: string): string[] {
  // Comments out first, so a commented-out import does not count (`https://` is not a comment).
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return [...code.matchAll(SPECIFIER_RE)].map((m) => m[2] as string);
}

/** The specifiers of `source` (a file in `fromDir`) that resolve into `featuresDir`. */
function sidewaysImports(source: string, fromDir: string, featuresDir: string): string[] {
  return importSpecifiers(source).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const target = relative(featuresDir, resolve(fromDir, spec));
    return !target.startsWith('..') && target !== '';
  });
}

const featureFiles = readdirSync(FEATURES_DIR)
  .filter((f) => f.endsWith('.ts'))
  .sort();

describe('feature modules', () => {
  it('the check sees static, type-only, re-exported and dynamic imports of a sibling', () => {
    const source = [
      "import { Composer } from 'grammy';",
      "import { ONLY_ADMINS } from './subscriptions.js';",
      "import type { MarketDeps } from './market.js';",
      "export { muteFeature } from './mute.js';",
      "const lazy = () => import('./settings.js');",
      "import { replyHtml } from '../kit/html.js';",
      "// import { old } from './queries.js';",
      "/* import { older } from './admin.js'; */",
      "const doc = 'https://grammy.dev/advanced/structuring';",
    ].join('\n');
    expect(sidewaysImports(source, FEATURES_DIR, FEATURES_DIR)).toEqual([
      './subscriptions.js',
      './market.js',
      './mute.js',
      './settings.js',
    ]);
  });

  it('the features folder holds the features', () => {
    expect(featureFiles).toEqual(
      expect.arrayContaining(['admin.ts', 'basic.ts', 'market.ts', 'queries.ts', 'settings.ts']),
    );
  });

  it.each(featureFiles)('%s imports no other feature file', (file) => {
    const source = readFileSync(join(FEATURES_DIR, file), 'utf8');
    expect(sidewaysImports(source, FEATURES_DIR, FEATURES_DIR)).toEqual([]);
  });

  it.each(featureFiles)('%s is a grammY Composer feature', (file) => {
    const source = readFileSync(join(FEATURES_DIR, file), 'utf8');
    expect(source).toMatch(/\bnew Composer\b/);
    expect(source).toMatch(/export function \w+Feature\(/);
  });
});
