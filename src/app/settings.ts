import { DEFAULT_REDIS_PREFIX } from '../bus/keys.js';
import { VENUE_IDS, type VenueId } from '../domain/types.js';
import { VENUES } from '../streams/venues/registry.js';
import type { Config } from './config.js';

/**
 * One environment variable perp-pulse reads: its default, its unit and what it sets. `loadConfig`
 * parses `default` exactly as it parses a value someone set, so the default can never be a value
 * the setting refuses; README's configuration table is checked against this table.
 */
export interface Setting {
  readonly env: string;
  /** The value when the variable is unset or empty, as it would be written; null: none (see `whenUnset`). */
  readonly default: string | null;
  /** What README's table shows for a null default: `unset` unless said otherwise. */
  readonly whenUnset?: string;
  /** Unit of the value (README spells the range and the unit out). */
  readonly unit?: string;
  /** The `Config` field it sets; absent for variables read outside `loadConfig` (`GIT_COMMIT`). */
  readonly field?: keyof Config;
  /** What it does, in one line (README has the long form). */
  readonly doc: string;
}

type VenueEndpointName = `${Uppercase<VenueId>}_${'WS' | 'REST'}_URL`;

const HEAD = [
  {
    env: 'ROLE',
    default: 'all',
    field: 'role',
    doc: 'processor (market data), bot (Telegram only, needs Redis) or all (both in one process)',
  },
  {
    env: 'REDIS_URL',
    default: null,
    field: 'redisUrl',
    doc: 'Redis to publish to; unset: redis://127.0.0.1:6379 if it answers, else the in-process bus',
  },
  {
    env: 'REDIS_PREFIX',
    default: DEFAULT_REDIS_PREFIX,
    field: 'redisPrefix',
    doc: 'prefix of every Redis key and channel',
  },
  {
    env: 'VENUES',
    default: VENUE_IDS.join(','),
    field: 'venues',
    doc: 'venues to follow, comma-separated, in this order',
  },
  {
    env: 'SYMBOLS',
    default: null,
    field: 'symbols',
    doc: 'base assets to follow on every venue; unset: the top TOP_N of each venue',
  },
  {
    env: 'TOP_N',
    default: '20',
    unit: 'instruments per venue',
    field: 'topN',
    doc: 'linear perpetuals followed per venue by 24h turnover (1-10000), or all',
  },
  {
    env: 'UNIVERSE_REFRESH_MIN',
    default: '60',
    unit: 'min',
    field: 'universeRefreshMs',
    doc: "how often each venue's listing is fetched again",
  },
] as const satisfies readonly Setting[];

/** `<VENUE>_WS_URL` and `<VENUE>_REST_URL` per venue, defaulting to the venue's public endpoints. */
const ENDPOINTS: readonly (Setting & { readonly env: VenueEndpointName })[] = VENUE_IDS.flatMap((id) => {
  const prefix = id.toUpperCase() as Uppercase<VenueId>;
  return [
    {
      env: `${prefix}_WS_URL` as const,
      default: VENUES[id].defaultWsUrl,
      field: 'endpoints',
      doc: `${id} WebSocket (ws:// or wss://)`,
    },
    {
      env: `${prefix}_REST_URL` as const,
      default: VENUES[id].defaultRestUrl,
      field: 'endpoints',
      doc: `${id} REST (http:// or https://)`,
    },
  ];
});

