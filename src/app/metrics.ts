import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryStats } from '../bot/delivery.js';
import { RedisBus } from '../bus/redis-bus.js';
import type { Bus } from '../bus/types.js';
import type { Pipeline } from './pipeline.js';
import type { VenueRuntime } from './venue-runtime.js';

export interface MetricSources {
  readonly bus: Bus;
  readonly pipeline?: Pipeline;
  readonly venues: () => readonly VenueRuntime[];
  readonly delivery?: () => DeliveryStats | undefined;
}

export interface Metrics {
  readonly registry: Registry;
  /** Observe one snapshot batch's publish duration. */
  observePublish(durationMs: number): void;
}

type Labels = Record<string, string>;

/**
 * A counter or gauge whose value is read from our own counters when Prometheus scrapes, so the
 * components keep plain numbers and nothing is counted twice.
 */
function live(kind: 'counter' | 'gauge') {
  return (
    registry: Registry,
    name: string,
    help: string,
    labelNames: string[],
    read: () => [Labels, number][],
  ) => {
    const Metric = kind === 'counter' ? Counter : Gauge;
    return new Metric({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) {
          if (this instanceof Counter) this.inc(labels, value);
          else this.set(labels, value);
        }
      },
    });
  };
}

const liveCounter = live('counter');
const liveGauge = live('gauge');

