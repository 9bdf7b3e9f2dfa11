import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line: credentials, keys and passphrases wherever they sit.
 * Domain code MUST NOT log key material in any other field.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.passphrase',
  '*.password',
  '*.privateKey',
  '*.secret',
  '*.token',
  'passphrase',
  'password',
  'privateKey',
  'secret',
  'token',
];

/** Structured JSON logs (one object per line) on stderr, or on `destination` in tests. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'chancery' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(2),
  );
}