const TAIL = [
  {
    env: 'TELEGRAM_BOT_TOKEN',
    default: null,
    field: 'telegramBotToken',
    doc: 'bot token from @BotFather; unset: no bot',
  },
  {
    env: 'TELEGRAM_API_ROOT',
    default: 'https://api.telegram.org',
    field: 'telegramApiRoot',
    doc: 'Bot API server',
  },
  { env: 'BOT_MODE', default: 'polling', field: 'botMode', doc: 'polling or webhook' },
  {
    env: 'BOT_CONSUMER',
    default: null,
    whenUnset: 'bot-<hostname>',
    field: 'botConsumer',
    doc: "this bot's name in the alert stream's consumer group",
  },
  { env: 'WEBHOOK_URL', default: null, field: 'webhook', doc: 'webhook mode: the public https:// URL' },
  { env: 'WEBHOOK_SECRET', default: null, field: 'webhook', doc: 'webhook mode: the secret header value' },
  {
    env: 'ADMIN_CHAT_IDS',
    default: null,
    whenUnset: 'none',
    field: 'adminChatIds',
    doc: 'chats allowed to run /stats',
  },
  {
    env: 'COMMAND_RATE_PER_MIN',
    default: '20',
    unit: 'per chat per minute',
    field: 'commandRatePerMin',
    doc: 'commands and button presses a chat may send',
  },
  {
    env: 'OI_ALERT_PCT_15M',
    default: '3',
    unit: '%',
    field: 'oiAlertPct15m',
    doc: 'rule oi_change_15m: |OI change over 15 min| that alerts',
  },
  {
    env: 'OI_ALERT_PCT_24H',
    default: '10',
    unit: '%',
    field: 'oiAlertPct24h',
    doc: 'rule oi_change_24h: |OI change over 24 h| that alerts',
  },
  {
    env: 'MOMENTUM_ALERT_ACCEL',
    default: '3',
    unit: '× usual 15m pace',
    field: 'momentumAlertAccel',
    doc: 'rule momentum_spike: OI acceleration that alerts',
  },
  {
    env: 'LIQ_ALERT_PCT_OI',
    default: '0.5',
    unit: '% of OI value',
    field: 'liqAlertPctOi',
    doc: 'rule liquidation_cascade: one side liquidated in 15 min, as a share of OI value, that alerts',
  },
  {
    env: 'LIQ_ALERT_MIN_USD',
    default: '1000000',
    unit: 'USD',
    field: 'liqAlertMinUsd',
    doc: 'rule liquidation_cascade: the least USD of one side liquidated in 15 min that alerts',
  },
  {
    env: 'FUNDING_PRESSURE_APR_PCT',
    default: '20,50,100',
    unit: '% |APR|',
    field: 'fundingPressureAprPct',
    doc: 'funding pressure levels elevated,high,extreme',
  },
  {
    env: 'ALERT_KINDS',
    default: 'all',
    field: 'alertKinds',
    doc: 'the rules that run, comma-separated, or all',
  },
  {
    env: 'ALERT_COOLDOWN_MIN',
    default: '30',
    unit: 'min',
    field: 'alertCooldownMs',
    doc: 'event time before the same venue, symbol, rule and direction alert again',
  },
  {
    env: 'ALERT_MAX_AGE_MIN',
    default: '15',
    unit: 'min',
    field: 'alertMaxAgeMs',
    doc: 'the bot sends no alert older than this',
  },
  {
    env: 'INPUT_STALE_AFTER_MS',
    default: '180000',
    unit: 'ms',
    field: 'inputStaleAfterMs',
    doc: 'a snapshot input (or a venue in the aggregate) older than this is stale',
  },
  {
    env: 'BACKFILL',
    default: 'on',
    field: 'backfill',
    doc: "at start, fetch venues' 24 h OI history for instruments without a checkpoint",
  },
  {
    env: 'PUBLISH_INTERVAL_MS',
    default: '1000',
    unit: 'ms',
    field: 'publishIntervalMs',
    doc: 'at most one snapshot per instrument per interval',
  },
  {
    env: 'STALE_AFTER_MS',
    default: '30000',
    unit: 'ms',
    field: 'staleAfterMs',
    doc: 'no market data for this long on an open socket: the connection is replaced',
  },
  {
    env: 'HTTP_PORT',
    default: null,
    unit: 'port',
    field: 'httpPort',
    doc: 'serve /healthz, /readyz, /metrics, /version',
  },
  {
    env: 'SHARD',
    default: null,
    field: 'shard',
    doc: 'i/n: follow only the instruments that hash to i of n',
  },
  { env: 'LOG_LEVEL', default: 'info', field: 'logLevel', doc: 'pino log level' },
  { env: 'GIT_COMMIT', default: null, doc: 'shown by /version (read by version.ts)' },
  { env: 'BUILD_TIME', default: null, doc: 'shown by /version (read by version.ts)' },
] as const satisfies readonly Setting[];

/** Every variable perp-pulse reads; `closestSetting` prefers the earlier one on a tie. */
export const SETTINGS: readonly Setting[] = [...HEAD, ...ENDPOINTS, ...TAIL];

export type SettingName = (typeof HEAD)[number]['env'] | VenueEndpointName | (typeof TAIL)[number]['env'];

const BY_NAME = new Map(SETTINGS.map((s) => [s.env, s]));

/** The default of `name` as it would be written in the environment; undefined when it has none. */
export function settingDefault(name: SettingName): string | undefined {
  return BY_NAME.get(name)?.default ?? undefined;
}
