/**
 * Timed messages per chat: the summary of alerts held during quiet hours, and the reminder N
 * minutes before a subscribed symbol's funding settles. What is due is decided by pure functions;
 * `ScheduleRunner` only gathers their inputs once a minute and hands the texts to `send`.
 */

import type { Logger } from 'pino';
import type { ChatSettings, ChatSettingsStore, SubscriptionStore } from '../bus/types.js';
import { type AlertJson, type SnapshotJson, VENUE_IDS } from '../domain/types.js';
import { formatDuration, formatSignedPct, formatSignedRatePct, formatUsd } from '../domain/units.js';
import { inQuietHours, kindLabel } from './chat-policy.js';
import { DeliveryError } from './delivery.js';
import { escapeHtml, limitLength, MAX_MESSAGE_CHARS } from './format.js';
import { describeError } from './telegram-errors.js';

const MINUTE_MS = 60_000;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `14:05` (UTC) of an epoch-ms time. */
function clockUtc(ms: number): string {
  if (!isNum(ms)) return '--:--';
  return new Date(ms).toISOString().slice(11, 16);
}

/** The alert's key figure, short: `+6.06%`, `48.20% APR`, `3.1× usual OI pace`, `now every 4h`. */
export function keyFigure(alert: AlertJson): string | null {
  const f = alert.figures ?? {};
  switch (alert.kind) {
    case 'oi_change_15m':
    case 'oi_change_24h':
    case 'control_flip': {
      const pct = alert.delta?.pct;
      if (!isNum(pct)) return null;
      // The same caveats as the alert itself showed (`deltaCaveat`), in short.
      const caveat =
        alert.delta?.gap === true
          ? ' ⚠️ feed gap'
          : alert.delta?.backfilled === true
            ? ' ≈ venue history'
            : '';
      return `${formatSignedPct(pct)}${caveat}`;
    }
    case 'funding_pressure':
    case 'funding_at_bound': {
      const aprPct = isNum(f.aprPct) ? f.aprPct : alert.snapshot?.funding?.aprPct;
      return isNum(aprPct) ? `${aprPct.toFixed(2)}% APR` : null;
    }
    case 'momentum_spike': {
      const accel = isNum(f.oiAccel) ? f.oiAccel : alert.snapshot?.momentum?.oiAccel;
      return isNum(accel) ? `${accel.toFixed(1)}× usual OI pace` : null;
    }
    case 'liquidation_cascade': {
      const usd = f.sideUsd;
      const side = f.side === 'longs' || f.side === 'shorts' ? f.side : null;
      return isNum(usd) && side !== null ? `${formatUsd(usd)} ${side} liquidated` : null;
    }
    case 'funding_interval_change': {
      const hours = isNum(f.intervalHours) ? f.intervalHours : alert.snapshot?.funding?.intervalHours;
      return isNum(hours) ? `now every ${hours}h` : null;
    }
    default:
      return null;
  }
}

/** `• 03:12 SOL · OI change 15m · +6.06% · bybit` (HTML, escaped). */
export function summaryLine(alert: AlertJson): string {
  const figure = keyFigure(alert);
  return [
    `• ${clockUtc(alert.ts)} <b>${escapeHtml(alert.symbol)}</b>`,
    escapeHtml(kindLabel(alert.kind)),
    ...(figure === null ? [] : [escapeHtml(figure)]),
    escapeHtml(alert.venue),
  ].join(' · ');
}

/**
 * "🌙 While you were in quiet hours: N alerts", then one line per alert, oldest first, cut to fit
 * `maxChars` with "… and K more".
 */
export function formatQuietSummary(held: readonly AlertJson[], maxChars = MAX_MESSAGE_CHARS): string {
  const header = `🌙 While you were in quiet hours: ${held.length} alert${held.length === 1 ? '' : 's'} (times UTC)`;
  const lines = [header];
  let length = header.length;
  for (let i = 0; i < held.length; i++) {
    const line = summaryLine(held[i]!);
    const more = held.length - i - 1;
    // Room for this line, and for the "… and K more" line should a later one not fit.
    const reserve = more > 0 ? `\n… and ${more} more`.length : 0;
    if (length + 1 + line.length + reserve > maxChars) {
      lines.push(`… and ${held.length - i} more`);
      break;
    }
    lines.push(line);
    length += 1 + line.length;
  }
  return lines.join('\n');
}

/** Quiet hours are over (or were removed): held alerts may be summarized now. */
export function isSummaryTime(settings: ChatSettings, nowMs: number): boolean {
  return !inQuietHours(settings.quietHours, nowMs);
}

