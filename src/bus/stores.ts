import type { Logger } from 'pino';
import { AlertStreamConsumer, type AlertStreamConsumerOptions, RedisDeliveryLedger } from './alert-stream.js';
import { MemoryChatSettingsStore, RedisChatSettingsStore } from './chat-settings-store.js';
import { RedisBus } from './redis-bus.js';
import { MemorySubscriptionStore, RedisSubscriptionStore } from './subscription-store.js';
import type { Bus, ChatSettingsStore, SubscriptionStore } from './types.js';

/**
 * The Redis a bus keeps its state in (alert-rule state, checkpoints, the alert stream), or null for
 * the in-process bus, whose state ends with the process and is seen by no other one.
 */
export function sharedRedis(bus: Bus): { readonly url: string; readonly prefix: string } | null {
  return bus instanceof RedisBus ? { url: bus.url, prefix: bus.names.prefix } : null;
}

/** What the bot's alert source needs from the caller: the handler, and this bot's consumer name. */
export type AlertConsumerOptions = Pick<AlertStreamConsumerOptions, 'handle' | 'consumer'>;

/**
 * The bot's state, kept where the bus keeps its own: in Redis next to it (each store with a
 * connection of its own, so a blocked read never holds up another), or in this process's memory.
 */
export interface BotStores {
  /** Which chats want which symbols. */
  readonly subscriptions: SubscriptionStore;
  /** Per-chat settings, mutes and quiet-hour holds. */
  readonly chatSettings: ChatSettingsStore;
  /**
   * Which chats each alert reached, so a restarted bot sends nothing twice. Redis only: in memory
   * a restart loses the alerts too, so there is nothing to repeat.
   */
  readonly deliveryLedger: RedisDeliveryLedger | undefined;
  /**
   * Redis: a consumer of the `{prefix}:alerts` stream (not started), which acknowledges an alert
   * once handled, so the bot may restart or run as a process of its own without losing one.
   * Memory: null; the processor in this process hands alerts over directly.
   */
  alertConsumer(options: AlertConsumerOptions): AlertStreamConsumer | null;
  /** Closes the stores (the ledger first); an alert consumer is closed by whoever started it. */
  close(): Promise<void>;
}

/** The bot's stores for `bus`: in the Redis it writes to, or in memory for the in-process bus. */
export function createStores(bus: Bus, logger: Logger): BotStores {
  const redis = sharedRedis(bus);
  if (redis === null) {
    const subscriptions = new MemorySubscriptionStore();
    const chatSettings = new MemoryChatSettingsStore();
    return {
      subscriptions,
      chatSettings,
      deliveryLedger: undefined,
      alertConsumer: () => null,
      close: async () => {
        await chatSettings.close();
        await subscriptions.close();
      },
    };
  }
  const { url, prefix } = redis;
  const subscriptions = new RedisSubscriptionStore(url, logger.child({ component: 'subscriptions' }), {
    prefix,
  });
  const deliveryLedger = new RedisDeliveryLedger(url, logger, prefix);
  const chatSettings = new RedisChatSettingsStore(url, logger.child({ component: 'chat-settings' }), {
    prefix,
  });
  return {
    subscriptions,
    chatSettings,
    deliveryLedger,
    alertConsumer: (options) =>
      new AlertStreamConsumer({
        url,
        prefix,
        logger: logger.child({ component: 'alert-stream' }),
        handle: options.handle,
        ...(options.consumer !== undefined ? { consumer: options.consumer } : {}),
      }),
    close: async () => {
      await deliveryLedger.close();
      await chatSettings.close();
      await subscriptions.close();
    },
  };
}
