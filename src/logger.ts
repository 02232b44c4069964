/**
 * The process logger (pino): JSON lines, or readable lines on a terminal. Redacts anything that could carry a secret or a phone
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

/** How log lines are written: JSON lines, readable lines (pino-pretty), or decided at start. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Keys every line of a call carries, shown first on a readable line instead of below it. */
const CALL_PREFIX = '{if conversationId}[{conversationId}] {end}{if callSid}({callSid}) {end}';

/**
 * Whether lines are pretty-printed: `pretty` asks for it; `auto` (the default) when stdout is a
 * terminal and NODE_ENV is not `production`. Either way only when `pino-pretty` is installed: it
 * is a devDependency, so a production install (`npm ci --omit=dev`, the container image) always
 * writes JSON lines, whatever the terminal.
 */
export function prettyLogs(
  format: LogFormat,
  env: { isTTY: boolean; nodeEnv: string | undefined; hasPretty: boolean },
): boolean {
  if (!env.hasPretty || format === 'json') return false;
  return format === 'pretty' || (env.isTTY && env.nodeEnv !== 'production');
}

/**
 * Creates the root logger (see {@link prettyLogs}). Readable lines start with the call's ids
 * (`[conversationId] (callSid)`), then the component and the message.
 */
export function createLogger(level: string, opts: { pretty?: boolean; format?: LogFormat } = {}): Logger {
  const pretty =
    opts.pretty !== undefined
      ? opts.pretty && hasPrettyPrinter()
      : prettyLogs(opts.format ?? 'auto', {
          isTTY: Boolean(process.stdout.isTTY),
          nodeEnv: process.env.NODE_ENV,
          hasPretty: hasPrettyPrinter(),
        });
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: Boolean(process.stdout.isTTY),
              translateTime: 'HH:MM:ss.l',
              ignore: 'pid,hostname,conversationId,callSid,component',
              messageFormat: `${CALL_PREFIX}{if component}{component}: {end}{msg}`,
            },
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
