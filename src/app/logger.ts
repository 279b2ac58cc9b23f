import { type Logger, pino } from 'pino';

/**
 * One root logger: JSON lines, or pretty lines when stdout is a terminal (and pino-pretty
 * is installed). Secrets are redacted wherever they appear under these keys.
 */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  const options = {
    level,
    base: { app: 'perp-pulse' },
    redact: { paths: ['token', '*.token', 'password', '*.password', 'telegramBotToken'], censor: '***' },
  };
  if (pretty) {
    try {
      return pino({
        ...options,
        transport: {
          target: 'pino-pretty',
          options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' },
        },
      });
    } catch {
      // pino-pretty missing (production image): fall through to JSON
    }
  }
  return pino(options);
}
