/**
 * Parsers of one environment variable each: a value set, else the variable's default from the
 * settings table; a value they cannot use is a ConfigError that names the variable.
 */
import { REDIS_PREFIX_PATTERN } from '../bus/keys.js';
import { canonicalSymbol } from '../domain/symbols.js';
import { ALERT_KINDS, type AlertKind, VENUE_IDS, type VenueId } from '../domain/types.js';
import { ConfigError } from './config-error.js';
import { RESERVED_PATHS } from './http.js';
import { type SettingName, settingDefault } from './settings.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The variable as set: trimmed, undefined when unset or empty. */
export function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The variable as set, else its default. */
export function value(env: Env, name: SettingName): string | undefined {
  return str(env, name) ?? settingDefault(name);
}

/** A number `check` accepts (it returns the problem, or null); the default when unset. */
export function number(env: Env, name: SettingName, check: (n: number) => string | null): number {
  const raw = value(env, name);
  if (raw === undefined) throw new Error(`${name} has no default: read it with str() first`);
  const n = Number(raw);
  const problem = Number.isFinite(n) ? check(n) : 'must be a number';
  if (problem) throw new ConfigError(name, `${problem} (got ${JSON.stringify(raw)})`);
  return n;
}

export const positive = (n: number) => (n > 0 ? null : 'must be greater than 0');
export const positiveInt = (n: number) =>
  Number.isInteger(n) && n > 0 ? null : 'must be a whole number greater than 0';

/** A URL with one of `protocols` (`'ws:'`), without trailing slashes. */
export function url(env: Env, name: SettingName, protocols: readonly string[]): string {
  const raw = value(env, name) ?? '';
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL (got ${JSON.stringify(raw)})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(
      name,
      `must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${JSON.stringify(raw)})`,
    );
  }
  return raw.replace(/\/+$/, '');
}

