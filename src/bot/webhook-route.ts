/**
 * The webhook transport's HTTP side: the route Telegram POSTs updates to, mounted on the health
 * server. Bot API: https://core.telegram.org/bots/api#setwebhook
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Update } from 'grammy/types';
import type { Logger } from 'pino';

/** A POST route for the HTTP server (`startHttp`'s `routes`). */
export interface WebhookRoute {
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Telegram re-sends a webhook update it got no answer to: answer by then, finish in the background. */
const WEBHOOK_ANSWER_WITHIN_MS = 5000;
const WEBHOOK_MAX_IN_FLIGHT = 100;
const WEBHOOK_MAX_BODY_BYTES = 1 << 20;
/** Update ids remembered to drop Telegram's re-sends. */
const WEBHOOK_RECENT_IDS = 1000;
const REJECT_LOG_EVERY_MS = 60_000;

export interface WebhookRouteOptions {
  readonly path: string;
  readonly secret: string;
  readonly log: Logger;
  /** False while closing or before getMe: answer 503 so Telegram re-sends later. */
  readonly accepting: () => boolean;
  readonly handleUpdate: (update: Update) => Promise<void>;
  readonly inFlight: () => number;
}

/**
 * Our own handler around `bot.handleUpdate` rather than grammY's `webhookCallback`: it reads a
 * bounded body, logs rejected requests (throttled, never the header), drops Telegram's re-sends by
 * `update_id`, bounds concurrent updates and answers within a few seconds while slow work finishes;
 * webhookCallback answers 500 on a slow update (which Telegram re-sends) and also replaces bot.start.
 */
export function createWebhookRoute(o: WebhookRouteOptions): WebhookRoute {
  // Hashing first gives equal lengths, so timingSafeEqual compares in constant time whatever was sent.
  const expected = sha256(o.secret);
  const recentIds = new Set<number>();
  let rejected = 0;
  let lastRejectLogMs = Number.NEGATIVE_INFINITY;
  const answer = (res: ServerResponse, status: number, headers: Record<string, string> = {}) => {
    if (!res.headersSent) res.writeHead(status, headers).end();
  };

  function reject(req: IncomingMessage, res: ServerResponse, header: string | undefined): void {
    rejected++;
    if (Date.now() - lastRejectLogMs >= REJECT_LOG_EVERY_MS) {
      o.log.warn(
        { remoteAddress: req.socket.remoteAddress, headerPresent: header !== undefined, rejected },
        'webhook request rejected: wrong or missing X-Telegram-Bot-Api-Secret-Token',
      );
      lastRejectLogMs = Date.now();
      rejected = 0;
    }
    answer(res, 401, { connection: 'close' });
  }

  return {
    path: o.path,
    handle(req, res) {
      if (req.method !== 'POST') return answer(res, 405, { allow: 'POST' });
      const raw = req.headers['x-telegram-bot-api-secret-token'];
      const header = Array.isArray(raw) ? raw[0] : raw;
      if (header === undefined || !timingSafeEqual(sha256(header), expected)) return reject(req, res, header);
      if (!o.accepting() || o.inFlight() >= WEBHOOK_MAX_IN_FLIGHT)
        return answer(res, 503, { 'retry-after': '5' });
      readBody(req, WEBHOOK_MAX_BODY_BYTES).then(
        (body) => {
          const update = parseUpdate(body);
          if (update === null) return answer(res, 400);
          if (recentIds.has(update.update_id)) return answer(res, 200);
          recentIds.add(update.update_id);
          if (recentIds.size > WEBHOOK_RECENT_IDS)
            recentIds.delete(recentIds.values().next().value as number);
          void settleWithin(o.handleUpdate(update), WEBHOOK_ANSWER_WITHIN_MS).then(() => answer(res, 200));
        },
        () => answer(res, 413, { connection: 'close' }),
      );
    },
  };
}

function parseUpdate(body: string): Update | null {
  try {
    const parsed = JSON.parse(body) as { update_id?: unknown } | null;
    return typeof parsed === 'object' && parsed !== null && Number.isSafeInteger(parsed.update_id)
      ? (parsed as Update)
      : null;
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** The scheme and host of a webhook URL: its path may carry a secret (a token in the path is common). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable)';
  }
}

/** Waits for the promise, but at most `ms` (a rejection still rejects). */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
