/**
 * A local stand-in for the Telegram Bot API (https://core.telegram.org/bots/api) on 127.0.0.1:0,
 * for component tests: grammY talks real HTTP to it through `client.apiRoot`. It implements the
 * few methods our bot uses, records every call, and can inject faults into the next call of a method.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Update, UserFromGetMe } from 'grammy/types';

export interface RecordedCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** `Date.now()` when the request arrived. */
  readonly atMs: number;
  /** HTTP status we answered with; 0 when the connection was dropped. */
  readonly status: number;
}

/** An injected answer: a status and Bot API body, or a dropped connection (grammY `HttpError`). */
export type Fault = { readonly status: number; readonly body?: unknown } | { readonly dropConnection: true };

export interface TelegramStandIn {
  /** `http://127.0.0.1:PORT`, for `new Bot(token, { client: { apiRoot } })`. */
  readonly apiRoot: string;
  readonly token: string;
  /** What `getMe` answers; pass it as `botInfo` to skip the call. */
  readonly botInfo: UserFromGetMe;
  /** Queues an update (an `update_id` is assigned) and wakes a pending long poll; returns the id. */
  pushUpdate(update: Omit<Update, 'update_id'>): number;
  /**
   * Queues a text message from `chatId`; a leading `/command` gets its `bot_command` entity.
   * The sender is the chat itself in a private chat, else user 1000 (or `fromId`).
   */
  sendText(chatId: number, text: string, fromId?: number): number;
  /** `sendText`, then waits for the bot's next answered `sendMessage` to that chat and returns it. */
  ask(chatId: number, text: string, fromId?: number): Promise<RecordedCall>;
  /**
   * Queues a `callback_query` (an inline button press) on the bot's message `messageId` in `chatId`;
   * returns the callback query id. The presser is the chat in a private chat, else user 1000 (or `fromId`).
   */
  pressButton(chatId: number, messageId: number, data: string, fromId?: number): string;
  /** Makes these users the administrators of a group (`getChatMember`, `getChatAdministrators`). */
  setAdmins(chatId: number, userIds: readonly number[]): void;
  /** The webhook set with `setWebhook` (empty after `deleteWebhook`), as `getWebhookInfo` reports it. */
  webhook(): { url: string; secretToken: string | undefined };
  /** Recorded calls, oldest first, optionally of one method. */
  calls(method?: string): RecordedCall[];
  /** Answered `sendMessage` calls, optionally to one chat. */
  sent(chatId?: number): RecordedCall[];
  /** Polls `predicate` every 10 ms until it returns a truthy value, which is returned. */
  waitFor<T>(predicate: () => T | null | undefined | false, timeoutMs?: number): Promise<T>;
  /** The next call of `method` gets this answer instead of the normal one (faults queue up). */
  failNext(method: string, fault: Fault): void;
  /** Long polls currently held open. */
  pendingPolls(): number;
  /** Ends pending long polls, closes every connection and the server; idempotent. */
  close(): Promise<void>;
}

interface PendingPoll {
  readonly res: http.ServerResponse;
  readonly offset: number;
  readonly limit: number;
  readonly timer: NodeJS.Timeout;
}

const BOT_USER = { id: 42, is_bot: true, first_name: 'Pulse', username: 'perp_pulse_test_bot' } as const;

