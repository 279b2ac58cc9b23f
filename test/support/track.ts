import { afterEach } from 'vitest';

/** Anything with a close (servers, pipelines, buses, bots, simulators); sync or async. */
export interface Closable {
  close(): unknown;
}

/**
 * A cleanup list for one test file: `const track = tracker();` at the top, then
 * `const sim = track(await startSimulator())` in a test. After each test every tracked resource is
 * closed, last opened first, even when the test failed; a close that throws fails the test after
 * the others were closed, so a leak is never hidden behind another error.
 */
export function tracker(): <T extends Closable>(resource: T) => T {
  const open: Closable[] = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const r of open.splice(0).reverse()) {
      try {
        await r.close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'close failed');
  });
  return <T extends Closable>(resource: T): T => {
    open.push(resource);
    return resource;
  };
}
