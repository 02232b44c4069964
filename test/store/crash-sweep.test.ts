/**
 * The start-up sweep closes a crashed run's open calls once the journal is replayed, and keeps
 * trying while the database is down.
 */
import { jest } from '@jest/globals';
import { startCrashSweep } from '../../src/store/crash-sweep.js';

const quiet = { info() {}, warn() {} };

describe('the crashed-call sweep', () => {
  afterEach(() => jest.useRealTimers());

  it('waits for the journal to be replayed, then closes this instance’s old open calls once', async () => {
    jest.useFakeTimers();
    let journalPending = 3;
    const calls: [string, string][] = [];
    const sweep = startCrashSweep({
      store: {
        closeCrashedConversations: async (id, at) => {
          calls.push([id, at]);
          return 2;
        },
      },
      outbox: { stats: () => ({ journalPending }) as never },
      instanceId: 'inst-1',
      startedAt: '2026-12-01T00:00:00.000Z',
      logger: quiet,
      retryMs: 1000,
    });
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
    const sweep = startCrashSweep({
      store: {
        closeCrashedConversations: async () => {
          attempts++;
          throw new Error('connection refused');
        },
      },
      outbox: { stats: () => ({ journalPending: 0 }) as never },
      instanceId: 'inst-1',
      startedAt: '2026-12-01T00:00:00.000Z',
      logger: quiet,
      retryMs: 1000,
    });
    await jest.advanceTimersByTimeAsync(2500);
    expect(attempts).toBe(3);
    sweep.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(attempts).toBe(3);
  });
});
