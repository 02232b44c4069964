/**
 * When log lines are pretty-printed: a terminal outside production, or when asked, and only when
 * pino-pretty is installed (a production install has no devDependencies: JSON lines).
 */
import { prettyLogs } from '../../src/logger.js';

const tty = { isTTY: true, nodeEnv: undefined, hasPretty: true };

describe('the log format', () => {
  it('is readable on a terminal outside production by default', () => {
    expect(prettyLogs('auto', tty)).toBe(true);
  });

  it('is JSON off a terminal, in production, or when asked for JSON', () => {
    expect(prettyLogs('auto', { ...tty, isTTY: false })).toBe(false);
    expect(prettyLogs('auto', { ...tty, nodeEnv: 'production' })).toBe(false);
    expect(prettyLogs('json', tty)).toBe(false);
  });

  it('is readable when asked, even off a terminal, but JSON whenever pino-pretty is not installed', () => {
    expect(prettyLogs('pretty', { ...tty, isTTY: false, nodeEnv: 'production' })).toBe(true);
    expect(prettyLogs('pretty', { ...tty, hasPretty: false })).toBe(false);
    expect(prettyLogs('auto', { ...tty, hasPretty: false })).toBe(false);
  });
});
