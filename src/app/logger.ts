import { type Logger, pino } from 'pino';

/**
 * One root logger: JSON lines, or pretty lines when its output is a terminal (and pino-pretty
 * is installed). Secrets are redacted wherever they appear under these keys. `fd` 2 sends the
 * logs to stderr, leaving stdout to a program's own output (`--report`).
 */
export function createLogger(level: string, pretty?: boolean, fd: 1 | 2 = 1): Logger {
  const options = {
    level,
    base: { app: 'perp-pulse' },
    redact: { paths: ['token', '*.token', 'password', '*.password', 'telegramBotToken'], censor: '***' },
  };
  if (pretty ?? (fd === 2 ? process.stderr : process.stdout).isTTY === true) {
    try {
      return pino({
        ...options,
        transport: {
          target: 'pino-pretty',
          options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', destination: fd },
        },
      });
    } catch {
      // pino-pretty missing (production image): fall through to JSON
    }
  }
  return pino(options, pino.destination({ dest: fd, sync: true }));
}
