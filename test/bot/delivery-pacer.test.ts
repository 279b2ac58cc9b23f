import { describe, expect, it, vi } from 'vitest';
import { Pacer, type PacingOptions } from '../../src/bot/delivery-pacer.js';
import { fakeClock, useFakeTime } from './delivery-fixtures.js';

useFakeTime();

/** A pacer on fake time; `turn` waits one chat's turn and notes the send, returning its time. */
function pacer(opts: PacingOptions) {
  const p = new Pacer({ clock: fakeClock, ...opts });
  const t0 = Date.now();
  const paces = new Map<number, { nextSendAtMs: number }>();
  const turn = async (chatId: number): Promise<number | null> => {
    const pace = paces.get(chatId) ?? p.startPace(0);
    paces.set(chatId, pace);
    if (!(await p.wait(chatId, pace))) return null;
    p.sent(chatId, pace);
    return Date.now() - t0;
  };
  /** Sends `n` messages to the chat one after another; their times from the start. */
  const series = async (chatId: number, n: number) => {
    const at: (number | null)[] = [];
    for (let i = 0; i < n; i++) at.push(await turn(chatId));
    return at;
  };
  return { p, turn, series, paces };
}

describe('Pacer', () => {
  it('spaces one chat by minIntervalPerChatMs', async () => {
    const { series } = pacer({ minIntervalPerChatMs: 1000, minIntervalGlobalMs: 0 });
    const at = series(7, 3);
    await vi.runAllTimersAsync();
    expect(await at).toEqual([0, 1000, 2000]);
  });

  it('gives chats waiting for the global pace turns in arrival order, minIntervalGlobalMs apart', async () => {
    const { turn } = pacer({ minIntervalPerChatMs: 1000, minIntervalGlobalMs: 35 });
    const at = Promise.all([1, 2, 3, 4].map((chatId) => turn(chatId)));
    await vi.runAllTimersAsync();
    expect(await at).toEqual([0, 35, 70, 105]);
  });

  it('keeps a group to maxPerMinutePerGroup within groupWindowMs, and private chats unlimited by it', async () => {
    const opts = {
      minIntervalPerChatMs: 20,
      minIntervalGlobalMs: 0,
      maxPerMinutePerGroup: 3,
      groupWindowMs: 400,
    };
    const { series } = pacer(opts);
    const group = series(-5, 5);
    const privateChat = series(5, 5);
    await vi.runAllTimersAsync();
    expect(await group).toEqual([0, 20, 40, 400, 420]);
    expect(await privateChat).toEqual([0, 20, 40, 60, 80]);
  });

  it('after a failure waits the chat interval, or a longer back-off (retry_after)', async () => {
    const { p, turn, paces } = pacer({ minIntervalPerChatMs: 100, minIntervalGlobalMs: 0 });
    await turn(1);
    p.failed(paces.get(1)!);
    const afterFailure = turn(1);
    await vi.runAllTimersAsync();
    expect(await afterFailure).toBe(100);
    p.failed(paces.get(1)!);
    p.backOff(paces.get(1)!, 3000);
    const afterBackOff = turn(1);
    await vi.runAllTimersAsync();
    expect(await afterBackOff).toBe(100 + 3000);
  });

  it('stops a wait when asked once the chat interval has passed (an empty queue lets go)', async () => {
    const { p, turn, paces } = pacer({ minIntervalPerChatMs: 250, minIntervalGlobalMs: 0 });
    await turn(1);
    const waited = p.wait(1, paces.get(1)!, () => true);
    await vi.advanceTimersByTimeAsync(249);
    let result: boolean | undefined;
    void waited.then((ok) => (result = ok));
    await vi.advanceTimersByTimeAsync(0);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toBe(false);
  });

  it('close() ends every wait at once with false, refuses new ones, and leaves no timer', async () => {
    const { p, turn, paces } = pacer({ minIntervalPerChatMs: 60_000, minIntervalGlobalMs: 35 });
    await turn(1);
    const waiting = [turn(1), turn(2), turn(3)];
    await vi.advanceTimersByTimeAsync(0);
    p.close();
    p.close();
    expect(await Promise.all(waiting)).toEqual([null, null, null]);
    expect(await p.wait(9, paces.get(1)!)).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
