import type { AlertKind, VenueId } from '../domain/types.js';
import { ConfigError } from './config-error.js';
import {
  adminChatIds,
  alertKinds,
  type Env,
  endpoints,
  flag,
  fundingPressure,
  liqAlertMinUsd,
  liqAlertPctOi,
  number,
  positive,
  positiveInt,
  redisPrefix,
  str,
  symbols,
  url,
  value,
  venues,
  webhook,
} from './env-values.js';
import { type RunMode, runMode } from './run-mode.js';

export { ConfigError } from './config-error.js';
export type { RunMode } from './run-mode.js';

/** What this process runs: the market-data side, the Telegram side, or both. */
export type Role = 'all' | 'processor' | 'bot';

/**
 * Every setting, validated. Each field names its variable, default and unit; the defaults live in
 * one place, `SETTINGS` (settings.ts), which `loadConfig` reads and README's table is checked against.
 */
export interface Config {
  /** `ROLE`, default `all`. */
  readonly role: Role;
  /** `SHARD=i/n`, default unset (null: every instrument): this processor follows only the instruments whose venue:symbol hash to i. */
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** `BOT_CONSUMER`, default unset (null: bot-<hostname>): this bot's name in the alert consumer group, stable across restarts. */
  readonly botConsumer: string | null;
  /** `REDIS_URL`, default unset (null: try the default address, fall back to the in-process bus). */
  readonly redisUrl: string | null;
  /**
   * `REDIS_PREFIX`, default `pulse`: every Redis key and channel is `{prefix}:…`, so instances
   * sharing one server keep apart. Pub/sub ignores the database index: only the prefix separates channels.
   */
  readonly redisPrefix: string;
  /** `SYMBOLS`, default unset (null: the top `topN` of each venue); canonical base assets. */
  readonly symbols: readonly string[] | null;
  /** `TOP_N`, default `20`, instruments per venue; `all` is Infinity. */
  readonly topN: number;
  /** `VENUES`, default `binance,bybit,okx,hyperliquid`: the enabled venues, in the order given. */
  readonly venues: readonly VenueId[];
  /** `<VENUE>_WS_URL`, `<VENUE>_REST_URL`, default the venue's public endpoints (see SETTINGS). */
  readonly endpoints: Readonly<Record<VenueId, { readonly wsUrl: string; readonly restUrl: string }>>;
  /** `UNIVERSE_REFRESH_MIN`, default `60` (min), in ms: how often each venue's listing is fetched again. */
  readonly universeRefreshMs: number;
  /** `TELEGRAM_BOT_TOKEN`, default unset (null: no bot). */
  readonly telegramBotToken: string | null;
  /** `TELEGRAM_API_ROOT`, default `https://api.telegram.org`, without a trailing slash. */
  readonly telegramApiRoot: string;
  /** `BOT_MODE`, default `polling`: long polling, or a webhook served on HTTP_PORT. */
  readonly botMode: 'polling' | 'webhook';
  /** `WEBHOOK_URL` and `WEBHOOK_SECRET`, default unset (null when polling): the public https URL, its path, the secret header value. */
  readonly webhook: { readonly url: string; readonly path: string; readonly secret: string } | null;
  /** `ADMIN_CHAT_IDS`, default unset (none): chats allowed to run operator commands (/stats). */
  readonly adminChatIds: readonly number[];
  /** `COMMAND_RATE_PER_MIN`, default `20`: commands and button presses per chat per minute. */
  readonly commandRatePerMin: number;
  /** `OI_ALERT_PCT_15M`, default `3` (%): rule oi_change_15m. */
  readonly oiAlertPct15m: number;
  /** `ALERT_COOLDOWN_MIN`, default `30` (min), in ms of event time. */
  readonly alertCooldownMs: number;
  /** `ALERT_MAX_AGE_MIN`, default `15` (min), in ms: the bot sends no alert older than this (wall clock minus the alert's `ts`). */
  readonly alertMaxAgeMs: number;
  /** `OI_ALERT_PCT_24H`, default `10` (%): rule oi_change_24h. */
  readonly oiAlertPct24h: number;
  /** `MOMENTUM_ALERT_ACCEL`, default `3` (× the usual 15m pace): rule momentum_spike fires at this OI acceleration. */
  readonly momentumAlertAccel: number;
  /**
   * `LIQ_ALERT_PCT_OI`, default `0.5` (% of the OI value, above 0 and at most 100): rule
   * liquidation_cascade fires when one side's liquidations in 15 min reach this share of OI...
   */
  readonly liqAlertPctOi: number;
  /** `LIQ_ALERT_MIN_USD`, default `1000000` (USD, 0 or more): ...and at least this much. */
  readonly liqAlertMinUsd: number;
  /** `ALERT_KINDS`, default `all`: the rules that run. */
  readonly alertKinds: readonly AlertKind[];
  /** `FUNDING_PRESSURE_APR_PCT`, default `20,50,100` (% |APR|): levels elevated, high, extreme. */
  readonly fundingPressureAprPct: {
    readonly elevated: number;
    readonly high: number;
    readonly extreme: number;
  };
  /** `INPUT_STALE_AFTER_MS`, default `180000` (ms): a snapshot input (or a venue in the aggregate) older than this is stale. */
  readonly inputStaleAfterMs: number;
  /** `BACKFILL`, default `on`: fetch venues' OI history at start for instruments without a checkpoint. */
  readonly backfill: boolean;
  /** `PUBLISH_INTERVAL_MS`, default `1000` (ms): at most one snapshot per instrument per interval. */
  readonly publishIntervalMs: number;
  /** `STALE_AFTER_MS`, default `30000` (ms): an open socket without market data this long is replaced. */
  readonly staleAfterMs: number;
  /** `HTTP_PORT`, default unset (null: no HTTP server); 0 is any free port. */
  readonly httpPort: number | null;
  /** `LOG_LEVEL`, default `info`. */
  readonly logLevel: string;
  /** From the command line: live, `--replay FILE`, `--demo`; `--record FILE`. */
  readonly mode: RunMode;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `all` for every listed linear perpetual (about 1,500 across the four venues), or 1-10000. */
function topN(env: Env): number {
  if (value(env, 'TOP_N')?.toLowerCase() === 'all') return Number.POSITIVE_INFINITY;
  return number(
    env,
    'TOP_N',
    (n) => positiveInt(n) ?? (n <= 10_000 ? null : 'must be at most 10000, or all'),
  );
}

function shard(env: Env): Config['shard'] {
  const raw = str(env, 'SHARD');
  if (raw === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) {
    throw new ConfigError('SHARD', `must be i/n with 0 <= i < n, e.g. 0/2 (got ${JSON.stringify(raw)})`);
  }
  return { index, count };
}

/** Reads and validates every setting; throws ConfigError naming the first bad one. */
export function loadConfig(env: Env, argv: readonly string[] = []): Config {
  const logLevel = (value(env, 'LOG_LEVEL') ?? '').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const token = str(env, 'TELEGRAM_BOT_TOKEN') ?? null;
  if (token !== null && !/^\d+:[A-Za-z0-9_-]{20,}$/.test(token)) {
    throw new ConfigError(
      'TELEGRAM_BOT_TOKEN',
      'does not look like a bot token (digits:secret from @BotFather)',
    );
  }
  const role = (value(env, 'ROLE') ?? '').toLowerCase();
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
  const shardOf = shard(env);
  const httpPort =
    str(env, 'HTTP_PORT') === undefined
      ? null
      : number(env, 'HTTP_PORT', (n) =>
          Number.isInteger(n) && n >= 0 && n < 65536 ? null : 'must be a port 0-65535',
        );
  const botMode = (value(env, 'BOT_MODE') ?? '').toLowerCase();
  if (botMode !== 'polling' && botMode !== 'webhook') {
    throw new ConfigError('BOT_MODE', `must be polling or webhook (got ${JSON.stringify(botMode)})`);
  }
  if (botMode === 'webhook' && token === null) {
    throw new ConfigError('BOT_MODE', 'is webhook but TELEGRAM_BOT_TOKEN is not set: a webhook needs a bot');
  }
  return {
    role,
    botConsumer,
    shard: shardOf,
    redisUrl: str(env, 'REDIS_URL') === undefined ? null : url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: redisPrefix(env),
    symbols: symbols(env),
    topN: topN(env),
    venues: venues(env),
    endpoints: endpoints(env),
    universeRefreshMs:
      number(env, 'UNIVERSE_REFRESH_MIN', (n) => (n >= 1 ? null : 'must be at least 1 (minute)')) * 60_000,
    telegramBotToken: token,
    telegramApiRoot: url(env, 'TELEGRAM_API_ROOT', ['http:', 'https:']),
    botMode,
    webhook: botMode === 'webhook' ? webhook(env, httpPort) : null,
    adminChatIds: adminChatIds(env),
    commandRatePerMin: number(env, 'COMMAND_RATE_PER_MIN', (n) =>
      Number.isInteger(n) && n >= 1 && n <= 10_000 ? null : 'must be a whole number from 1 to 10000',
    ),
    oiAlertPct15m: number(env, 'OI_ALERT_PCT_15M', positive),
    alertCooldownMs: number(env, 'ALERT_COOLDOWN_MIN', (n) => (n >= 0 ? null : 'must be 0 or more')) * 60_000,
    alertMaxAgeMs:
      number(env, 'ALERT_MAX_AGE_MIN', (n) =>
        n >= 1 && n <= 1440 ? null : 'must be from 1 to 1440 (minutes)',
      ) * 60_000,
    oiAlertPct24h: number(env, 'OI_ALERT_PCT_24H', positive),
    momentumAlertAccel: number(env, 'MOMENTUM_ALERT_ACCEL', (n) => (n > 1 ? null : 'must be more than 1')),
    liqAlertPctOi: liqAlertPctOi(env),
    liqAlertMinUsd: liqAlertMinUsd(env),
    alertKinds: alertKinds(env),
    fundingPressureAprPct: fundingPressure(env),
    inputStaleAfterMs: number(env, 'INPUT_STALE_AFTER_MS', (n) =>
      Number.isInteger(n) && n >= 1000 ? null : 'must be a whole number of at least 1000',
    ),
    backfill: flag(env, 'BACKFILL'),
    publishIntervalMs: number(env, 'PUBLISH_INTERVAL_MS', (n) =>
      Number.isInteger(n) && n >= 10 ? null : 'must be a whole number of at least 10',
    ),
    staleAfterMs: number(env, 'STALE_AFTER_MS', (n) =>
      Number.isInteger(n) && n >= 100 ? null : 'must be a whole number of at least 100',
    ),
    httpPort,
    logLevel,
    mode: runMode(argv),
  };
}
