/**
 * The start-up sweep closes a crashed run's open calls once the journal is replayed, and keeps
 * trying while the database is down.
 */
import { jest } from '@jest/globals';
import { startCrashSweep } from '../../src/store/crash-sweep.js';

const quiet = { info() {}, warn() {} };

/** A sweep over a store that closes with `close` and an outbox whose journal holds `journalPending()`. */
function sweepWith(close: (id: string, at: string) => Promise<number>, journalPending: () => number) {
  return startCrashSweep({
    store: { closeCrashedConversations: close },
    outbox: { stats: () => ({ journalPending: journalPending() }) as never },
    instanceId: 'inst-1',
    startedAt: '2026-12-01T00:00:00.000Z',
    logger: quiet,
    retryMs: 1000,
  });
}

describe('the crashed-call sweep', () => {
  afterEach(() => jest.useRealTimers());

  it('waits for the journal to be replayed, then closes this instance’s old open calls once', async () => {
    jest.useFakeTimers();
    let journalPending = 3;
    const calls: [string, string][] = [];
    const sweep = sweepWith(
      async (id, at) => {
        calls.push([id, at]);
        return 2;
      },
      () => journalPending,
    );
    await jest.advanceTimersByTimeAsync(2500);
    expect(calls).toHaveLength(0);
    journalPending = 0;
    await jest.advanceTimersByTimeAsync(1000);
    await expect(sweep.done).resolves.toBe(2);
    await jest.advanceTimersByTimeAsync(5000);
    expect(calls).toEqual([['inst-1', '2026-12-01T00:00:00.000Z']]);
  });

  it('retries while the database refuses, and stops retrying when stopped', async () => {
    jest.useFakeTimers();
    let attempts = 0;
    const sweep = sweepWith(
      async () => {
        attempts++;
        throw new Error('connection refused');
      },
      () => 0,
    );
    await jest.advanceTimersByTimeAsync(2500);
    expect(attempts).toBe(3);
    sweep.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(attempts).toBe(3);
  });
});
