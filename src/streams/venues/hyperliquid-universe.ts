/**
 * Which Hyperliquid perps to follow: the main dex's listed (not delisted) coins, either the
 * configured SYMBOLS or the top N by 24h notional volume.
 * https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/perpetuals
 * `POST /info {"type":"metaAndAssetCtxs"}` answers `[meta, ctxs]` with `ctxs[i]` belonging to
 * `meta.universe[i]`; delisted coins stay in the universe with `isDelisted: true`.
 * Weight 20 of the 1200 per minute per IP
 * (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits-and-user-limits).
 */
import { finite, isRecord } from '../core/fields.js';
import { type FetchUniverse, selectUniverse, type UniverseEntry } from '../core/universe.js';
import { hyperliquidSymbol } from './hyperliquid.js';

interface UniverseRow {
  readonly name?: unknown;
  readonly isDelisted?: unknown;
}

export const fetchHyperliquidUniverse: FetchUniverse = async (restUrl, want, timeoutMs) => {
  const url = `${restUrl}/info`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'metaAndAssetCtxs' }),
    signal: AbortSignal.timeout(timeoutMs ?? 10_000),
  });
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    throw new Error(`POST ${url} metaAndAssetCtxs: HTTP ${res.status} ${text.slice(0, 200)}`.trimEnd());
  }
  const body: unknown = await res.json();
  const [meta, ctxs] = Array.isArray(body) ? body : [];
  if (!isRecord(meta) || !Array.isArray(meta.universe) || !Array.isArray(ctxs))
    throw new Error(`POST ${url} metaAndAssetCtxs: not [meta, ctxs]`);
  if (meta.universe.length !== ctxs.length)
    throw new Error(
      `POST ${url} metaAndAssetCtxs: ${meta.universe.length} coins but ${ctxs.length} contexts`,
    );
  const all: UniverseEntry[] = [];
  (meta.universe as UniverseRow[]).forEach((row, i) => {
    if (!isRecord(row) || typeof row.name !== 'string' || row.isDelisted === true) return;
    const symbol = hyperliquidSymbol(row.name);
    if (symbol === null) return;
    const ctx: unknown = ctxs[i];
    const turnover = isRecord(ctx) ? finite(ctx.dayNtlVlm) : undefined;
    all.push({
      symbol,
      instrument: row.name,
      fundingIntervalHours: 1,
      ...(turnover !== undefined ? { turnover24hUsd: turnover } : {}),
    });
  });
  return selectUniverse(all, want);
};
