import { describe, expect, it } from 'vitest';
import { OiRearmWatch } from '../../src/app/oi-rearm-watch.js';

describe('OiRearmWatch', () => {
  it('re-arms the up side on a drain and the down side on a surge, each level once', () => {
    const w = new OiRearmWatch<string>();
    expect(w.rearms('A', 0)).toBe(false); // nothing fired
    w.fired('A', 'up', 1.5); // server 3%
    w.fired('A', 'up', 0.5); // chat level 1%
    w.fired('A', 'up', 0.5); // the same level again: one entry
    expect(w.rearms('A', 2)).toBe(false); // still above both
    expect(w.rearms('A', 1)).toBe(true); // below the server's re-arm level
    expect(w.rearms('A', 1)).toBe(false); // already passed
    expect(w.rearms('A', -4)).toBe(true); // a drain re-arms the chat level's up side too
    expect(w.rearms('A', -4)).toBe(false);
    w.fired('A', 'down', 1.5);
    expect(w.rearms('A', -2)).toBe(false);
    expect(w.rearms('A', 4)).toBe(true); // a surge re-arms the down side
    expect(w.rearms('B', 4)).toBe(false);
  });
});
