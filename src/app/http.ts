import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/types.js';
import { type ReadinessCheck, readiness } from './readiness.js';
import type { VenueRuntime } from './venue-runtime.js';
import type { VersionInfo } from './version.js';

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A handler for one extra path (the Telegram webhook); it answers every method itself. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Paths the health endpoints own; an extra route cannot take them. */
export const RESERVED_PATHS: readonly string[] = ['/healthz', '/readyz', '/metrics', '/version'];

export interface HttpOptions {
  /** Extra routes by exact path (query string ignored), e.g. the webhook's. */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
}

export interface HealthSources {
  readonly bus: Bus;
  readonly venues: () => readonly VenueRuntime[];
  readonly staleAfterMs: number;
  readonly metrics: Registry;
  readonly version: VersionInfo;
  /** Role-specific readiness checks by name (`telegram`, `publish`); see readiness.ts. */
  readonly checks?: Readonly<Record<string, () => ReadinessCheck>>;
}

/**
 * `/healthz`: the process is alive. `/readyz`: Redis reachable (or the in-process bus), every
 * enabled venue delivered data within its staleness bound, and each role check passes; the body
 * lists each check, and `reasons` says why when the answer is 503.
 * `/metrics`: Prometheus text. `/version`: version, commit, build time, role.
 */
export async function startHttp(
  port: number,
  src: HealthSources,
  opts: HttpOptions = {},
): Promise<HttpServer> {
  const routes = new Map(Object.entries(opts.routes ?? {}));
  for (const path of routes.keys()) {
    if (RESERVED_PATHS.includes(path)) throw new Error(`route ${path} would hide a health endpoint`);
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.get(path);
    if (route) return route(req, res);
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/healthz') return json(200, { ok: true });
    if (path === '/version') return json(200, src.version);
    if (path === '/readyz') {
      const body = readiness(
        {
          redis: { kind: src.bus.kind, connected: 'isReady' in src.bus && src.bus.isReady === true },
          venues: src.venues(),
          staleAfterMs: src.staleAfterMs,
          ...(src.checks ? { checks: src.checks } : {}),
        },
        Date.now(),
      );
      return json(body.ok ? 200 : 503, body);
    }
    if (path === '/metrics') {
      src.metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': src.metrics.contentType }).end(text),
        (err: Error) => json(500, { error: err.message }),
      );
      return;
    }
    json(404, { error: 'not found; try /healthz, /readyz, /metrics or /version' });
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
