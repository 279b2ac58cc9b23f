import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { SETTINGS } from '../../src/app/settings.js';

const root = new URL('../../', import.meta.url).pathname;

/** README's configuration table: variable → the default column, backticks removed. */
function readmeDefaults(): Map<string, string> {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('Command-line options'));
  const out = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\| (`[^|]+`) \| ([^|]+) \|/.exec(line);
    if (!cells) continue;
    const shown = cells[2]!.trim().replace(/`/g, '');
    for (const name of cells[1]!.split(',')) out.set(name.trim().replace(/`/g, ''), shown);
  }
  return out;
}

describe('the settings table', () => {
  it("is README's configuration table: the same variables with the same defaults", () => {
    const readme = readmeDefaults();
    expect([...readme.keys()].sort()).toEqual(SETTINGS.map((s) => s.env).sort());
    for (const s of SETTINGS)
      expect([s.env, readme.get(s.env)]).toEqual([s.env, s.default ?? s.whenUnset ?? 'unset']);
  });

  it('holds each default loadConfig uses: writing every default out changes nothing', () => {
    const written = Object.fromEntries(
      SETTINGS.filter((s) => s.default !== null).map((s) => [s.env, s.default as string]),
    );
    expect(Object.keys(written).length).toBeGreaterThan(20);
    expect(loadConfig(written)).toEqual(loadConfig({}));
  });

  it('documents each Config field with its variable and default', () => {
    const source = readFileSync(`${root}src/app/config.ts`, 'utf8');
    const docOf = (field: string) => {
      const at = source.indexOf(`  readonly ${field}:`);
      expect(at, field).toBeGreaterThan(0);
      const before = source.slice(0, at);
      return before.slice(before.lastIndexOf('/**'));
    };
    for (const s of SETTINGS) {
      if (s.field === undefined || s.field === 'endpoints') continue;
      const doc = docOf(s.field);
      expect(doc, s.env).toContain(`\`${s.env}`);
      expect(doc, s.env).toContain(s.default === null ? 'default unset' : `default \`${s.default}\``);
    }
  });
});

describe('the command line', () => {
  const errorOf = (argv: string[]): ConfigError => {
    try {
      loadConfig({}, argv);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('names the option that takes no value, the forgotten value, and what is no option at all', () => {
    expect(errorOf(['--replay', '--demo']).message).toBe('--replay: needs a value');
    expect(errorOf(['--record']).message).toBe('--record: needs a value');
    expect(errorOf(['day.ndjson']).variable).toBe('day.ndjson');
    expect(errorOf(['--']).variable).toBe('--');
    expect(errorOf(['-r', 'x']).variable).toBe('-r');
    expect(errorOf(['--demo=yes']).variable).toBe('--demo=yes');
    expect(errorOf(['--bogus']).message).toBe(
      '--bogus: unknown option; use --record FILE, --replay FILE [--speed N|max] [--report] [--force] or --demo',
    );
  });

  it('refuses the first bad option in the order given', () => {
    expect(errorOf(['--speed', '0', '--bogus']).variable).toBe('--speed');
    expect(errorOf(['--bogus', '--speed', '0']).variable).toBe('--bogus');
  });

  it('also takes --option=value', () => {
    expect(loadConfig({}, ['--replay=a.ndjson', '--speed=max']).mode).toEqual({
      kind: 'replay',
      path: 'a.ndjson',
      speed: 'max',
    });
  });
});