/** Prometheus metrics of one process (served on `GET /metrics`). */
export function createMetrics(src: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'perp_pulse_' });
  const perVenue = (read: (r: VenueRuntime) => number): [Labels, number][] =>
    src.venues().map((r) => [{ venue: r.venue }, read(r)]);
  const sumConn = (r: VenueRuntime, key: keyof ReturnType<VenueRuntime['connections']>[number]['counters']) =>
    r.connections().reduce((n, c) => n + c.counters[key], 0);

  liveCounter(registry, 'perp_pulse_feed_frames_total', 'Frames received per venue.', ['venue'], () =>
    perVenue((r) => sumConn(r, 'frames')),
  );
  liveCounter(
    registry,
    'perp_pulse_feed_events_total',
    'Normalized market events per venue (WebSocket).',
    ['venue'],
    () => perVenue((r) => sumConn(r, 'events')),
  );
  liveCounter(
    registry,
    'perp_pulse_feed_parse_errors_total',
    'Malformed frames counted and skipped.',
    ['venue'],
    () => perVenue((r) => sumConn(r, 'parseErrors') + (r.restCounters()?.parseErrors ?? 0)),
  );
  liveCounter(registry, 'perp_pulse_feed_reconnects_total', 'Connections lost and replaced.', ['venue'], () =>
    perVenue((r) => sumConn(r, 'disconnects')),
  );
  liveCounter(
    registry,
    'perp_pulse_feed_stale_timeouts_total',
    'Connections replaced for silence.',
    ['venue'],
    () => perVenue((r) => sumConn(r, 'staleTimeouts')),
  );
  liveGauge(
    registry,
    'perp_pulse_feed_data_age_seconds',
    "Age of the oldest connection's last market data.",
    ['venue'],
    () =>
      perVenue((r) => {
        const now = Date.now();
        const ages = r
          .connections()
          .map((c) => (c.lastDataAt ? (now - c.lastDataAt) / 1000 : Number.POSITIVE_INFINITY));
        return ages.length ? Math.max(...ages) : Number.POSITIVE_INFINITY;
      }),
  );
  liveCounter(
    registry,
    'perp_pulse_rest_requests_total',
    'REST polls sent (Binance open interest).',
    ['venue'],
    () =>
      src.venues().flatMap((r) => {
        const c = r.restCounters();
        return c ? [[{ venue: r.venue }, c.requests] as [Labels, number]] : [];
      }),
  );
  liveCounter(
    registry,
    'perp_pulse_rest_rate_limited_total',
    'REST answers 429 or 418 from a venue.',
    ['venue'],
    () =>
      src.venues().flatMap((r) => {
        const c = r.restCounters();
        return c ? [[{ venue: r.venue }, c.rateLimited + c.banned] as [Labels, number]] : [];
      }),
  );
  liveCounter(
    registry,
    'perp_pulse_long_short_requests_total',
    'Long/short statistics requests sent (a poller of their own, outside the OI budget).',
    ['venue'],
    () =>
      src.venues().flatMap((r) => {
        const c = r.longShortCounters();
        return c ? [[{ venue: r.venue }, c.requests] as [Labels, number]] : [];
      }),
  );
  liveCounter(
    registry,
    'perp_pulse_long_short_failures_total',
    'Long/short statistics requests that brought no figure: network or HTTP errors, venue errors, unreadable bodies, 429/418.',
    ['venue'],
    () =>
      src.venues().flatMap((r) => {
        const c = r.longShortCounters();
        return c
          ? [[{ venue: r.venue }, c.errors + c.parseErrors + c.rateLimited + c.banned] as [Labels, number]]
          : [];
      }),
  );
  const p = src.pipeline;
  if (p) {
    liveCounter(registry, 'perp_pulse_snapshots_published_total', 'Snapshots written to the bus.', [], () => [
      [{}, p.counters.snapshotsPublished],
    ]);
    liveCounter(
      registry,
      'perp_pulse_snapshots_dropped_total',
      'Snapshots dropped while Redis was down.',
      [],
      () => [[{}, p.counters.snapshotsDropped]],
    );
    liveCounter(registry, 'perp_pulse_alerts_fired_total', 'Alerts fired by the rules.', [], () => [
      [{}, p.counters.alertsFired],
    ]);
    liveGauge(registry, 'perp_pulse_instruments', 'Instruments held in memory.', [], () => [
      [{}, p.instrumentCount()],
    ]);
  }
  if (src.bus instanceof RedisBus) {
    const bus = src.bus;
    liveCounter(
      registry,
      'perp_pulse_alerts_published_total',
      'Alerts written to the pulse:alerts stream.',
      [],
      () => [[{}, bus.counters.alertsPublished]],
    );
    liveCounter(
      registry,
      'perp_pulse_alerts_duplicate_total',
      'Alerts not written because their id was already in pulse:alerts (a replay, another processor, a retry).',
      [],
      () => [[{}, bus.counters.alertsDuplicate]],
    );
    liveGauge(registry, 'perp_pulse_alerts_pending', 'Alerts held while Redis is unreachable.', [], () => [
      [{}, bus.pendingAlerts],
    ]);
  }
  if (src.delivery) {
    const stats = src.delivery;
    liveCounter(
      registry,
      'perp_pulse_alerts_delivered_total',
      'Telegram messages sent for alerts.',
      [],
      () => [[{}, stats()?.sent ?? 0]],
    );
    liveCounter(
      registry,
      'perp_pulse_alerts_delivery_failed_total',
      'Alert messages not delivered, by reason.',
      ['reason'],
      () => {
        const s = stats();
        return s
          ? [
              [{ reason: 'queue_full' }, s.dropped],
              [{ reason: 'gave_up' }, s.failed],
              [{ reason: 'chat_removed' }, s.removedChats],
            ]
          : [];
      },
    );
    liveCounter(
      registry,
      'perp_pulse_alerts_expired_total',
      'Alerts older than ALERT_MAX_AGE_MIN: acknowledged and sent to no chat.',
      [],
      () => [[{}, stats()?.expired ?? 0]],
    );
    liveCounter(
      registry,
      'perp_pulse_telegram_429_total',
      'Telegram answers 429 (retry_after honoured).',
      [],
      () => [[{}, stats()?.rateLimited ?? 0]],
    );
    liveGauge(
      registry,
      'perp_pulse_delivery_queue_length',
      'Alert messages waiting in chat queues.',
      [],
      () => [[{}, stats()?.queued ?? 0]],
    );
  }
  const publish = new Histogram({
    name: 'perp_pulse_publish_latency_seconds',
    help: 'Time to write one batch of snapshots to the bus.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return { registry, observePublish: (ms) => publish.observe(ms / 1000) };
}
