/**
 * The process logger (pino, JSON lines). Redacts anything that could carry a secret or a phone
 * number; audio never reaches it.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

/** Paths redacted from every log line. */
export const REDACT_PATHS = [
  'apiKey',
  'authToken',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'token',
  'key',
  'password',
  'from',
  'to',
  'From',
  'To',
  'payload',
];

/** Creates the root logger. Pretty output when stdout is a TTY and `pino-pretty` is installed. */
export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const pretty = (opts.pretty ?? process.stdout.isTTY) && hasPrettyPrinter();
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}

function hasPrettyPrinter(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
