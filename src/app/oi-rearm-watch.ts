/**
 * The pipeline's memory for its 15m OI pre-check between rule steps: which sides of an
 * instrument's `oi_change_15m` rules (server threshold and chat levels) fired and wait to re-arm,
 * so that the moment the move is over the rules run at once (a new jump seconds later is a new
 * alert) instead of at the next step. Bounded by the keys the caller uses (its instruments).
 */
export class OiRearmWatch<K> {
  /** Per key and direction, the re-arm levels (percent, positive) of the thresholds that fired. */
  private readonly waiting = new Map<K, { up: number[]; down: number[] }>();

  /** A 15m OI alert fired on `direction`; its rule re-arms below `rearmLevelPct` (that side's figure). */
  fired(key: K, direction: 'up' | 'down', rearmLevelPct: number): void {
    let sides = this.waiting.get(key);
    if (sides === undefined) {
      sides = { up: [], down: [] };
      this.waiting.set(key, sides);
    }
    // At most one entry per threshold: the list is as long as the thresholds evaluated.
    if (!sides[direction].includes(rearmLevelPct)) sides[direction].push(rearmLevelPct);
  }

  /**
   * Whether the signed 15m OI change `pct` re-arms a side that fired: the up side below +level
   * (a drain does), the down side above −level. Forgets the levels it passed.
   */
  rearms(key: K, pct: number): boolean {
    const sides = this.waiting.get(key);
    if (sides === undefined) return false;
    const up = keepAtOrAbove(sides.up, pct);
    const down = keepAtOrAbove(sides.down, -pct);
    if (up === sides.up && down === sides.down) return false;
    if (up.length === 0 && down.length === 0) this.waiting.delete(key);
    sides.up = up;
    sides.down = down;
    return true;
  }
}

/** The levels `figure` has not fallen below; the same array (nothing allocated) when none was passed. */
function keepAtOrAbove(levels: number[], figure: number): number[] {
  for (const level of levels) {
    if (figure < level) return levels.filter((l) => !(figure < l));
  }
  return levels;
}