export interface HeldChat {
  readonly chatId: number;
  readonly settings: ChatSettings;
  readonly held: readonly AlertJson[];
}

export interface DueMessage {
  readonly chatId: number;
  readonly html: string;
}

/** One summary per chat that holds alerts and is out of its quiet hours. */
export function dueSummaries(chats: readonly HeldChat[], nowMs: number): DueMessage[] {
  return chats
    .filter((c) => c.held.length > 0 && isSummaryTime(c.settings, nowMs))
    .map((c) => ({ chatId: c.chatId, html: formatQuietSummary(c.held) }));
}

/** Identifies one settlement of one instrument for one chat: it is reminded once. */
export function reminderKey(chatId: number, venue: string, symbol: string, settlementMs: number): string {
  return `${chatId}:${venue}:${symbol}:${settlementMs}`;
}

/**
 * `⏰ BTC funding settles in 15m on bybit: +0.0100% / 8h, longs pay shorts` (the rate as
 * `formatFundingLine` shows it; the time left rounded up to whole minutes, as a sweep runs
 * once a minute).
 */
export function formatReminderLine(snapshot: SnapshotJson, nowMs: number): string {
  const f = snapshot.funding;
  const leftMs = Math.ceil(Math.max(0, (f.nextFundingTime ?? nowMs) - nowMs) / MINUTE_MS) * MINUTE_MS;
  const head = `⏰ <b>${escapeHtml(snapshot.symbol)}</b> funding settles in ${formatDuration(leftMs)} on ${escapeHtml(snapshot.venue)}`;
  if (!isNum(f.rate)) return `${head}: rate n/a`;
  const interval = isNum(f.intervalHours) ? ` / ${f.intervalHours}h` : '';
  const payer = f.rate > 0 ? 'longs pay shorts' : f.rate < 0 ? 'shorts pay longs' : 'nobody pays';
  return `${head}: ${formatSignedRatePct(f.rate)}${interval}, ${payer}`;
}

export interface ReminderChat {
  readonly chatId: number;
  readonly settings: ChatSettings;
  /** Latest snapshots of the chat's subscribed symbols, on every venue it might want. */
  readonly snapshots: readonly SnapshotJson[];
}

export interface DueReminder extends DueMessage {
  /** `reminderKey`s of the settlements this message reminds of; record them once it is sent. */
  readonly keys: readonly string[];
}

/**
 * One message per chat listing every settlement due within its reminder lead time that was not
 * reminded yet (`sent` holds `reminderKey`s). Not during quiet hours (a reminder is worthless
 * later, so it is not held), and only on the venues the chat wants.
 */
export function dueReminders(
  chats: readonly ReminderChat[],
  nowMs: number,
  sent: { has(key: string): boolean },
): DueReminder[] {
  const out: DueReminder[] = [];
  for (const { chatId, settings, snapshots } of chats) {
    const leadMin = settings.fundingReminderMin;
    if (leadMin === null || inQuietHours(settings.quietHours, nowMs)) continue;
    const lines: string[] = [];
    const keys: string[] = [];
    const sorted = [...snapshots].sort(
      (a, b) => a.symbol.localeCompare(b.symbol) || a.venue.localeCompare(b.venue),
    );
    for (const s of sorted) {
      const settlementMs = s.funding?.nextFundingTime;
      if (!isNum(settlementMs) || s.venue === 'all') continue;
      if (settings.venues !== null && !settings.venues.includes(s.venue)) continue;
      const leftMs = settlementMs - nowMs;
      if (leftMs <= 0 || leftMs > leadMin * MINUTE_MS) continue;
      const key = reminderKey(chatId, s.venue, s.symbol, settlementMs);
      if (sent.has(key) || keys.includes(key)) continue;
      keys.push(key);
      lines.push(formatReminderLine(s, nowMs));
    }
    if (lines.length > 0) out.push({ chatId, keys, html: limitLength(lines.join('\n')) });
  }
  return out;
}

export interface ScheduleRunnerOptions {
  readonly store: ChatSettingsStore;
  readonly subscriptions: Pick<SubscriptionStore, 'listForChat'>;
  /** The latest snapshot of an instrument (`bus.latest`). */
  readonly latest: (venue: string, symbol: string) => Promise<SnapshotJson | null>;
  /** Queues a message for a chat (bot.ts wires it to delivery's paced queue). */
  readonly send: (chatId: number, html: string) => Promise<void>;
  /** Venues looked at for reminders of a chat without a venue filter. Default: every venue. */
  readonly venues?: readonly string[];
  /** Between sweeps. Default 60,000 ms. */
  readonly intervalMs?: number;
  /** Wall clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Settlements remembered as reminded (oldest forgotten first). Default 10,000. */
  readonly maxRemembered?: number;
}

