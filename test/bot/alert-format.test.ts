import { describe, expect, it } from 'vitest';
import { alertKeyboard, formatAlert, formatMergedAlerts, splitMessage } from '../../src/bot/alert-format.js';
import { ALERT_KINDS, type AlertJson, type AlertKind, type SnapshotJson } from '../../src/domain/types.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOUR_MS = 3_600_000;

const snapshot: SnapshotJson = {
  v: 1,
  venue: 'bybit',
  symbol: 'SOL',
  instrument: 'SOLUSDT',
  ts: NOW - 2_000,
  price: { mark: 178.52 },
  oi: {
    base: 3_620_000,
    usd: 646e6,
    delta15m: { base: 124_863, usd: 22.3e6, pct: 3.57 },
    delta24h: { base: -50_000, usd: -8.9e6, pct: -1.4 },
  },
  funding: {
    rate: 0.0001,
    intervalHours: 8,
    hourly: 0.0000125,
    aprPct: 10.95,
    nextFundingTime: NOW + 3 * HOUR_MS + 12 * 60_000,
  },
};

const base = (kind: AlertKind, over: Partial<AlertJson> = {}): AlertJson => ({
  v: 1,
  id: `${kind}:bybit:SOL:${NOW}`,
  kind,
  venue: 'bybit',
  symbol: 'SOL',
  ts: NOW,
  text: 'plain',
  thresholdPct: 3,
  delta: snapshot.oi.delta15m,
  windowMs: kind === 'oi_change_24h' ? 24 * HOUR_MS : 15 * 60_000,
  snapshot,
  ...over,
});

/** Figures of each kind, as the alert engine names them. */
const FIGURES: Record<AlertKind, AlertJson['figures']> = {
  oi_change_15m: { deltaPct: 3.57 },
  oi_change_24h: { deltaPct: -1.4 },
  funding_pressure: { aprPct: 54.75, pressure: 'high', previousPressure: 'elevated' },
  funding_interval_change: { intervalHoursBefore: 8, intervalHoursAfter: 1 },
  funding_at_bound: { atBound: 'cap' },
  control_flip: { control: 'longs_opening', previousControl: 'shorts_opening' },
  momentum_spike: { oiAccel: 3.4, priceChange15mPct: 2.1 },
  liquidation_cascade: {
    side: 'shorts',
    sideUsd: 12.4e6,
    longUsd: 0.8e6,
    shortUsd: 12.4e6,
    longBase: 4_480,
    shortBase: 69_460,
    pctOfOi: 1.92,
    count: 41,
    coverage: 'complete',
    partial: false,
  },
};

