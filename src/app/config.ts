import { DEFAULT_REDIS_PREFIX, REDIS_PREFIX_PATTERN } from '../bus/keys.js';
import { canonicalSymbol } from '../domain/symbols.js';
import { ALERT_KINDS, type AlertKind, VENUE_IDS, type VenueId } from '../domain/types.js';
import { VENUES } from '../streams/venues/registry.js';
import { RESERVED_PATHS } from './http.js';

/** A setting that cannot be used. Start-up stops with this message, which names the variable. */
export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

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

/** What this process runs: the market-data side, the Telegram side, or both. */
export type Role = 'all' | 'processor' | 'bot';

export interface Config {
  readonly role: Role;
  /** `SHARD=i/n`: this processor follows only the instruments whose venue:symbol hash to i. */
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** Name of this bot in the alert consumer group; stable across restarts (default bot-<hostname>). */
  readonly botConsumer: string | null;
  /** null = not set: try the default address, fall back to the in-process bus. */
  readonly redisUrl: string | null;
  /**
   * `REDIS_PREFIX`: every Redis key and channel is `{prefix}:…` (default `pulse`), so instances
   * sharing one server keep apart. Pub/sub ignores the database index: only the prefix separates channels.
   */
  readonly redisPrefix: string;
  readonly symbols: readonly string[] | null;
  readonly topN: number;
  /** Enabled venues, in the order given. */
  readonly venues: readonly VenueId[];
  /** Endpoints per venue (`<VENUE>_WS_URL`, `<VENUE>_REST_URL`). */
  readonly endpoints: Readonly<Record<VenueId, { readonly wsUrl: string; readonly restUrl: string }>>;
  /** How often each venue's listing is fetched again to pick up listings and delistings. */
  readonly universeRefreshMs: number;
  readonly telegramBotToken: string | null;
  readonly telegramApiRoot: string;
  /** `BOT_MODE`: long polling (default) or a webhook served on HTTP_PORT. */
  readonly botMode: 'polling' | 'webhook';
  /** Webhook mode only: the public https URL Telegram posts to, its path, and the secret header value. */
  readonly webhook: { readonly url: string; readonly path: string; readonly secret: string } | null;
  /** `ADMIN_CHAT_IDS`: chats allowed to run operator commands (/stats). */
  readonly adminChatIds: readonly number[];
  /** `COMMAND_RATE_PER_MIN`: commands and button presses per chat per minute. */
  readonly commandRatePerMin: number;
  readonly oiAlertPct15m: number;
  readonly alertCooldownMs: number;
  /** `ALERT_MAX_AGE_MIN`: the bot sends no alert older than this (wall clock minus the alert's `ts`). */
  readonly alertMaxAgeMs: number;
  /** `OI_ALERT_PCT_24H`: rule oi_change_24h. */
  readonly oiAlertPct24h: number;
  /** `MOMENTUM_ALERT_ACCEL`: rule momentum_spike fires at this OI acceleration (× usual 15m pace). */
  readonly momentumAlertAccel: number;
  /** `ALERT_KINDS`: the rules that run (default all). */
  readonly alertKinds: readonly AlertKind[];
  /** `FUNDING_PRESSURE_APR_PCT`: |APR| levels of elevated, high, extreme. */
  readonly fundingPressureAprPct: {
    readonly elevated: number;
    readonly high: number;
    readonly extreme: number;
  };
  /** `INPUT_STALE_AFTER_MS`: a snapshot input (or a venue in the aggregate) older than this is stale. */
  readonly inputStaleAfterMs: number;
  /** `BACKFILL`: fetch venues' OI history at start for instruments without a checkpoint. */
  readonly backfill: boolean;
  readonly publishIntervalMs: number;
  readonly staleAfterMs: number;
  readonly httpPort: number | null;
  readonly logLevel: string;
  readonly mode: RunMode;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function number(env: Env, name: string, fallback: number, check: (n: number) => string | null): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const problem = Number.isFinite(n) ? check(n) : 'must be a number';
  if (problem) throw new ConfigError(name, `${problem} (got ${JSON.stringify(raw)})`);
  return n;
}

const positive = (n: number) => (n > 0 ? null : 'must be greater than 0');
const positiveInt = (n: number) =>
  Number.isInteger(n) && n > 0 ? null : 'must be a whole number greater than 0';

