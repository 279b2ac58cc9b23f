import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bus } from '../bus/types.js';
import type { FeedConnection } from '../streams/core/connection.js';
import type { Pipeline } from './pipeline.js';

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthSources {
  readonly bus: Bus;
  readonly pipeline: Pipeline;
  readonly connections: () => readonly FeedConnection[];
  readonly staleAfterMs: number;
}

/**
 * `/healthz`: the process is alive. `/readyz`: every feed delivered market data within its
 * staleness bound and the bus is connected; the body lists each check.
 */
export async function startHttp(port: number, src: HealthSources): Promise<HttpServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (path === '/readyz') {
      const now = Date.now();
      const feeds = src.connections().map((c) => {
        const ageMs = c.lastDataAt ? now - c.lastDataAt : null;
        return {
          open: c.isOpen,
          lastDataAgeMs: ageMs,
          ok: c.isOpen && ageMs !== null && ageMs <= src.staleAfterMs,
        };
      });
      const busOk = src.bus.kind === 'memory' || ('isReady' in src.bus && src.bus.isReady === true);
      const ok = busOk && feeds.length > 0 && feeds.every((f) => f.ok);
      const body = {
        ok,
        checks: { bus: { kind: src.bus.kind, ok: busOk }, feeds },
        counters: src.pipeline.counters,
      };
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"error":"not found; try /healthz or /readyz"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