export interface SweepResult {
  readonly chats: number;
  readonly summaries: number;
  readonly reminders: number;
  readonly failures: number;
}

/**
 * Sweeps `store.chatsWithSchedules()` every `intervalMs` (one `setInterval`, unref'd; sweeps never
 * overlap). Which settlements were reminded is kept in memory: after a restart a settlement inside
 * its lead time may be reminded a second time. Held alerts handed to a failing `send` are lost (logged).
 */
export class ScheduleRunner {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly venues: readonly string[];
  private readonly maxRemembered: number;
  /** reminderKey → settlement time, insertion-ordered. */
  private readonly reminded = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: ScheduleRunnerOptions) {
    this.intervalMs = opts.intervalMs ?? MINUTE_MS;
    this.now = opts.now ?? Date.now;
    this.venues = opts.venues ?? VENUE_IDS;
    this.maxRemembered = opts.maxRemembered ?? 10_000;
  }

  /** Starts the periodic sweep; idempotent, and a no-op after `close()`. */
  start(): void {
    if (this.timer !== undefined || this.closing !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running === undefined) {
        this.running = this.sweep().finally(() => {
          this.running = undefined;
        });
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Whether the periodic sweep is scheduled. */
  get started(): boolean {
    return this.timer !== undefined;
  }

  /** One pass over every scheduled chat. Never throws: a failing chat is logged and counted. */
  async sweep(): Promise<SweepResult> {
    const nowMs = this.now();
    this.forget(nowMs);
    let chatIds: number[];
    try {
      chatIds = await this.opts.store.chatsWithSchedules();
    } catch (err) {
      this.opts.logger?.warn({ err: describeError(err) }, 'schedules: cannot list chats');
      return { chats: 0, summaries: 0, reminders: 0, failures: 1 };
    }
    const snapshots = new Map<string, Promise<SnapshotJson | null>>();
    const latest = (venue: string, symbol: string) => {
      const key = `${venue}:${symbol}`;
      let p = snapshots.get(key);
      if (p === undefined) {
        p = this.opts.latest(venue, symbol).catch(() => null);
        snapshots.set(key, p);
      }
      return p;
    };
    let summaries = 0;
    let reminders = 0;
    let failures = 0;
    for (const chatId of chatIds) {
      if (this.closing !== undefined) break;
      try {
        const settings = await this.opts.store.get(chatId);
        if (isSummaryTime(settings, nowMs)) {
          const held = await this.opts.store.takeHeld(chatId);
          for (const m of dueSummaries([{ chatId, settings, held }], nowMs)) {
            try {
              await this.opts.send(m.chatId, m.html);
            } catch (err) {
              // Not sent: hold them again for the next sweep rather than lose them (unless the
              // chat is gone for good: delivery removed it).
              if (!(err instanceof DeliveryError && err.outcome === 'dropped')) {
                for (const alert of held) await this.opts.store.hold(chatId, alert).catch(() => {});
              }
              throw err;
            }
            summaries++;
          }
        }
        if (settings.fundingReminderMin !== null && !inQuietHours(settings.quietHours, nowMs)) {
          const symbols = await this.opts.subscriptions.listForChat(chatId);
          const venues = settings.venues ?? this.venues;
          const found = await Promise.all(symbols.flatMap((s) => venues.map((v) => latest(v, s))));
          const chat = { chatId, settings, snapshots: found.filter((s) => s !== null) };
          for (const r of dueReminders([chat], nowMs, this.reminded)) {
            await this.opts.send(r.chatId, r.html);
            for (const key of r.keys) this.remember(key, nowMs);
            reminders++;
          }
        }
      } catch (err) {
        failures++;
        this.opts.logger?.warn({ err: describeError(err), chatId }, 'schedules: sweep of a chat failed');
      }
    }
    return { chats: chatIds.length, summaries, reminders, failures };
  }

  private remember(key: string, nowMs: number): void {
    const settlementMs = Number(key.slice(key.lastIndexOf(':') + 1));
    this.reminded.set(key, isNum(settlementMs) ? settlementMs : nowMs);
    while (this.reminded.size > this.maxRemembered) {
      const oldest = this.reminded.keys().next().value;
      if (oldest === undefined) break;
      this.reminded.delete(oldest);
    }
  }

  /** Settlements in the past can never be due again. */
  private forget(nowMs: number): void {
    for (const [key, settlementMs] of this.reminded) if (settlementMs <= nowMs) this.reminded.delete(key);
  }

  /** Stops the timer and waits for a sweep in progress; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      this.timer = undefined;
      await this.running;
    })();
    return this.closing;
  }
}
