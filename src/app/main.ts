import type { Logger } from 'pino';
import { startApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { ReplayRefusedError } from './replay-guard.js';
import { describeUnknown, unknownSettings } from './unknown-env.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`perp-pulse: bad setting ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // With --report, stdout is the report alone (`> report.txt`); the logs go to stderr.
  const reporting = config.mode.kind === 'replay' && config.mode.report === true;
  const logger: Logger = createLogger(config.logLevel, undefined, reporting ? 2 : 1);
  const unknown = unknownSettings(process.env);
  if (unknown.length > 0) {
    logger.warn(
      { variables: unknown.map((u) => u.name) },
      `set but not perp-pulse settings, so ignored: ${describeUnknown(unknown)}`,
    );
  }
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting so the supervisor restarts the process');
    setTimeout(() => process.exit(1), 200).unref();
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });

  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`perp-pulse: bad setting ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ReplayRefusedError) {
      process.stderr.write(`perp-pulse: ${err.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err }, 'could not start');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  if (config.mode.kind === 'replay') {
    await app.done;
    await app.close();
    process.exit(0);
  }
}

main().catch((err) => {
  process.stderr.write(`perp-pulse: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
