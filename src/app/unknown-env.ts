import { VENUE_IDS } from '../domain/types.js';
import { SETTINGS } from './settings.js';

/**
 * Every environment variable perp-pulse reads (config.ts, version.ts): the settings table. A test
 * checks that `loadConfig` reads nothing outside it, so a new setting cannot be forgotten here.
 */
export const KNOWN_SETTINGS: readonly string[] = SETTINGS.map((s) => s.env);

/** Names that look like ours: they share a prefix with a setting (case-insensitive). */
const OUR_PREFIXES: readonly string[] = [
  'PULSE_',
  'REDIS_',
  'TELEGRAM_',
  'BOT_',
  'WEBHOOK_',
  'ALERT_',
  'OI_',
  'FUNDING_',
  'MOMENTUM_',
  'INPUT_',
  'PUBLISH_',
  'STALE_',
  'UNIVERSE_',
  ...VENUE_IDS.map((id) => `${id.toUpperCase()}_`),
  'TOP_',
  'HTTP_',
  'SHARD',
  'ADMIN_',
  'COMMAND_',
  'BACKFILL',
  'SYMBOL',
  'VENUE',
  'ROLE',
  'LOG_LEVEL',
];

/**
 * Names other software sets in the same environment, which must not be reported:
 * - the redis image (`REDIS_VERSION`, `REDIS_DOWNLOAD_*`), redis-stack and Bitnami settings of the
 *   Redis service that sit in a shared `.env` (`REDIS_PASSWORD`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_ARGS`);
 * - proxies (`HTTP_PROXY`, `http_proxy`);
 * - the compose files' own variables, which reach the containers through `env_file: .env`
 *   (`PULSE_TAG`, `BOT_TAG`, `PROCESSOR_TAG`, `COMPOSE_*`, the webhook overlay's host and path);
 * - exchange API credentials kept for other tools (perp-pulse reads only public data).
 */
const FOREIGN_NAMES = new Set([
  'REDIS_PASSWORD',
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_USER',
  'REDIS_USERNAME',
  'REDIS_DB',
  'REDIS_ARGS',
  'REDIS_VERSION',
  'REDIS_DOWNLOAD_URL',
  'REDIS_DOWNLOAD_SHA',
  'REDIS_AOF_ENABLED',
  'REDIS_PORT_NUMBER',
  'HTTP_PROXY',
  'PULSE_TAG',
  'BOT_TAG',
  'PROCESSOR_TAG',
  'COMPOSE_PROFILES',
  'COMPOSE_FILE',
  'COMPOSE_PROJECT_NAME',
  'WEBHOOK_HOST',
  'WEBHOOK_PATH',
]);

const FOREIGN_PATTERNS: readonly RegExp[] = [
  // Docker links and Kubernetes service variables of a service or container named redis, bot, ...
  /_SERVICE_(HOST|PORT)(_|$)/,
  /_PORT_\d+_(TCP|UDP|SCTP)(_|$)/,
  /_ENV_/,
  // Bitnami and redis-stack option families.
  /^REDIS_(TLS|SENTINEL|REPLICA|MASTER|EXTRA|DISABLE|ACL|IO_THREADS)/,
  // Exchange API credentials.
  /_(API_KEY|API_SECRET|SECRET_KEY|PASSPHRASE|PRIVATE_KEY)$/,
];

function isForeign(name: string, value: string | undefined): boolean {
  const upper = name.toUpperCase();
  if (FOREIGN_NAMES.has(upper) || FOREIGN_PATTERNS.some((p) => p.test(upper))) return true;
  // Docker links and Kubernetes: `REDIS_PORT=tcp://10.0.0.3:6379`, `REDIS_NAME=/app/redis`.
  if (/^(tcp|udp|sctp):\/\//.test(value ?? '')) return true;
  return upper.endsWith('_NAME') && (value ?? '').startsWith('/');
}

/** Levenshtein distance, stopping early once it exceeds `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** The known setting a misspelt name most likely meant: same letters in another case, or a close edit. */
export function closestSetting(name: string): string | null {
  const upper = name.toUpperCase();
  const max = upper.length <= 6 ? 1 : 3;
  let best: string | null = null;
  let bestDistance = max + 1;
  for (const known of KNOWN_SETTINGS) {
    const d = distance(upper, known, max);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  if (best !== null) return best;
  // A name that adds or drops words of a setting: TELEGRAM_TOKEN, TELEGRAM_BOT_TOKEN_FILE.
  const words = upper.split('_').filter((w) => w !== '');
  let fewestExtra = Number.POSITIVE_INFINITY;
  for (const known of KNOWN_SETTINGS) {
    const knownWords = known.split('_');
    const within = (a: string[], b: string[]) => a.every((w) => b.includes(w));
    if (!within(words, knownWords) && !within(knownWords, words)) continue;
    const extra = Math.abs(knownWords.length - words.length);
    if (extra < fewestExtra) {
      best = known;
      fewestExtra = extra;
    }
  }
  return best;
}

export interface UnknownSetting {
  readonly name: string;
  readonly didYouMean: string | null;
}

/**
 * Environment names that look like perp-pulse settings (one of our prefixes) but are none,
 * with the setting each most likely meant. Values are never looked at beyond telling Docker's
 * `tcp://` link variables apart, and never returned: they may be secrets.
 */
export function unknownSettings(env: Readonly<Record<string, string | undefined>>): UnknownSetting[] {
  const out: UnknownSetting[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (KNOWN_SETTINGS.includes(name)) continue;
    const upper = name.toUpperCase();
    if (!OUR_PREFIXES.some((p) => upper.startsWith(p))) continue;
    if (isForeign(name, value)) continue;
    out.push({ name, didYouMean: closestSetting(name) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** One log line's text: `ALERT_KIND (did you mean ALERT_KINDS?), TELEGRAM_CHAT_ID`, at most 20 names. */
export function describeUnknown(unknown: readonly UnknownSetting[], maxNames = 20): string {
  const shown = unknown
    .slice(0, maxNames)
    .map((u) => (u.didYouMean ? `${u.name} (did you mean ${u.didYouMean}?)` : u.name));
  const more = unknown.length > maxNames ? ` and ${unknown.length - maxNames} more` : '';
  return `${shown.join(', ')}${more}`;
}
