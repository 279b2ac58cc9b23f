import { Api, GrammyError, HttpError } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asTelegramError,
  classifyTelegramError,
  describeError,
  isNotModified,
} from '../../src/bot/telegram-errors.js';
import { type Fault, startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.js';

function tgError(error_code: number, description: string, parameters = {}): GrammyError {
  return new GrammyError(
    'Call to sendMessage failed!',
    { ok: false, error_code, description, parameters },
    'sendMessage',
    {},
  );
}
const networkError = () =>
  new HttpError("Network request for 'sendMessage' failed!", new Error('ECONNRESET'));

describe('classifyTelegramError', () => {
  it.each([
    [tgError(429, 'Too Many Requests: retry after 5', { retry_after: 5 }), 'retry'],
    [tgError(502, 'Bad Gateway'), 'retry'],
    [networkError(), 'retry'],
    [tgError(403, 'Forbidden: bot was blocked by the user'), 'drop-chat'],
    [tgError(403, 'Forbidden: user is deactivated'), 'drop-chat'],
    [tgError(403, 'Forbidden: bot was kicked from the supergroup chat'), 'drop-chat'],
    [tgError(400, 'Bad Request: chat not found'), 'drop-chat'],
    [
      tgError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
        migrate_to_chat_id: -1001,
      }),
      'migrate',
    ],
    [tgError(400, "Bad Request: can't parse entities: unsupported start tag"), 'bug'],
    [tgError(400, 'Bad Request: message is too long'), 'bug'],
    [tgError(401, 'Unauthorized'), 'bug'],
    [new TypeError('x is undefined'), 'bug'],
  ] as const)('%s → %s', (err, action) => {
    expect(classifyTelegramError(err)).toBe(action);
  });

  it('goes by class, not by shape: a look-alike of a Telegram answer or of HttpError is our bug', () => {
    const lookAlike = { ok: false, error_code: 429, description: 'Too Many Requests', parameters: {} };
    const namedHttpError = Object.assign(new Error('fetch failed'), { name: 'HttpError' });
    expect(classifyTelegramError(lookAlike)).toBe('bug');
    expect(asTelegramError(lookAlike)).toBeNull();
    expect(classifyTelegramError(namedHttpError)).toBe('bug');
  });

  it('redacts the bot token from logged errors', () => {
    const err = new HttpError('failed', new Error('request to http://x/bot123:SECRET/sendMessage failed'));
    expect(JSON.stringify(describeError(err))).not.toContain('SECRET');
  });
});

describe('errors grammY throws against the Bot API stand-in', () => {
  let telegram: TelegramStandIn;
  let api: Api;
  beforeAll(async () => {
    telegram = await startTelegramStandIn('123456:ERRORS-test-token');
    api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
  });
  afterAll(async () => {
    await telegram.close();
  });

  /** What grammY throws when the next sendMessage gets this answer. */
  async function thrownBy(fault: Fault): Promise<unknown> {
    telegram.failNext('sendMessage', fault);
    return api.sendMessage(1, 'hello').then(
      () => expect.unreachable('the send should have failed'),
      (err: unknown) => err,
    );
  }
  const answer = (error_code: number, description: string, parameters?: object) => ({
    status: error_code,
    body: { ok: false, error_code, description, ...(parameters ? { parameters } : {}) },
  });

  it.each([
    [answer(429, 'Too Many Requests: retry after 3', { retry_after: 3 }), 'retry'],
    [answer(502, 'Bad Gateway'), 'retry'],
    [answer(403, 'Forbidden: bot was blocked by the user'), 'drop-chat'],
    [answer(400, 'Bad Request: chat not found'), 'drop-chat'],
    [answer(400, 'Bad Request: group chat was upgraded', { migrate_to_chat_id: -100_123 }), 'migrate'],
    [answer(400, "Bad Request: can't parse entities"), 'bug'],
  ] as const)('a %j answer is a GrammyError → %s', async (fault, action) => {
    const err = await thrownBy(fault);
    expect(err).toBeInstanceOf(GrammyError);
    expect(classifyTelegramError(err)).toBe(action);
    expect(asTelegramError(err)?.error_code).toBe(fault.status);
  });

  it('keeps retry_after and migrate_to_chat_id from the answer', async () => {
    const limited = asTelegramError(await thrownBy(answer(429, 'Too Many Requests', { retry_after: 7 })));
    expect(limited?.parameters.retry_after).toBe(7);
    const moved = asTelegramError(
      await thrownBy(answer(400, 'Bad Request: upgraded', { migrate_to_chat_id: -100_77 })),
    );
    expect(moved?.parameters.migrate_to_chat_id).toBe(-100_77);
  });

  it('a dropped connection is an HttpError → retry, logged without the token', async () => {
    const err = await thrownBy({ dropConnection: true });
    expect(err).toBeInstanceOf(HttpError);
    expect(classifyTelegramError(err)).toBe('retry');
    expect(asTelegramError(err)).toBeNull();
    expect(JSON.stringify(describeError(err))).not.toContain('ERRORS-test-token');
  });

  it('isNotModified knows the 400 of an edit that changes nothing', async () => {
    telegram.failNext('editMessageText', answer(400, 'Bad Request: message is not modified'));
    const err = await api.editMessageText(1, 1, 'same').catch((e: unknown) => e);
    expect(isNotModified(err)).toBe(true);
    expect(isNotModified(await thrownBy(answer(400, 'Bad Request: chat not found')))).toBe(false);
  });
});