/** `port`: a fixed one (a program already pointed at it, e.g. one that found it closed); default any free. */
export async function startTelegramStandIn(token = '123456:TEST-token', port = 0): Promise<TelegramStandIn> {
  const botInfo: UserFromGetMe = {
    ...BOT_USER,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
  const recorded: RecordedCall[] = [];
  const faults = new Map<string, Fault[]>();
  const updates: Update[] = [];
  const polls = new Set<PendingPoll>();
  let nextUpdateId = 1;
  let nextMessageId = 1;
  let nextCallbackId = 1;
  const admins = new Map<number, Set<number>>();
  let webhookUrl = '';
  let webhookSecret: string | undefined;
  const member = (chatId: number, userId: number) => ({
    status: chatId > 0 || admins.get(chatId)?.has(userId) ? 'administrator' : 'member',
    user: { id: userId, is_bot: false, first_name: 'Tester' },
    ...(chatId > 0 || admins.get(chatId)?.has(userId) ? { can_be_edited: false, is_anonymous: false } : {}),
  });
  let closing: Promise<void> | undefined;

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const ok = (res: http.ServerResponse, result: unknown) => json(res, 200, { ok: true, result });

  const chatOf = (id: number) =>
    id > 0
      ? { id, type: 'private' as const, first_name: 'Tester' }
      : { id, type: id < -1e12 ? ('supergroup' as const) : ('group' as const), title: 'Test group' };

  function takeUpdates(offset: number, limit: number): Update[] {
    // Telegram forgets every update below the offset: that is how a poller confirms them.
    while (updates.length > 0 && updates[0]!.update_id < offset) updates.shift();
    return updates.slice(0, limit);
  }

  function flushPolls(): void {
    for (const poll of polls) {
      const batch = takeUpdates(poll.offset, poll.limit);
      if (batch.length === 0) continue;
      clearTimeout(poll.timer);
      polls.delete(poll);
      ok(poll.res, batch);
    }
  }

  function getUpdates(params: Record<string, unknown>, res: http.ServerResponse): void {
    const offset = Number(params.offset ?? 0);
    const limit = Math.min(100, Number(params.limit ?? 100)) || 100;
    const timeoutSec = Number(params.timeout ?? 0);
    const batch = takeUpdates(offset, limit);
    if (batch.length > 0 || timeoutSec <= 0 || closing) {
      ok(res, batch);
      return;
    }
    const poll: PendingPoll = {
      res,
      offset,
      limit,
      timer: setTimeout(() => {
        polls.delete(poll);
        ok(res, []);
      }, timeoutSec * 1000),
    };
    polls.add(poll);
    res.on('close', () => {
      clearTimeout(poll.timer);
      polls.delete(poll);
    });
  }

  function answer(method: string, params: Record<string, unknown>, res: http.ServerResponse): number {
    switch (method) {
      case 'getMe':
        ok(res, botInfo);
        return 200;
      case 'deleteWebhook':
        webhookUrl = '';
        webhookSecret = undefined;
        ok(res, true);
        return 200;
      case 'setWebhook':
        webhookUrl = String(params.url ?? '');
        webhookSecret = params.secret_token === undefined ? undefined : String(params.secret_token);
        ok(res, true);
        return 200;
      case 'getWebhookInfo':
        ok(res, { url: webhookUrl, has_custom_certificate: false, pending_update_count: 0 });
        return 200;
      case 'setMyCommands':
      case 'answerCallbackQuery':
      case 'editMessageReplyMarkup':
        ok(res, true);
        return 200;
      case 'getChatMember': {
        ok(res, member(Number(params.chat_id), Number(params.user_id)));
        return 200;
      }
      case 'getChatAdministrators': {
        const chatId = Number(params.chat_id);
        ok(
          res,
          [...(admins.get(chatId) ?? [])].map((id) => member(chatId, id)),
        );
        return 200;
      }
      case 'editMessageText': {
        const chatId = Number(params.chat_id);
        const text = String(params.text ?? '');
        if (!Number.isFinite(chatId) || text.length === 0) {
          json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
          return 400;
        }
        const date = Math.floor(Date.now() / 1000);
        const messageId = Number(params.message_id);
        ok(res, { message_id: messageId, date, edit_date: date, chat: chatOf(chatId), from: BOT_USER, text });
        return 200;
      }
      case 'getUpdates':
        getUpdates(params, res);
        return 200;
      case 'sendMessage': {
        const chatId = Number(params.chat_id);
        const text = String(params.text ?? '');
        if (!Number.isFinite(chatId) || text.length === 0) {
          json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
          return 400;
        }
        if (text.length > 4096) {
          json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' });
          return 400;
        }
        const date = Math.floor(Date.now() / 1000);
        ok(res, { message_id: nextMessageId++, date, chat: chatOf(chatId), from: BOT_USER, text });
        return 200;
      }
      default:
        json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
        return 404;
    }
  }

  function handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (m === null) {
      json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const [, reqToken, method] = m as unknown as [string, string, string];
    const params = { ...Object.fromEntries(url.searchParams), ...parseBody(req, body) };
    const atMs = Date.now();
    if (reqToken !== token) {
      recorded.push({ method, params, atMs, status: 401 });
      json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const fault = faults.get(method)?.shift();
    if (fault !== undefined) {
      if ('dropConnection' in fault) {
        recorded.push({ method, params, atMs, status: 0 });
        req.socket.destroy();
        return;
      }
      recorded.push({ method, params, atMs, status: fault.status });
      const description = `Error ${fault.status}`;
      json(res, fault.status, fault.body ?? { ok: false, error_code: fault.status, description });
      return;
    }
    const status = answer(method, params, res);
    recorded.push({ method, params, atMs, status });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, Buffer.concat(chunks).toString('utf8'), res);
      } catch (err) {
        json(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${String(err)}` });
      }
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const listening = (server.address() as AddressInfo).port;

  const standIn: TelegramStandIn = {
    apiRoot: `http://127.0.0.1:${listening}`,
    token,
    botInfo,
    pushUpdate(update) {
      const full = { ...update, update_id: nextUpdateId++ } as Update;
      updates.push(full);
      flushPolls();
      return full.update_id;
    },
    sendText(chatId, text, fromId) {
      const command = /^\/\S+/.exec(text);
      const from = { id: fromId ?? (chatId > 0 ? chatId : 1000), is_bot: false, first_name: 'Tester' };
      return standIn.pushUpdate({
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: chatOf(chatId),
          from,
          text,
          ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
        },
      } as Omit<Update, 'update_id'>);
    },
    pressButton(chatId, messageId, data, fromId) {
      const id = String(nextCallbackId++);
      const from = { id: fromId ?? (chatId > 0 ? chatId : 1000), is_bot: false, first_name: 'Tester' };
      standIn.pushUpdate({
        callback_query: {
          id,
          from,
          chat_instance: `ci-${chatId}`,
          data,
          message: {
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: chatOf(chatId),
            from: BOT_USER,
            text: '(message)',
          },
        },
      } as Omit<Update, 'update_id'>);
      return id;
    },
    async ask(chatId, text, fromId) {
      const before = standIn.sent(chatId).length;
      standIn.sendText(chatId, text, fromId);
      return standIn.waitFor(() => standIn.sent(chatId)[before]);
    },
    setAdmins(chatId, userIds) {
      admins.set(chatId, new Set(userIds));
    },
    webhook: () => ({ url: webhookUrl, secretToken: webhookSecret }),
    calls: (method) => recorded.filter((c) => method === undefined || c.method === method),
    sent: (chatId) =>
      recorded.filter(
        (c) =>
          c.method === 'sendMessage' &&
          c.status === 200 &&
          (chatId === undefined || Number(c.params.chat_id) === chatId),
      ),
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = predicate();
        if (value) return value;
        if (Date.now() > deadline) {
          const last = recorded.slice(-5).map((c) => `${c.method}:${c.status}`);
          throw new Error(`waitFor timed out after ${timeoutMs} ms; last calls: ${last.join(', ')}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    failNext(method, fault) {
      faults.set(method, [...(faults.get(method) ?? []), fault]);
    },
    pendingPolls: () => polls.size,
    close() {
      closing ??= (async () => {
        for (const poll of polls) {
          clearTimeout(poll.timer);
          ok(poll.res, []);
        }
        polls.clear();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
  return standIn;
}

/** grammY sends JSON; form bodies are accepted too, with JSON-looking values decoded as Telegram does. */
function parseBody(req: http.IncomingMessage, body: string): Record<string, unknown> {
  if (body.length === 0) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  if (type.includes('application/x-www-form-urlencoded')) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(body)) {
      try {
        out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
      } catch {
        out[k] = v;
      }
    }
    return out;
  }
  return {};
}
