import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * The gateway's logger. JSON lines through pino's asynchronous destination, so logging never blocks
 * the hot path. Redaction is a second line of defence: code must not pass tokens, keys or secrets
 * to a log in the first place.
 */
export function createLogger(options: { level: LevelWithSilent; destination?: number | string }): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          'headers.cookie',
          'headers["proxy-authorization"]',
          'key',
          '*.key',
          'token',
          '*.token',
          'client_secret',
          '*.client_secret',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: options.destination ?? 1, sync: false, minLength: 0 }),
  );
}

export type { Logger };
