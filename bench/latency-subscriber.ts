/**
 * The alert consumer of the latency benchmark, in its own process: an ioredis subscriber on
 * `pulse:alert` that stamps each alert's arrival with `process.hrtime.bigint()` (CLOCK_MONOTONIC,
 * comparable with the sender process's stamps).
 */
import { Redis } from 'ioredis';
import { ALERT_CHANNEL } from '../src/bus/keys.js';

export type SubscriberMessage =
  | { readonly kind: 'subscribed' }
  | { readonly kind: 'arrivals'; readonly arrivedNs: Record<string, string>; readonly other: number };

if (process.send && process.argv[2]) {
  const url = process.argv[2];
  const send = (m: SubscriberMessage) => process.send?.(m);
  const arrived = new Map<string, bigint>();
  let other = 0;
  const sub = new Redis(url, { protocol: 2, connectionName: 'perp-pulse:bench-subscriber' });
  sub.on('message', (_channel: string, message: string) => {
    const at = process.hrtime.bigint();
    const id = (JSON.parse(message) as { id?: unknown }).id;
    if (typeof id === 'string' && !arrived.has(id)) arrived.set(id, at);
    else other++;
  });
  sub.subscribe(ALERT_CHANNEL).then(() => send({ kind: 'subscribed' }));
  process.on('message', (cmd: string) => {
    if (cmd !== 'report') return;
    send({
      kind: 'arrivals',
      arrivedNs: Object.fromEntries([...arrived].map(([id, ns]) => [id, ns.toString()])),
      other,
    });
    void sub.quit().then(() => process.exit(0));
  });
}
