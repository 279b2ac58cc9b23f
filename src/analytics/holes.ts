/**
 * Holes: spans of event time an instrument's feed did not cover (a disconnect, a restart, silence
 * in a recording), and the rule that decides when they make an OI delta untrustworthy. Pure.
 *
 * The rule (the README's "Gaps" section copies it): a delta over window W read at `now` compares
 * with the value in effect at its start instant S. `gapMs` is the hole time overlapping [S, now].
 * The delta is `gap: true` when
 *  - its start value is stale: S lies inside a hole and more than one resolution step after the
 *    hole's start (the value read there is the one from before the hole), or
 *  - its end value is stale: a hole is still open at `now` and began more than a step before, or
 *  - the holes hide more than `GAP_HIDDEN_SHARE_MAX` of the window: a change whose endpoints
 *    straddle a 10-minute hole says nothing about "in 15 minutes".
 * So a 24h delta across a 20 s restart is valid (gapMs 20000, 0.02% hidden), and a 15m delta
 * starting inside, or straddling, a 10-minute hole is not.
 */

/** `toTs` is null while the hole is open (no event since it began). */
export interface FeedHole {
  readonly fromTs: number;
  toTs: number | null;
}

/** Holes kept per instrument; beyond it the two oldest merge (wider, so never trusted more). */
export const MAX_HOLES = 16;

/** Share of a window that holes may hide before its delta is untrustworthy. */
export const GAP_HIDDEN_SHARE_MAX = 0.1;

/** Opens a hole at `fromTs` unless one is open already. */
export function openHole(holes: FeedHole[], fromTs: number): void {
  const last = holes[holes.length - 1];
  if (last !== undefined && last.toTs === null) return;
  if (holes.length >= MAX_HOLES) {
    const [a, b] = holes;
    holes.splice(0, 2, { fromTs: a!.fromTs, toTs: b!.toTs });
  }
  holes.push({ fromTs, toTs: null });
}

/**
 * Closes the open hole at `toTs` (an empty one is dropped) and forgets holes that ended before
 * `horizonTs`, where no window can reach any more. Returns the closed hole's end, or null.
 */
export function closeHole(holes: FeedHole[], toTs: number, horizonTs: number): number | null {
  const last = holes[holes.length - 1];
  let closed: number | null = null;
  if (last !== undefined && last.toTs === null) {
    if (toTs > last.fromTs) {
      last.toTs = toTs;
      closed = toTs;
    } else holes.pop();
  }
  forgetBefore(holes, horizonTs);
  return closed;
}

/** Drops the holes that ended before `horizonTs` (cheap when there is nothing to drop). */
export function forgetBefore(holes: FeedHole[], horizonTs: number): void {
  let n = 0;
  while (n < holes.length && holes[n]!.toTs !== null && holes[n]!.toTs! < horizonTs) n++;
  if (n > 0) holes.splice(0, n);
}

/**
 * Hole time inside [startTs, nowTs], ms, and whether it makes the delta untrustworthy (see the
 * rule above). Callers skip it when there are no holes, so a complete window costs nothing.
 */
export function holeVerdict(
  holes: readonly FeedHole[],
  startTs: number,
  nowTs: number,
  windowMs: number,
  resolutionMs: number,
): { readonly gapMs: number; readonly gap: boolean } {
  let gapMs = 0;
  let stale = false;
  for (const h of holes) {
    const toTs = h.toTs ?? nowTs;
    const lo = Math.max(h.fromTs, startTs);
    const hi = Math.min(toTs, nowTs);
    if (hi > lo) gapMs += hi - lo;
    // The value read at the start is the one from before the hole.
    if (startTs > h.fromTs && startTs < toTs && startTs - h.fromTs > resolutionMs) stale = true;
    // Nothing arrived since the hole began: the latest value is as old as the hole.
    if (h.toTs === null && nowTs - h.fromTs > resolutionMs) stale = true;
  }
  return { gapMs, gap: stale || gapMs > GAP_HIDDEN_SHARE_MAX * windowMs };
}

/**
 * Whether a hole covers some time in (fromTs, toTs); an open hole reaches to `toTs` (a hole opened
 * at `toTs` itself has hidden nothing yet, as a restored checkpoint's right after the restore).
 */
export function holesOverlap(holes: readonly FeedHole[], fromTs: number, toTs: number): boolean {
  for (const h of holes) {
    if ((h.toTs ?? toTs) > fromTs && h.fromTs < toTs) return true;
  }
  return false;
}