function url(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const raw = str(env, name) ?? fallback;
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

function redisPrefix(env: Env): string {
  const raw = str(env, 'REDIS_PREFIX');
  if (raw === undefined) return DEFAULT_REDIS_PREFIX;
  if (!REDIS_PREFIX_PATTERN.test(raw)) {
    throw new ConfigError(
      'REDIS_PREFIX',
      `use 1-32 letters, digits, _ or - (no ':'; got ${JSON.stringify(raw.slice(0, 40))})`,
    );
  }
  return raw;
}

function symbols(env: Env): string[] | null {
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

function venues(env: Env): VenueId[] {
  const raw = str(env, 'VENUES');
  if (raw === undefined) return [...VENUE_IDS];
  const out: VenueId[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    if (!(VENUE_IDS as readonly string[]).includes(name)) {
      throw new ConfigError(
        'VENUES',
        `unknown venue ${JSON.stringify(part.trim())}; use any of ${VENUE_IDS.join(',')}`,
      );
    }
    if (!out.includes(name as VenueId)) out.push(name as VenueId);
  }
  if (out.length === 0) throw new ConfigError('VENUES', `lists no venue; use any of ${VENUE_IDS.join(',')}`);
  return out;
}

function endpoints(env: Env): Config['endpoints'] {
  const entry = (id: VenueId) => {
    const prefix = id.toUpperCase();
    return {
      wsUrl: url(env, `${prefix}_WS_URL`, VENUES[id].defaultWsUrl, ['ws:', 'wss:']),
      restUrl: url(env, `${prefix}_REST_URL`, VENUES[id].defaultRestUrl, ['http:', 'https:']),
    };
  };
  return Object.fromEntries(VENUE_IDS.map((id) => [id, entry(id)])) as Config['endpoints'];
}

/** Ports Telegram delivers webhooks to (https://core.telegram.org/bots/api#setwebhook). */
const WEBHOOK_PORTS = ['', '443', '80', '88', '8443'];

function webhook(env: Env, httpPort: number | null): Config['webhook'] {
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

function adminChatIds(env: Env): number[] {
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

function alertKinds(env: Env): AlertKind[] {
  const raw = str(env, 'ALERT_KINDS');
  if (raw === undefined || raw.toLowerCase() === 'all') return [...ALERT_KINDS];
  const out: AlertKind[] = [];
  for (const part of raw.split(',')) {
    const kind = part.trim().toLowerCase();
    if (kind === '') continue;
    if (!(ALERT_KINDS as readonly string[]).includes(kind)) {
      throw new ConfigError(
        'ALERT_KINDS',
        `unknown rule ${JSON.stringify(kind)}; use all or some of ${ALERT_KINDS.join(', ')}`,
      );
    }
    if (!out.includes(kind as AlertKind)) out.push(kind as AlertKind);
  }
  return out;
}

function fundingPressure(env: Env): Config['fundingPressureAprPct'] {
  const raw = str(env, 'FUNDING_PRESSURE_APR_PCT');
  if (raw === undefined) return { elevated: 20, high: 50, extreme: 100 };
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

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be on or off (got ${JSON.stringify(raw)})`);
}

function mode(argv: readonly string[]): RunMode {
  let record: string | undefined;
  let replay: string | undefined;
  let speed: number | 'max' = 1;
  let demo = false;
  let report = false;
  let force = false;
  let speedGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ConfigError(arg ?? '', 'needs a value');
      return v;
    };
    if (arg === '--record') record = value();
    else if (arg === '--replay') replay = value();
    else if (arg === '--speed') {
      speedGiven = true;
      const v = value();
      if (v === 'max') speed = 'max';
      else {
        speed = Number(v);
        if (!Number.isFinite(speed) || speed <= 0)
          throw new ConfigError('--speed', `must be a number > 0 or "max" (got ${v})`);
      }
    } else if (arg === '--demo') demo = true;
    else if (arg === '--report') report = true;
    else if (arg === '--force') force = true;
    else
      throw new ConfigError(
        arg ?? '',
        'unknown option; use --record FILE, --replay FILE [--speed N|max] [--report] [--force] or --demo',
      );
  }
  // Without --replay these would be ignored, and the process would start live against the venues.
  if (speedGiven && replay === undefined) throw new ConfigError('--speed', 'only works with --replay FILE');
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

/** Reads and validates every setting; throws ConfigError naming the first bad one. */
export function loadConfig(env: Env, argv: readonly string[] = []): Config {
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const token = str(env, 'TELEGRAM_BOT_TOKEN') ?? null;
  if (token !== null && !/^\d+:[A-Za-z0-9_-]{20,}$/.test(token)) {
    throw new ConfigError(
      'TELEGRAM_BOT_TOKEN',
      'does not look like a bot token (digits:secret from @BotFather)',
    );
  }
  const httpPortRaw = str(env, 'HTTP_PORT');
  const role = (str(env, 'ROLE') ?? 'all').toLowerCase();
  if (role !== 'all' && role !== 'processor' && role !== 'bot') {
    throw new ConfigError('ROLE', `must be all, processor or bot (got ${JSON.stringify(role)})`);
  }
  if (role === 'bot' && token === null) {
    throw new ConfigError('ROLE', 'is bot but TELEGRAM_BOT_TOKEN is not set: a bot needs its token');
  }
  const botConsumer = str(env, 'BOT_CONSUMER') ?? null;
  if (botConsumer !== null && !/^[A-Za-z0-9_.:-]{1,64}$/.test(botConsumer)) {
    throw new ConfigError('BOT_CONSUMER', 'use 1-64 letters, digits, or _ . : -');
  }
  let shard: Config['shard'] = null;
  const shardRaw = str(env, 'SHARD');
  if (shardRaw !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(shardRaw);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (!m || count < 1 || index >= count) {
      throw new ConfigError(
        'SHARD',
        `must be i/n with 0 <= i < n, e.g. 0/2 (got ${JSON.stringify(shardRaw)})`,
      );
    }
    shard = { index, count };
  }
  const httpPort =
    httpPortRaw === undefined
      ? null
      : number(env, 'HTTP_PORT', 0, (n) =>
          Number.isInteger(n) && n >= 0 && n < 65536 ? null : 'must be a port 0-65535',
        );
  const botMode = (str(env, 'BOT_MODE') ?? 'polling').toLowerCase();
  if (botMode !== 'polling' && botMode !== 'webhook') {
    throw new ConfigError('BOT_MODE', `must be polling or webhook (got ${JSON.stringify(botMode)})`);
  }
  if (botMode === 'webhook' && token === null) {
    throw new ConfigError('BOT_MODE', 'is webhook but TELEGRAM_BOT_TOKEN is not set: a webhook needs a bot');
  }
  return {
    role,
    botConsumer,
    shard,
    redisUrl:
      str(env, 'REDIS_URL') === undefined
        ? null
        : url(env, 'REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
    redisPrefix: redisPrefix(env),
    symbols: symbols(env),
    // `all` follows every listed linear perpetual (about 1,500 across the four venues).
    topN:
      str(env, 'TOP_N')?.toLowerCase() === 'all'
        ? Number.POSITIVE_INFINITY
        : number(
            env,
            'TOP_N',
            20,
            (n) => positiveInt(n) ?? (n <= 10_000 ? null : 'must be at most 10000, or all'),
          ),
    venues: venues(env),
    endpoints: endpoints(env),
    universeRefreshMs:
      number(env, 'UNIVERSE_REFRESH_MIN', 60, (n) => (n >= 1 ? null : 'must be at least 1 (minute)')) *
      60_000,
    telegramBotToken: token,
    telegramApiRoot: url(env, 'TELEGRAM_API_ROOT', 'https://api.telegram.org', ['http:', 'https:']),
    botMode,
    webhook: botMode === 'webhook' ? webhook(env, httpPort) : null,
    adminChatIds: adminChatIds(env),
    commandRatePerMin: number(env, 'COMMAND_RATE_PER_MIN', 20, (n) =>
      Number.isInteger(n) && n >= 1 && n <= 10_000 ? null : 'must be a whole number from 1 to 10000',
    ),
    oiAlertPct15m: number(env, 'OI_ALERT_PCT_15M', 3, positive),
    alertCooldownMs:
      number(env, 'ALERT_COOLDOWN_MIN', 30, (n) => (n >= 0 ? null : 'must be 0 or more')) * 60_000,
    alertMaxAgeMs:
      number(env, 'ALERT_MAX_AGE_MIN', 15, (n) =>
        n >= 1 && n <= 1440 ? null : 'must be from 1 to 1440 (minutes)',
      ) * 60_000,
    oiAlertPct24h: number(env, 'OI_ALERT_PCT_24H', 10, positive),
    momentumAlertAccel: number(env, 'MOMENTUM_ALERT_ACCEL', 3, (n) => (n > 1 ? null : 'must be more than 1')),
    alertKinds: alertKinds(env),
    fundingPressureAprPct: fundingPressure(env),
    inputStaleAfterMs: number(env, 'INPUT_STALE_AFTER_MS', 180_000, (n) =>
      Number.isInteger(n) && n >= 1000 ? null : 'must be a whole number of at least 1000',
    ),
    backfill: flag(env, 'BACKFILL', true),
    publishIntervalMs: number(env, 'PUBLISH_INTERVAL_MS', 1000, (n) =>
      Number.isInteger(n) && n >= 10 ? null : 'must be a whole number of at least 10',
    ),
    staleAfterMs: number(env, 'STALE_AFTER_MS', 30_000, (n) =>
      Number.isInteger(n) && n >= 100 ? null : 'must be a whole number of at least 100',
    ),
    httpPort,
    logLevel,
    mode: mode(argv),
  };
}
