import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Human-readable lines (pino-pretty) instead of JSON: for a person watching `npm start` in a terminal. */
  pretty?: boolean;
}

/** Structured JSON logs. Secrets that might appear in logged objects are redacted. */
export function createLogger(level: LevelWithSilent = 'info', opts: LoggerOptions = {}): Logger {
  return pino({
    level,
    base: { service: 'dapple-hub' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.secret'],
      censor: '[redacted]',
    },
    ...(opts.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' },
          },
        }
      : {}),
  });
}
