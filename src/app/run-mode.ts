import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';

export type RunMode =
  | { readonly kind: 'live'; readonly recordPath?: string }
  | {
      readonly kind: 'replay';
      readonly path: string;
      readonly speed: number | 'max';
      /** `--report`: print, per alert rule, how many alerts the recording produced. */
      readonly report?: boolean;
      /** `--force`: replay even into a Redis where a bot reads the alerts (its consumer group exists). */
      readonly force?: boolean;
    }
  | { readonly kind: 'demo'; readonly recordPath?: string };

/** The command-line options (README "Command-line options"). */
const OPTIONS = {
  record: { type: 'string' },
  replay: { type: 'string' },
  speed: { type: 'string' },
  demo: { type: 'boolean' },
  report: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

type Flags = {
  -readonly [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : true;
};

const USAGE =
  'unknown option; use --record FILE, --replay FILE [--speed N|max] [--report] [--force] or --demo';

function speedOf(raw: string | undefined): number | 'max' {
  if (raw === undefined) return 1;
  if (raw === 'max') return 'max';
  const speed = Number(raw);
  if (!Number.isFinite(speed) || speed <= 0)
    throw new ConfigError('--speed', `must be a number > 0 or "max" (got ${raw})`);
  return speed;
}

/**
 * The options in order, each checked as it comes, so the first bad one is the one named. Not
 * `strict` (which throws Node's own errors, without the option as a ConfigError variable): the
 * tokens are checked here instead, the way the options have always been refused.
 */
function flags(argv: readonly string[]): Flags {
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: Flags = {};
  for (const token of tokens) {
    if (token.kind === 'positional') throw new ConfigError(token.value, USAGE);
    if (token.kind === 'option-terminator') throw new ConfigError('--', USAGE);
    const name = token.name;
    if (!Object.hasOwn(OPTIONS, name) || token.rawName !== `--${name}`) {
      throw new ConfigError(token.rawName, USAGE);
    }
    const key = name as keyof typeof OPTIONS;
    if (OPTIONS[key].type === 'boolean') {
      if (token.value !== undefined) throw new ConfigError(`${token.rawName}=${token.value}`, USAGE);
      (out as Record<string, unknown>)[key] = true;
      continue;
    }
    // A following option is a forgotten value, not a file named `--demo`.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new ConfigError(token.rawName, 'needs a value');
    }
    if (key === 'speed') speedOf(token.value);
    (out as Record<string, unknown>)[key] = token.value;
  }
  return out;
}

/** The run mode from the command line; a ConfigError names the first option it cannot use. */
export function runMode(argv: readonly string[]): RunMode {
  const { record, replay, speed: speedRaw, demo, report, force } = flags(argv);
  const speed = speedOf(speedRaw);
  // Without --replay these would be ignored, and the process would start live against the venues.
  if (speedRaw !== undefined && replay === undefined)
    throw new ConfigError('--speed', 'only works with --replay FILE');
  if (force && replay === undefined) throw new ConfigError('--force', 'only works with --replay FILE');
  if (report && replay === undefined) throw new ConfigError('--report', 'only works with --replay FILE');
  if (replay !== undefined && (record !== undefined || demo)) {
    throw new ConfigError('--replay', 'cannot be combined with --record or --demo');
  }
  if (replay !== undefined)
    return {
      kind: 'replay',
      path: replay,
      speed,
      ...(report ? { report } : {}),
      ...(force ? { force } : {}),
    };
  if (demo) return { kind: 'demo', ...(record ? { recordPath: record } : {}) };
  return { kind: 'live', ...(record ? { recordPath: record } : {}) };
}