export function flag(env: Env, name: SettingName): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw !== undefined && ['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (raw !== undefined && ['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be on or off (got ${JSON.stringify(raw)})`);
}

export function redisPrefix(env: Env): string {
  const raw = value(env, 'REDIS_PREFIX') ?? '';
  if (!REDIS_PREFIX_PATTERN.test(raw)) {
    throw new ConfigError(
      'REDIS_PREFIX',
      `use 1-32 letters, digits, _ or - (no ':'; got ${JSON.stringify(raw.slice(0, 40))})`,
    );
  }
  return raw;
}

export function symbols(env: Env): string[] | null {
  const raw = str(env, 'SYMBOLS');
  if (raw === undefined) return null;
  const out: string[] = [];
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const s = canonicalSymbol(part);
    if (!s)
      throw new ConfigError(
        'SYMBOLS',
        `${JSON.stringify(part.trim())} is not a symbol; use base assets such as BTC,ETH`,
      );
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0)
    throw new ConfigError('SYMBOLS', 'is set but lists no symbol; unset it to follow the top TOP_N');
  return out;
}

/**
 * A comma-separated list of `allowed` names, case-insensitive, de-duplicated in the order given;
 * `unknown(name, asWritten)` words the error for a name not allowed.
 */
function choices<T extends string>(
  name: SettingName,
  raw: string,
  allowed: readonly T[],
  unknown: (lower: string, asWritten: string) => string,
): T[] {
  const out: T[] = [];
  for (const part of raw.split(',')) {
    const lower = part.trim().toLowerCase();
    if (lower === '') continue;
    if (!(allowed as readonly string[]).includes(lower))
      throw new ConfigError(name, unknown(lower, part.trim()));
    if (!out.includes(lower as T)) out.push(lower as T);
  }
  return out;
}

export function venues(env: Env): VenueId[] {
  const out = choices(
    'VENUES',
    value(env, 'VENUES') ?? '',
    VENUE_IDS,
    (_, written) => `unknown venue ${JSON.stringify(written)}; use any of ${VENUE_IDS.join(',')}`,
  );
  if (out.length === 0) throw new ConfigError('VENUES', `lists no venue; use any of ${VENUE_IDS.join(',')}`);
  return out;
}

export function endpoints(env: Env): Readonly<Record<VenueId, { wsUrl: string; restUrl: string }>> {
  const entry = (id: VenueId) => {
    const prefix = id.toUpperCase() as Uppercase<VenueId>;
    return {
      wsUrl: url(env, `${prefix}_WS_URL`, ['ws:', 'wss:']),
      restUrl: url(env, `${prefix}_REST_URL`, ['http:', 'https:']),
    };
  };
  return Object.fromEntries(VENUE_IDS.map((id) => [id, entry(id)])) as Record<
    VenueId,
    { wsUrl: string; restUrl: string }
  >;
}

/** Ports Telegram delivers webhooks to (https://core.telegram.org/bots/api#setwebhook). */
const WEBHOOK_PORTS = ['', '443', '80', '88', '8443'];

export function webhook(
  env: Env,
  httpPort: number | null,
): { readonly url: string; readonly path: string; readonly secret: string } {
  const raw = str(env, 'WEBHOOK_URL');
  if (raw === undefined) throw new ConfigError('WEBHOOK_URL', 'is required when BOT_MODE=webhook');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError('WEBHOOK_URL', 'is not a URL');
  }
  // The URL is not echoed: its path may carry a secret.
  if (parsed.protocol !== 'https:')
    throw new ConfigError('WEBHOOK_URL', 'must start with https:// (Telegram requires it)');
  if (!WEBHOOK_PORTS.includes(parsed.port)) {
    throw new ConfigError('WEBHOOK_URL', 'must use port 443, 80, 88 or 8443 (the ports Telegram posts to)');
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new ConfigError(
      'WEBHOOK_URL',
      'must not have a query or fragment: its path alone routes the webhook',
    );
  }
  if (RESERVED_PATHS.includes(parsed.pathname)) {
    throw new ConfigError('WEBHOOK_URL', `its path must not be one of ${RESERVED_PATHS.join(', ')}`);
  }
  const secret = str(env, 'WEBHOOK_SECRET');
  if (secret === undefined) throw new ConfigError('WEBHOOK_SECRET', 'is required when BOT_MODE=webhook');
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
    throw new ConfigError(
      'WEBHOOK_SECRET',
      'must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram requires it)',
    );
  }
  if (httpPort === null) {
    throw new ConfigError('HTTP_PORT', 'is required when BOT_MODE=webhook: the webhook is served on it');
  }
  return { url: parsed.toString(), path: parsed.pathname, secret };
}

export function adminChatIds(env: Env): number[] {
  const raw = str(env, 'ADMIN_CHAT_IDS');
  if (raw === undefined) return [];
  const out: number[] = [];
  for (const part of raw.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const id = Number(t);
    if (!/^-?\d+$/.test(t) || !Number.isSafeInteger(id) || id === 0) {
      throw new ConfigError(
        'ADMIN_CHAT_IDS',
        `${JSON.stringify(t)} is not a chat id; use integers such as 123456789,-1001234567890`,
      );
    }
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

export function alertKinds(env: Env): AlertKind[] {
  const raw = value(env, 'ALERT_KINDS') ?? '';
  if (raw.toLowerCase() === 'all') return [...ALERT_KINDS];
  return choices(
    'ALERT_KINDS',
    raw,
    ALERT_KINDS,
    (kind) => `unknown rule ${JSON.stringify(kind)}; use all or some of ${ALERT_KINDS.join(', ')}`,
  );
}

export function fundingPressure(env: Env): { elevated: number; high: number; extreme: number } {
  const raw = value(env, 'FUNDING_PRESSURE_APR_PCT') ?? '';
  const parts = raw.split(',').map((p) => Number(p.trim()));
  const [elevated, high, extreme] = parts;
  if (
    parts.length !== 3 ||
    !parts.every((n) => Number.isFinite(n) && n > 0) ||
    !(elevated! < high! && high! < extreme!)
  ) {
    throw new ConfigError(
      'FUNDING_PRESSURE_APR_PCT',
      `must be three increasing |APR| percentages elevated,high,extreme, e.g. 20,50,100 (got ${JSON.stringify(raw)})`,
    );
  }
  return { elevated: elevated!, high: high!, extreme: extreme! };
}

/** `LIQ_ALERT_PCT_OI`: a share of the OI value, percent; above 0 (0 would fire on every liquidation) and at most 100. */
export function liqAlertPctOi(env: Env): number {
  return number(env, 'LIQ_ALERT_PCT_OI', (n) =>
    n > 0 && n <= 100 ? null : 'must be a percentage of open interest above 0 and at most 100',
  );
}

/** `LIQ_ALERT_MIN_USD`: USD, 0 or more (0: the share of OI alone decides). */
export function liqAlertMinUsd(env: Env): number {
  return number(env, 'LIQ_ALERT_MIN_USD', (n) => (n >= 0 ? null : 'must be 0 or more (USD)'));
}