const ALLOWED_TAG = /<\/?(b|i|code)>/g;
/** No markup but ours, and every `&` starts an entity: what Telegram's HTML parser accepts. */
function expectSafeHtml(html: string): void {
  const text = html.replace(ALLOWED_TAG, '');
  expect(text).not.toMatch(/[<>]/);
  expect(text).not.toMatch(/&(?!(amp|lt|gt|quot|#\d+);)/);
}

/** Every value a venue or Redis could smuggle markup through. */
function hostile(kind: AlertKind): AlertJson {
  const evil = '<b>&evil</b>';
  return base(kind, {
    symbol: '1000PEPE',
    venue: evil,
    figures: Object.fromEntries(
      Object.entries(FIGURES[kind] ?? {}).map(([k, v]) => [k, typeof v === 'string' ? evil : v]),
    ),
    snapshot: {
      ...snapshot,
      symbol: '1000PEPE',
      venue: evil,
      instrument: evil,
      funding: { ...snapshot.funding, hint: `${evil} hedge`, pressure: 'high', atBound: 'cap' },
      control: { '15m': 'longs_opening', '24h': evil as never },
      momentum: { priceChange15mPct: 2.1, priceChange24hPct: null, oiAccel: 3.4, state: evil as never },
      freshness: {
        priceTs: NOW,
        oiTs: NOW,
        fundingTs: NOW,
        maxInputAgeMs: 40_000,
        stale: true,
        staleVenues: [evil],
      },
    },
  });
}

describe('formatAlert', () => {
  it.each(ALERT_KINDS)('%s: escapes every dynamic value and keeps the symbol as is', (kind) => {
    const html = formatAlert(hostile(kind), NOW);
    expectSafeHtml(html);
    expect(html).toContain('&lt;b&gt;&amp;evil&lt;/b&gt;');
    expect(html.split('\n')[0]).toMatch(/^<b>🚨 1000PEPE .+ · &lt;b&gt;&amp;evil&lt;\/b&gt;<\/b>$/);
  });

  it.each(ALERT_KINDS)('%s: has its own title and the funding line', (kind) => {
    const html = formatAlert(base(kind, { figures: FIGURES[kind] }), NOW);
    const title = html.split('\n')[0]!;
    const titles = ALERT_KINDS.filter((k) => k !== kind).map(
      (k) => formatAlert(base(k, { figures: FIGURES[k] }), NOW).split('\n')[0],
    );
    expect(titles).not.toContain(title);
    expect(html).toContain('Funding +0.0100% / 8h · 10.95% APR · longs pay shorts · reset in 3h 12m');
    expect(html).toContain('Mark $178.52');
  });

  it('shows the tokens with their value, then the OI value change with its causes', () => {
    const alert = base('oi_change_15m', {
      delta: { base: 124_863, usd: 22.3e6, pct: 3.57, positionUsd: 18.1e6, priceEffectUsd: 4.2e6 },
    });
    const lines = formatAlert(alert, NOW).split('\n');
    expect(lines[0]).toBe('<b>🚨 SOL OI surge · bybit</b>');
    expect(lines[1]).toBe('🟢 +124,863 SOL (+$18.1M) · +3.57% in 15m');
    expect(lines[2]).toBe('↳ OI value +$22.3M (positions +$18.1M, price effect +$4.20M)');
  });

  it('names a drop, the 24h window and the aggregate venue', () => {
    const drop = base('oi_change_24h', {
      venue: 'all',
      delta: { base: -50_000, usd: -8.9e6, pct: -4.2 },
      severity: 'warning',
    });
    const lines = formatAlert(drop, NOW).split('\n');
    expect(lines[0]).toBe('<b>⚠️ SOL 24h OI drop · all venues</b>');
    // Without the split, the tokens are valued at the snapshot's mark ($178.52).
    expect(lines[1]).toBe('🔴 -50,000 SOL (-$8.93M) · -4.20% in 24h');
    expect(lines[2]).toBe('↳ OI value -$8.90M');
  });

  it('reads the figures of each kind, and falls back to the snapshot without them', () => {
    const text = (kind: AlertKind, figures?: AlertJson['figures']) =>
      formatAlert(base(kind, figures ? { figures } : {}), NOW);
    expect(text('funding_interval_change', FIGURES.funding_interval_change)).toContain(
      'Funding interval 8h → 1h',
    );
    expect(text('funding_interval_change')).toContain('Funding interval now 8h');
    expect(text('control_flip', FIGURES.control_flip)).toContain(
      'Control 15m: shorts opening → longs opening',
    );
    expect(text('momentum_spike', FIGURES.momentum_spike)).toContain(
      'OI pace 3.4× usual · price +2.10% in 15m',
    );
    expect(text('funding_pressure', FIGURES.funding_pressure)).toContain('Pressure elevated → high');
    expect(text('funding_at_bound', FIGURES.funding_at_bound).split('\n')[0]).toBe(
      '<b>🚨 SOL funding at cap · bybit</b>',
    );
  });

  it('adds the hint, the annual cost, control and momentum lines only when the snapshot has them', () => {
    const bare = formatAlert(base('funding_pressure'), NOW);
    expect(bare).not.toMatch(/💡|Control|Momentum|\$10k/);
    const rich = formatAlert(
      base('funding_pressure', {
        snapshot: {
          ...snapshot,
          funding: {
            ...snapshot.funding,
            hint: 'Longs pay 11% a year: a short earns it',
            annualCostUsdPer10kLong: 1100,
          },
          control: { '15m': 'short_covering', '24h': 'longs_opening' },
          momentum: { priceChange15mPct: 1.2, priceChange24hPct: 3, oiAccel: 2.1, state: 'accelerating' },
        },
      }),
      NOW,
    );
    expect(rich).toContain('💡 <i>Longs pay 11% a year: a short earns it</i>');
    expect(rich).toContain('A $10k long pays ~$1.10K a year');
    expect(rich).toContain('Control 15m: short covering · 24h: longs opening');
    expect(rich).toContain('Momentum accelerating · OI pace 2.1× usual · price +1.20% in 15m');
  });

  it('marks severity and escalation', () => {
    const marks = (['info', 'warning', 'critical'] as const).map((severity) =>
      formatAlert(base('oi_change_15m', { severity }), NOW).split('\n')[0]!.slice(3, 5),
    );
    expect(new Set(marks).size).toBe(3);
    expect(formatAlert(base('oi_change_15m', { escalated: true }), NOW).split('\n')[0]).toBe(
      '<b>🚨 SOL OI surge · bybit</b> · ⏫ escalated',
    );
    expect(formatAlert(base('oi_change_15m'), NOW)).not.toContain('escalated');
  });
});

describe('formatMergedAlerts', () => {
  it('is a header with the count, then one escaped line per alert, newest last', () => {
    const alerts = [
      base('momentum_spike', { ts: NOW + 2, figures: FIGURES.momentum_spike }),
      hostile('funding_pressure'),
      base('oi_change_15m', { ts: NOW - 5, symbol: 'BTC' }),
    ];
    const lines = formatMergedAlerts(alerts, NOW).split('\n');
    expect(lines[0]).toBe('<b>📬 3 alerts</b>');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(
      '🚨 <b>BTC</b> OI surge · bybit: 🟢 +3.57% in 15m · +124,863 BTC (+$22.3M) · OI value +$22.3M',
    );
    expect(lines[2]).toContain('<b>1000PEPE</b> funding pressure');
    expect(lines[3]).toContain('<b>SOL</b> momentum spike');
    expectSafeHtml(lines.join('\n'));
  });
});

describe('alertKeyboard', () => {
  it('offers mute for 1h and 24h with the exact callback data', () => {
    expect(alertKeyboard('1000pepe')).toEqual({
      inline_keyboard: [
        [
          { text: '🔕 Mute 1h', callback_data: 'mute:1000PEPE:1h' },
          { text: '🔕 Mute 24h', callback_data: 'mute:1000PEPE:24h' },
        ],
      ],
    });
  });

  it('gives no keyboard for a symbol callback data cannot carry', () => {
    expect(alertKeyboard('BT:C')).toBeNull();
    expect(alertKeyboard('X'.repeat(60))).toBeNull();
  });
});

/** A small deterministic PRNG (mulberry32), so the generated messages are the same every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomHtml(rand: () => number): string {
  const words = ['BTC', '&amp;', '&lt;b&gt;', '🟢', '+3.57%', 'longs', '$22.3M', '&#39;', 'x'];
  const word = () => words[Math.floor(rand() * words.length)]!;
  const run = (n: number) => Array.from({ length: n }, word).join(' ');
  const lines: string[] = [];
  const count = 5 + Math.floor(rand() * 60);
  for (let i = 0; i < count; i++) {
    const r = rand();
    const len = rand() < 0.1 ? 200 + Math.floor(rand() * 400) : 1 + Math.floor(rand() * 12);
    if (r < 0.2) lines.push(`<b>${run(len)}</b> ${run(3)}`);
    else if (r < 0.3) lines.push(`<i>${run(2)} <code>${run(len)}</code> ${run(2)}</i>`);
    else if (r < 0.35) lines.push('');
    else if (r < 0.45)
      lines.push(`<b>${run(2)}`, run(len), `${run(1)}</b>`); // a tag spanning lines
    else lines.push(run(len));
  }
  return lines.join('\n');
}

/** Each part is valid alone: tags balanced and never cut, entities whole. */
function expectValidPart(part: string): void {
  const stack: string[] = [];
  for (const m of part.matchAll(/<(\/?)([a-z]+)>/g)) {
    if (m[1] === '') stack.push(m[2]!);
    else expect(stack.pop()).toBe(m[2]);
  }
  expect(stack).toEqual([]);
  expectSafeHtml(part);
  expect(part.replace(/<[^<>]+>/g, '').trim()).not.toBe('');
}

const textOf = (html: string) => html.replace(/<[^<>]+>/g, '').replace(/\n/g, '');

describe('splitMessage', () => {
  it('returns a short message unchanged', () => {
    expect(splitMessage('<b>hi</b>\nthere', 4000)).toEqual(['<b>hi</b>\nthere']);
  });

  it('cuts at line boundaries when lines fit', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `<b>line ${i}</b> ${'x'.repeat(20)}`);
    const parts = splitMessage(lines.join('\n'), 200);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((p) => p.split('\n'))).toEqual(lines);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(200);
  });

  it('never exceeds the limit, never cuts a tag or an entity, and loses no text', () => {
    const rand = prng(42);
    for (let round = 0; round < 200; round++) {
      const html = randomHtml(rand);
      const maxChars = [80, 150, 500, 4000][round % 4]!;
      const parts = splitMessage(html, maxChars);
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(maxChars);
        expectValidPart(part);
      }
      expect(textOf(parts.join(''))).toBe(textOf(html));
    }
  });

  it('cuts one over-long line between characters, keeping emoji and entities whole', () => {
    const line = `<b>${'🟢&amp;'.repeat(300)}</b>`;
    const parts = splitMessage(line, 100);
    expect(parts.length).toBeGreaterThan(20);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(100);
      expect(part).toMatch(/^<b>(🟢|&amp;)+<\/b>$/);
    }
    expect(textOf(parts.join(''))).toBe(textOf(line));
  });
});
