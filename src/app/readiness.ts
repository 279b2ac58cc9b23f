/**
 * `/readyz`: whether this process does its job, per role, and why not. Pure: the state of each part
 * comes in, with the time; the HTTP server only serves the result.
 */
import type { VenueRuntime } from './venue-runtime.js';

/** One check of `/readyz`: `ok`, a `reason` when not; implementations add the details that explain it. */
export interface ReadinessCheck {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface RedisCheck extends ReadinessCheck {
  readonly kind: 'redis' | 'memory';
}

export interface VenueCheck extends ReadinessCheck {
  readonly connections: number;
  readonly open: number;
  readonly lastDataAgeMs: number | null;
}

export interface ReadinessInputs {
  readonly redis: { readonly kind: 'redis' | 'memory'; readonly connected: boolean };
  readonly venues: readonly VenueRuntime[];
  readonly staleAfterMs: number;
  /** Role-specific checks (`telegram` for a bot, `publish` for a processor), by name. */
  readonly checks?: Readonly<Record<string, () => ReadinessCheck>>;
}

export interface Readiness {
  readonly ok: boolean;
  readonly checks: {
    readonly redis: RedisCheck;
    readonly venues: Record<string, VenueCheck>;
    readonly [name: string]: unknown;
  };
  /** One line per failing check, `name: reason`; empty when ready. */
  readonly reasons: string[];
}

/** A venue is ready when it has connections, all open, each with market data within the staleness bound. */
export function venueCheck(r: VenueRuntime, staleAfterMs: number, now: number): VenueCheck {
  const conns = r.connections();
  const ages = conns.map((c) => (c.lastDataAt ? now - c.lastDataAt : null));
  const open = conns.filter((c) => c.isOpen).length;
  const worst = ages.some((a) => a === null) ? null : Math.max(0, ...(ages as number[]));
  const ok = conns.length > 0 && open === conns.length && worst !== null && worst <= staleAfterMs;
  const reason = ok
    ? undefined
    : conns.length === 0
      ? 'no connection yet (the universe is being resolved)'
      : open < conns.length
        ? `${conns.length - open} of ${conns.length} connections not open`
        : worst === null
          ? 'a connection has had no market data yet'
          : `no market data for ${worst} ms (bound ${staleAfterMs} ms)`;
  return { ok, connections: conns.length, open, lastDataAgeMs: worst, ...(reason ? { reason } : {}) };
}

/**
 * A processor is ready only once snapshots reached the bus: connected venues with a pipeline that
 * cannot publish (Redis refusing writes, an instrument filter that matches nothing) serve nobody.
 */
export function firstPublishCheck(
  snapshotsPublished: number,
): ReadinessCheck & { readonly snapshotsPublished: number } {
  return snapshotsPublished > 0
    ? { ok: true, snapshotsPublished }
    : { ok: false, snapshotsPublished, reason: 'no snapshot published yet' };
}

export function readiness(src: ReadinessInputs, now: number): Readiness {
  const redisOk = src.redis.kind === 'memory' || src.redis.connected;
  const redis: RedisCheck = {
    kind: src.redis.kind,
    ok: redisOk,
    ...(redisOk ? {} : { reason: 'Redis is not connected' }),
  };
  const venues = Object.fromEntries(src.venues.map((r) => [r.venue, venueCheck(r, src.staleAfterMs, now)]));
  const extra = Object.fromEntries(Object.entries(src.checks ?? {}).map(([name, check]) => [name, check()]));
  const reasons: string[] = [];
  const note = (name: string, c: ReadinessCheck) => {
    if (!c.ok) reasons.push(`${name}: ${c.reason ?? 'not ready'}`);
  };
  note('redis', redis);
  for (const [venue, c] of Object.entries(venues)) note(`venues.${venue}`, c);
  for (const [name, c] of Object.entries(extra)) note(name, c);
  return { ok: reasons.length === 0, checks: { redis, venues, ...extra }, reasons };
}
